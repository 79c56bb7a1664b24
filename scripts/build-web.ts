// Builds the browser app (src/web → dist/web) when it is missing or older than its sources.
// `npm start` runs this first so the README's one command serves the pages; the browser
// tests call it too. Without vite (a production install without dev dependencies) an
// existing build is used as it is.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const source = join(repo, 'src/web');
// The pages call the server through the SDK, bundled from its sources.
const sdk = join(repo, 'packages/client/src');
const built = join(repo, 'dist/web/index.html');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function webBuildNeeded(): boolean {
  return !existsSync(built) || statSync(built).mtimeMs < Math.max(newestMtime(source), newestMtime(sdk));
}

function viteBin(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('vite/package.json', { paths: [repo] });
    return join(pkg, '..', 'bin', 'vite.js');
  } catch {
    return null;
  }
}

/** Builds when needed; returns false when a build was needed but could not be made. */
export function ensureWebBuilt(opts: { quiet?: boolean } = {}): boolean {
  if (!webBuildNeeded()) return true;
  const vite = viteBin();
  if (!vite) {
    console.warn(existsSync(built)
      ? 'twofold: vite is not installed; serving the existing web build in dist/web.'
      : 'twofold: vite is not installed, so the web pages cannot be built (npm install, then npm run build:web).');
    return existsSync(built);
  }
  const run = spawnSync(process.execPath, [vite, 'build', '--config', join(source, 'vite.config.ts'), '--logLevel', opts.quiet ? 'error' : 'warn'], {
    cwd: repo, stdio: 'inherit',
  });
  return run.status === 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!ensureWebBuilt()) {
    console.error('twofold: building the web pages failed; the API still starts, the pages say how to build them.');
  }
}
