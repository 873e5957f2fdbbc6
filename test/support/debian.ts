import { execFileSync, spawnSync } from 'node:child_process';

/**
 * The path of `command` on PATH; when it is missing and we are root, installs the Debian package
 * `pkg` that ships it (`apt-get install -y --no-install-recommends`). Throws a one-line error otherwise.
 */
export function debianBinary(command: string, pkg: string): string {
  const find = (): string | undefined => {
    const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
    return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : undefined;
  };
  const present = find();
  if (present !== undefined) return present;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) throw new Error(`${command} is missing and we are not root: install it (apt-get install -y ${pkg}) and run the test again`);
  try {
    execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'ignore', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    throw new Error(`${command} is missing and "apt-get install -y ${pkg}" failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const installed = find();
  if (installed === undefined) throw new Error(`installed the ${pkg} package but ${command} is still not on PATH`);
  return installed;
}
