import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';

/** `npm start` as a user runs it: a real process, real HTTP on loopback, real signals. */
let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
});

async function startTroupe(env: Record<string, string>, dataDir = mkdtempSync(join(tmpdir(), 'troupe-main-'))): Promise<{ port: number; lines: string[] }> {
  child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TROUPE_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const reader = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      try {
        const entry = JSON.parse(line) as { message?: string; 'server.port'?: number };
        if (entry.message?.startsWith('Troupe is trading') && entry['server.port']) resolve(entry['server.port']);
      } catch {
        // not JSON: ignore
      }
    });
    child!.once('exit', (code) => reject(new Error(`troupe exited with ${code}: ${stderr.join('')}`)));
  });
  return { port, lines };
}

async function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: await response.text() };
}

/** Entries under `root` (itself included; symbolic links left out) that group or others may use: `path mode`. */
function openToOthers(root: string): string[] {
  const open: string[] = [];
  const visit = (path: string): void => {
    const stats = lstatSync(path);
    if (stats.isSymbolicLink()) return;
    if (stats.mode & 0o077) open.push(`${path} ${(stats.mode & 0o777).toString(8)}`);
    if (stats.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  visit(root);
  return open;
}

const ADMIN = { ADMIN_USER: 'ops', ADMIN_PASSWORD: 'main-process-test-password' };

async function loginAsAdmin(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.ADMIN_USER, password: ADMIN.ADMIN_PASSWORD }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

async function orderIds(port: number, token: string): Promise<string[]> {
  const body = JSON.parse((await get(port, '/api/v1/orders?limit=200', token)).body) as { items: { clientOrderId: string }[] };
  return body.items.map((order) => order.clientOrderId);
}

describe('npm start (src/main.ts)', () => {
  it('trades on the synthetic market within seconds (at 300× market speed: the demo trades closed minute bars after a warm-up), serves health and metrics, and stops cleanly on SIGTERM', async () => {
    const started = Date.now();
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-main-'));
    const { port, lines } = await startTroupe({ TROUPE_MARKET_SPEED: '300', TROUPE_ALLOW_FAULT_INJECTION: 'true', ...ADMIN }, dataDir);

    const health = await get(port, '/api/v1/health');
    expect(JSON.parse(health.body)).toMatchObject({ checks: { actors: { ok: true }, persistence: { ok: true, journal: 'ok', redis: 'not configured' } } });

    await eventually(
      async () => {
        const metrics = await get(port, '/metrics');
        const fills = /^troupe_fills_total (\d+)/m.exec(metrics.body);
        expect(Number(fills?.[1] ?? 0)).toBeGreaterThan(0);
      },
      { timeoutMs: 10_000 },
    );
    expect(Date.now() - started).toBeLessThan(15_000);

    const metrics = (await get(port, '/metrics')).body;
    for (const name of [
      'troupe_ticks_total',
      'troupe_orders_total',
      'troupe_fills_total',
      'troupe_actor_restarts',
      'troupe_actor_mailbox_depth',
      'troupe_tick_to_order_seconds_bucket',
    ]) {
      expect(metrics).toContain(name);
    }
    // health and metrics are public; the rest needs a token (the first admin comes from ADMIN_USER/ADMIN_PASSWORD)
    expect((await get(port, '/api/v1/positions')).status).toBe(401);
    const token = await loginAsAdmin(port);
    const positions = JSON.parse((await get(port, '/api/v1/positions', token)).body) as {
      portfolios: { summary: { equityPaise: number; cashPaise: number; marketValuePaise: number } }[];
    };
    const summary = positions.portfolios[0]!.summary;
    expect(summary.cashPaise + summary.marketValuePaise).toBe(summary.equityPaise);
    expect((await get(port, '/api/v1/nope')).status).toBe(404);

    // crash a symbol actor through the API: it restarts while the others keep trading
    const crash = await fetch(`http://127.0.0.1:${port}/api/v1/actors/fault?path=/market/INFY`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(crash.status).toBe(202);
    await eventually(async () => {
      const tree = JSON.parse((await get(port, '/api/v1/actors', token)).body) as {
        tree: { path: string; children: { path: string; restarts: number; status: string }[] }[];
      };
      const infy = tree.tree.find((group) => group.path === '/market')?.children.find((actor) => actor.path === '/market/INFY');
      expect(infy).toMatchObject({ restarts: 1, status: 'running' });
    });

    const idsBefore = await orderIds(port, token);
    expect(idsBefore.length).toBeGreaterThan(0);
    const stopAt = Date.now();
    child!.kill('SIGTERM');
    const [code] = (await once(child!, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(10_000);
    expect(lines.some((line) => line.includes('stopped cleanly'))).toBe(true);

    // started again on the same data directory, it carries on where it stopped
    const again = await startTroupe({ TROUPE_MARKET_SPEED: '300', ...ADMIN }, dataDir);
    const restoredLine = again.lines
      .map((line) => JSON.parse(line) as { message?: string; 'troupe.context.restored'?: number })
      .find((entry) => entry.message === 'restored actor state from the last run');
    expect(restoredLine?.['troupe.context.restored']).toBe(1 + 1 + 1 + 1 + 1 + 1 + 50); // portfolio, execution, risk, regime, aggregator, strategy, 50 symbols
    const token2 = await loginAsAdmin(again.port);
    const after = JSON.parse((await get(again.port, '/api/v1/positions', token2)).body) as { portfolios: { summary: { cashPaise: number } }[] };
    expect(after.portfolios[0]!.summary.cashPaise).not.toBe(10_000_000 * 100); // it traded before the restart
    const idsAfter = await orderIds(again.port, token2);
    // the orders of the first run are still known, and no client order id was used twice
    const known = new Set(idsAfter);
    expect(idsBefore.filter((id) => known.has(id)).length).toBeGreaterThan(0);
    expect(known.size).toBe(idsAfter.length);
    child!.kill('SIGTERM');
    expect(((await once(child!, 'exit')) as [number | null])[0]).toBe(0);
  });

  it('makes a data directory left open to everyone (0777, 0666 files) owner-only at start, says so, and keeps it so (issue #15, item 7)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-main-'));
    mkdirSync(join(dataDir, 'kite'));
    writeFileSync(join(dataDir, 'kite', 'note.json'), '{}');
    chmodSync(join(dataDir, 'kite', 'note.json'), 0o666);
    chmodSync(join(dataDir, 'kite'), 0o777);
    chmodSync(dataDir, 0o777);
    const { lines } = await startTroupe(ADMIN, dataDir);
    const warning = lines
      .map((line) => JSON.parse(line) as { message?: string; 'troupe.context.fixed'?: number })
      .find((entry) => entry.message?.startsWith('the data directory was open to other users'));
    expect(warning?.['troupe.context.fixed']).toBe(3);
    // running: the embedded database (its WAL with password hashes), the secret key, the lock: all owner-only
    expect(openToOthers(dataDir)).toEqual([]);
    child!.kill('SIGTERM');
    expect(((await once(child!, 'exit')) as [number | null])[0]).toBe(0);
    expect(openToOthers(dataDir)).toEqual([]);
  }, 60_000);

  it('refuses a bad setting with a message that names it', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('PORT must be an integer');
  });

  it('prints usage for --help', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: npm start --');
    expect(stdout).toContain('--port');
  });
});
