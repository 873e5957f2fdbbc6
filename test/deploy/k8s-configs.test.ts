import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { debianBinary } from '../support/debian.js';
import { freePort } from '../support/services.js';
import { REPO } from './deploy-checks.js';

// The configuration files deploy/k8s ships, run by the real servers installed here (Redis 7,
// nats-server): a typo in them would otherwise surface only in a cluster. The start scripts'
// DNS-dependent parts (the master's host name from the Sentinels) are replaced by loopback.

const BASE = join(REPO, 'deploy/k8s/base');
const scratch = mkdtempSync(join(tmpdir(), 'troupe-k8s-configs-'));
const children: ChildProcess[] = [];
/** Stops for servers a signal to their child process does not reach (PostgreSQL under runuser). */
const stoppers: (() => void)[] = [];
afterAll(() => {
  for (const stop of stoppers) stop();
  for (const child of children) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

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
    const result = spawnSync(debianBinary('nats-server', 'nats-server'), ['-c', join(BASE, 'nats/nats.conf'), '-t'], { env: { ...process.env, SERVER_NAME: 'nats-0' }, encoding: 'utf8' });
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
    const redisServer = debianBinary('redis-server', 'redis-server');
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

  it('PostgreSQL streams from the primary to a replica made by the manifests\' own init script and clone command', async () => {
    const bin = process.env.TROUPE_PG_BIN ?? '/usr/lib/postgresql/15/bin';
    const root = process.getuid?.() === 0;
    // PostgreSQL refuses to run as root: as the postgres user then, in a directory it owns
    const dir = join(scratch, 'pg');
    execFileSync('mkdir', ['-p', join(dir, 'sockets')]);
    if (root) execFileSync('chown', ['-R', 'postgres:postgres', scratch]);
    const run = (command: string, args: string[], env: Record<string, string> = {}): string => {
      const [file, list] = root ? ['runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), command, ...args]] : [command, args];
      return execFileSync(file, list, { encoding: 'utf8', env: { ...process.env, ...env }, stdio: 'pipe', timeout: 120_000 });
    };
    const serve = (args: string[]): ChildProcess => {
      // runuser does not pass SIGKILL on: stop the server itself (immediate mode, as a crash would)
      const dataDir = args[args.indexOf('-D') + 1]!;
      stoppers.push(() => {
        try {
          run(join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']);
        } catch {
          // already stopped (or never started): nothing to do
        }
      });
      return start(root ? 'runuser' : join(bin, 'postgres'), root ? ['-u', 'postgres', '--', join(bin, 'postgres'), ...args] : args);
    };
    const password = 'primary-password-0123456789';
    const replicationPassword = 'replication-password-0123456789';
    const primaryPort = await freePort();
    const replicaPort = await freePort();
    const sockets = join(dir, 'sockets');
    const manifest = (file: string): { spec: { template: { spec: { containers: { args: string[] }[]; initContainers?: { command: string[] }[] } } } } =>
      parseYaml(readFileSync(join(BASE, 'postgres', file), 'utf8')) as never;

    // the primary as the postgres image initialises it: local trust, passwords over TCP, then the init script
    writeFileSync(join(dir, 'pwfile'), password);
    if (root) execFileSync('chown', ['postgres:postgres', join(dir, 'pwfile')]);
    run(join(bin, 'initdb'), ['-D', join(dir, 'primary'), '-U', 'troupe', '--pwfile', join(dir, 'pwfile'), '--auth-local=trust', '--auth-host=scram-sha-256', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const primaryArgs = manifest('primary.yaml').spec.template.spec.containers[0]!.args;
    serve(['-D', join(dir, 'primary'), '-p', String(primaryPort), '-k', sockets, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', ...primaryArgs]);
    const primary = new pg.Client({ host: '127.0.0.1', port: primaryPort, user: 'troupe', password, database: 'postgres' });
    await eventually(() => run('pg_isready', ['-h', '127.0.0.1', '-p', String(primaryPort)]), { timeoutMs: 30_000, intervalMs: 100 });
    run('sh', [join(BASE, 'postgres/10-replication.sh')], { POSTGRES_USER: 'troupe', POSTGRES_DB: 'postgres', PGHOST: sockets, PGPORT: String(primaryPort), PGDATA: join(dir, 'primary'), REPLICATION_PASSWORD: replicationPassword });
    await primary.connect();
    try {
      await primary.query('SELECT pg_reload_conf()');
      expect((await primary.query<{ wal_level: string }>('SHOW wal_level')).rows[0]!.wal_level).toBe('replica');

      // the replica's init container, as written in replica.yaml (the primary's host and port moved to loopback)
      const clone = manifest('replica.yaml').spec.template.spec.initContainers![0]!.command;
      expect(clone.slice(0, 2)).toEqual(['sh', '-c']);
      const script = clone[2]!.replaceAll('postgres-primary', '127.0.0.1').replace('-p 5432', `-p ${primaryPort}`);
      // the init script's pg_hba line: replication connections of replicator, with a password
      const rules = await primary.query<{ type: string; database: string[]; user_name: string[]; auth_method: string }>('SELECT type, database, user_name, auth_method FROM pg_hba_file_rules');
      expect(rules.rows).toContainEqual({ type: 'host', database: ['replication'], user_name: ['replicator'], auth_method: 'scram-sha-256' });
      run('sh', ['-c', script], { PGDATA: join(dir, 'replica'), PGPORT: String(primaryPort), REPLICATION_PASSWORD: replicationPassword });
      expect(readFileSync(join(dir, 'replica', 'postgresql.auto.conf'), 'utf8')).toMatch(/primary_conninfo/);
      const replicaArgs = manifest('replica.yaml').spec.template.spec.containers[0]!.args;
      serve(['-D', join(dir, 'replica'), '-p', String(replicaPort), '-k', sockets, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', ...replicaArgs]);

      await primary.query('CREATE TABLE streamed (id integer)');
      await primary.query('INSERT INTO streamed VALUES (42)');
      await eventually(() => run('pg_isready', ['-h', '127.0.0.1', '-p', String(replicaPort)]), { timeoutMs: 60_000, intervalMs: 100 });
      const replica = new pg.Client({ host: '127.0.0.1', port: replicaPort, user: 'troupe', password, database: 'postgres' });
      await replica.connect();
      try {
        expect((await replica.query<{ recovery: boolean }>('SELECT pg_is_in_recovery() AS recovery')).rows[0]!.recovery).toBe(true);
        await eventually(async () => expect((await replica.query<{ id: number }>('SELECT id FROM streamed')).rows).toEqual([{ id: 42 }]), { timeoutMs: 30_000, intervalMs: 100 });
        const senders = await primary.query<{ usename: string; state: string }>('SELECT usename, state FROM pg_stat_replication');
        expect(senders.rows).toEqual([{ usename: 'replicator', state: 'streaming' }]);
        // a hot standby refuses writes
        await expect(replica.query('INSERT INTO streamed VALUES (1)')).rejects.toThrow(/read-only/);
      } finally {
        await replica.end();
      }
    } finally {
      await primary.end();
    }
  }, 120_000);
});
