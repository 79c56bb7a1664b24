#!/usr/bin/env node
// The `twofold` command: loads the TypeScript sources through tsx, like `npm start` does.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// exitCode rather than exit(): stdout may still be flushing into a pipe.
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
