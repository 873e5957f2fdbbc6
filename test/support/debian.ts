/**
 * Debian binaries for tests: the one place that finds a command on PATH and, when it is missing
 * and we are root, installs the Debian package that ships it. `prometheus-tools.ts` builds its
 * named finders (promtool, prometheus, Alertmanager, amtool) on it.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** Packages this process already tried to install (each at most once). */
const attempted = new Set<string>();

function onPath(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/**
 * The path of `command` (or of the first of several alternative names found) on PATH; when it is
 * missing and we are root, installs the Debian package `pkg` that ships it
 * (`apt-get install -y --no-install-recommends`, once per process and package). Throws a
 * one-line error otherwise.
 */
export function debianBinary(command: string | readonly string[], pkg: string): string {
  const names = typeof command === 'string' ? [command] : command;
  const name = names[0] ?? pkg;
  const find = (): string | undefined => names.map(onPath).find((path) => path !== undefined);
  const present = find();
  if (present !== undefined) return present;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) throw new Error(`${name} is missing and we are not root: install it (apt-get install -y ${pkg}) and run the test again`);
  if (!attempted.has(pkg)) {
    attempted.add(pkg);
    try {
      execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
        stdio: 'ignore',
        timeout: 600_000,
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } catch (error) {
      throw new Error(`${name} is missing and "apt-get install -y ${pkg}" failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const installed = find();
  if (installed === undefined) throw new Error(`installed the ${pkg} package but ${name} is still not on PATH`);
  return installed;
}
