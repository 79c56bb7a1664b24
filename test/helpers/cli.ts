import { main } from '../../src/cli/main.ts';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `twofold <args>` in this process through the same `main` as bin/twofold.js, with
 * `env` as its whole environment (nothing leaks in from the test runner's).
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; }, env });
  return { code, stdout, stderr };
}
