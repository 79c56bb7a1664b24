import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  lines: string[];
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

/** `npm start`'s entry in a child process; resolves once it logs that it is listening. */
export async function spawnServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', TWOFOLD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${lines.join('\n')}`)), timeoutMs);
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        try {
          const parsed = JSON.parse(line);
          if (parsed.msg === 'Twofold is listening') { clearTimeout(timer); resolve(parsed.url); }
        } catch { /* not a log line */ }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited (${code}) before listening: ${lines.join('\n')}`)); });
  });
  return { proc, url, lines, exited };
}

/** Runs bin/twofold.js in a child process to completion (in-process: test/helpers/cli.ts). */
export function spawnCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['bin/twofold.js', ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs `npm start`'s entry expecting it to fail at start-up. */
export function runServerExpectingFailure(env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', PORT: '0', ...env } });
    let output = '';
    proc.stdout.on('data', (d) => { output += d; });
    proc.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, output }); });
  });
}
