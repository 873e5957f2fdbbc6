/**
 * Builds the dashboard into `ui/dist` when it is missing or older than its sources.
 * Run by `npm install`/`npm ci` (postinstall) and before `npm start` (prestart), so a new
 * user never starts the gateway without a desk; `--force` always builds (`npm run build:ui`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';

const uiDir = fileURLToPath(new URL('..', import.meta.url));
const rootDir = join(uiDir, '..');
const builtIndex = join(uiDir, 'dist', 'index.html');
/** Sources the bundle is made of (the UI, the pure model and the gateway's typed client). */
const sources = [
  join(uiDir, 'src'),
  join(uiDir, 'index.html'),
  join(uiDir, 'vite.config.ts'),
  join(rootDir, 'src', 'model'),
  join(rootDir, 'src', 'gateway', 'client'),
  join(rootDir, 'package-lock.json'),
];

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

function staleReason(): string | undefined {
  if (!existsSync(builtIndex)) return 'ui/dist is missing';
  const builtAtMs = statSync(builtIndex).mtimeMs;
  const newer = sources.find((source) => newestMtimeMs(source) > builtAtMs);
  return newer ? `${relative(rootDir, newer)} changed since the last build` : undefined;
}

const force = process.argv.includes('--force');
const reason = force ? 'asked to' : staleReason();
if (reason === undefined) {
  process.stdout.write('dashboard: ui/dist is up to date\n');
} else {
  const viteBin = join(rootDir, 'node_modules', 'vite', 'bin', 'vite.js');
  if (!existsSync(viteBin)) {
    process.stderr.write('dashboard: vite is not installed; run npm install to build the desk (the API works without it)\n');
    process.exit(0);
  }
  process.stdout.write(`dashboard: building ui/dist (${reason})…\n`);
  const startedMs = Date.now();
  const result = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'warn', '--config', join(uiDir, 'vite.config.ts')], {
    cwd: uiDir,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write(`dashboard: the build failed (exit ${String(result.status)}); the API still works, the desk does not\n`);
    process.exit(result.status ?? 1);
  }
  const compressed = precompress(join(uiDir, 'dist'));
  process.stdout.write(`dashboard: built ui/dist in ${((Date.now() - startedMs) / 1000).toFixed(1)} s (${compressed} files pre-compressed)\n`);
}

/**
 * Writes `.br` and `.gz` beside every text asset of the build, so the gateway serves them
 * compressed without compressing per request (`preCompressed` of @fastify/static).
 */
function precompress(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(js|css|html|svg|json|map)$/.test(entry.name)) continue;
    const file = join(entry.parentPath, entry.name);
    const body = readFileSync(file);
    if (body.length < 1024) continue;
    writeFileSync(`${file}.br`, brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 } }));
    writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
    count += 1;
  }
  return count;
}
