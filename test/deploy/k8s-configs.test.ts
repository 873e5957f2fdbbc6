import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { freePort } from '../support/services.js';
import { REPO } from './deploy-checks.js';

// The configuration files deploy/k8s ships, run by the real servers installed here (Redis 7,
// nats-server): a typo in them would otherwise surface only in a cluster. The start scripts'
// DNS-dependent parts (the master's host name from the Sentinels) are replaced by loopback.

const BASE = join(REPO, 'deploy/k8s/base');
const scratch = mkdtempSync(join(tmpdir(), 'troupe-k8s-configs-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * `command` on PATH; installs Debian's `pkg` when it is missing and we are root. (The same as the
 * logs branch's test/support/debian.ts `debianBinary`: use that once both are merged.)
 */
function binary(command: string, pkg: string): string {
  const find = (): string => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim();
  if (find() !== '') return find();
  if (process.getuid?.() !== 0) throw new Error(`${command} is missing and we are not root: apt-get install -y ${pkg}`);
  spawnSync('apt-get', ['update'], { stdio: 'ignore', timeout: 300_000 });
  spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'ignore', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (find() === '') throw new Error(`apt-get install -y ${pkg} did not put ${command} on PATH`);
  return find();
}

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.on('exit', (code) => {
    if (code !== null && code !== 0) console.error(`${command} exited ${code}: ${output.slice(-2000)}`);
  });
  children.push(child);
  return child;
}

describe('deploy/k8s configuration files on the real servers', () => {
  it('nats-server accepts nats.conf (JetStream, cluster routes, the pod name as server_name)', () => {
    const result = spawnSync(binary('nats-server', 'nats-server'), ['-c', join(BASE, 'nats/nats.conf'), '-t'], { env: { ...process.env, SERVER_NAME: 'nats-0' }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(`${result.stdout}${result.stderr}`).toMatch(/valid/);
  });

  it('redis.conf runs a master with AOF and noeviction behind a password, and a Sentinel from sentinel.conf watches it', async () => {
    const password = 'a-test-password-0123456789abcdef';
    const redisPort = await freePort();
    const sentinelPort = await freePort();
    // redis-start.sh: the shipped file plus the password lines (the port and directory moved to loopback/temp)
    const redisConf = join(scratch, 'redis.conf');
    const shipped = readFileSync(join(BASE, 'redis/redis.conf'), 'utf8');
    // its data directory is the StatefulSet's volume (Redis checks the directory as it parses)
    expect(shipped).toMatch(/^dir \/data$/m);
    expect(readFileSync(join(BASE, 'redis/redis.yaml'), 'utf8')).toMatch(/- name: data\n\s+mountPath: \/data\n/);
    writeFileSync(redisConf, shipped.replace(/^dir \/data$/m, `dir ${scratch}`));
    appendFileSync(redisConf, `requirepass ${password}\nmasterauth ${password}\nreplica-announce-ip 127.0.0.1\n`);
    const redisServer = binary('redis-server', 'redis-server');
    start(redisServer, [redisConf, '--port', String(redisPort), '--bind', '127.0.0.1']);
    // sentinel-start.sh: the shipped file plus the monitor lines (the master on loopback)
    const sentinelConf = join(scratch, 'sentinel.conf');
    copyFileSync(join(BASE, 'redis/sentinel.conf'), sentinelConf);
    appendFileSync(
      sentinelConf,
      [`sentinel monitor troupe 127.0.0.1 ${redisPort} 1`, `sentinel auth-pass troupe ${password}`, 'sentinel down-after-milliseconds troupe 5000', 'sentinel failover-timeout troupe 60000', 'sentinel parallel-syncs troupe 1', ''].join('\n'),
    );
    start(redisServer, [sentinelConf, '--sentinel', '--port', String(sentinelPort), '--bind', '127.0.0.1', '--dir', scratch]);

    const redis = new Redis({ port: redisPort, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    const sentinel = new Redis({ port: sentinelPort, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    // connection errors while the servers start are expected: the polls below retry
    redis.on('error', () => undefined);
    sentinel.on('error', () => undefined);
    try {
      await eventually(async () => expect(await redis.ping()).toBe('PONG'), { timeoutMs: 20_000 });
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await redis.config('GET', 'maxmemory')).toEqual(['maxmemory', String(512 * 1024 * 1024)]);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      // without the password, nothing
      const anonymous = await new Promise<string>((resolve, reject) => {
        const socket = connect(redisPort, '127.0.0.1', () => socket.write('PING\r\n'));
        socket.once('data', (chunk) => {
          resolve(chunk.toString());
          socket.destroy();
        });
        socket.once('error', reject);
      });
      expect(anonymous).toMatch(/^-NOAUTH/);
      // the Sentinel knows the master and reaches it with the password (flags without s_down)
      await eventually(
        async () => {
          const master = (await sentinel.call('SENTINEL', 'MASTER', 'troupe')) as string[];
          const fields = Object.fromEntries(master.flatMap((value, index) => (index % 2 === 0 ? [[value, master[index + 1]]] : [])));
          expect(fields).toMatchObject({ name: 'troupe', port: String(redisPort), flags: 'master' });
        },
        { timeoutMs: 20_000 },
      );
      expect(readFileSync(sentinelConf, 'utf8')).toMatch(/sentinel resolve-hostnames yes/);
    } finally {
      redis.disconnect();
      sentinel.disconnect();
    }
  });
});
