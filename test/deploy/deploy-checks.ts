/**
 * What the Kubernetes and docker-compose tests share: the repository's paths, the environment
 * variables src/config reads, and the Secrets' sources that git does not hold.
 */

import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO = resolve(new URL('../..', import.meta.url).pathname);

/**
 * Every environment variable src/config reads, found in its source (`env.NAME`, `env['NAME']`
 * and the `integer(env, 'NAME', …)`-style helpers, which all take the name as a string literal).
 */
export function configVariables(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(REPO, 'src/config')).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(REPO, 'src/config', file), 'utf8');
    for (const match of source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\[\s*'([A-Z][A-Z0-9_]+)'\s*\])/g)) names.add((match[1] ?? match[2])!);
    for (const match of source.matchAll(/\(\s*(?:env\s*,\s*)?'([A-Z][A-Z0-9_]+)'/g)) names.add(match[1]!);
  }
  return names;
}

/** Variables a Troupe container may carry that src/config does not read, and why. */
export const NOT_CONFIG: Readonly<Record<string, string>> = {
  NODE_OPTIONS: 'read by Node itself (the V8 heap limit)',
  NODE_ENV: 'set by the Dockerfile',
};

/**
 * Reads a file of the repository; a Secret's source that git ignores (`secrets/x.env`,
 * `secrets/alertmanager/y`) is made from its committed `.example`, every placeholder replaced by
 * 32 random bytes in hex (which meets every length and format rule src/config has). Only those
 * paths are made up: any other missing file is an error.
 */
export function readWithSecrets(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  if (!/\/secrets\//.test(path) || !existsSync(`${path}.example`)) throw new Error(`missing file ${path}`);
  return readFileSync(`${path}.example`, 'utf8').replace(/CHANGE_ME/g, () => randomBytes(32).toString('hex'));
}

/** CPU in millicores ("500m", "2", "0.5"). */
export function cpuMillis(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(quantity));
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  return match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
}

/** Memory in bytes ("512Mi", "2Gi", "1G"). */
export function memoryBytes(quantity: string | number): number {
  const match = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  const unit = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] ?? '']!;
  return Number(match[1]) * unit;
}

/** Whether an image reference is pinned: a digest, or a tag that names a version (not latest, not absent). */
export function pinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  if (colon <= slash) return false;
  const tag = image.slice(colon + 1);
  return tag !== 'latest' && /^v?\d+(\.\d+)+/.test(tag);
}

/** Files directly in a directory of the repository with one of the extensions, sorted. */
export function filesIn(directory: string, extensions: readonly string[]): string[] {
  const absolute = join(REPO, directory);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute)
    .filter((name) => extensions.some((extension) => name.endsWith(extension)))
    .sort()
    .map((name) => `${directory}/${name}`);
}
