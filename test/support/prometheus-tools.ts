/**
 * Prometheus' binaries for tests, from Debian's packages: `prometheus` ships `prometheus` and
 * `promtool`, `prometheus-alertmanager` ships `prometheus-alertmanager` (upstream's
 * `alertmanager`) and `amtool`. Each function returns the absolute path of the binary on PATH;
 * when it is missing and we are root it runs `apt-get install -y --no-install-recommends PKG`
 * once (per process and package), otherwise it fails naming what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';

const installed = new Set<string>();

function onPath(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

/** The binary `commands[0]` (or the first of its alternatives found), installing Debian's `pkg` when missing and root. */
function debianBinary(commands: readonly string[], pkg: string): string {
  const find = (): string | undefined => commands.map(onPath).find((path) => path !== undefined);
  const found = find();
  if (found !== undefined) return found;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) throw new Error(`${commands[0]} is missing and we are not root: install it (apt-get install -y ${pkg}, or the upstream release tarball) and run the test again`);
  if (!installed.has(pkg)) {
    installed.add(pkg);
    try {
      execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'ignore', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (error) {
      throw new Error(`${commands[0]} is missing and "apt-get install -y ${pkg}" failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const after = find();
  if (after === undefined) throw new Error(`installed the ${pkg} package but ${commands[0]} is still not on PATH`);
  return after;
}

/** `promtool` (package `prometheus`). */
export function promtool(): string {
  return debianBinary(['promtool'], 'prometheus');
}

/** The Prometheus server (package `prometheus`). */
export function prometheusBinary(): string {
  return debianBinary(['prometheus'], 'prometheus');
}

/** Alertmanager: Debian names it `prometheus-alertmanager`, upstream `alertmanager` (package `prometheus-alertmanager`). */
export function alertmanagerBinary(): string {
  return debianBinary(['prometheus-alertmanager', 'alertmanager'], 'prometheus-alertmanager');
}

/** `amtool` (package `prometheus-alertmanager`). */
export function amtool(): string {
  return debianBinary(['amtool'], 'prometheus-alertmanager');
}
