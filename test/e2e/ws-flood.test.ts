/**
 * The WebSocket flood of issue #15 against a real server (a child process: its RSS and its
 * event loop are its own) over loopback with real `ws` clients: a viewer that stops reading
 * (its socket paused) sends 1,500 subscribe/unsubscribe pairs asking for a ~350 KB snapshot
 * each time. The server's RSS must stay within a bound, a well-behaved client must keep
 * getting its events (lag from placing an order to its `submitted` event under 100 ms), and
 * the slow client must be conflated or closed (counted in /metrics). Before the fix every
 * answer was written regardless of what the socket held: RSS grew by about a gigabyte and
 * every other client stalled for seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { eventually } from '../../src/actors/core/index.js';

const PAIRS = 1_500;
/** Peak RSS growth of the server during the flood. Measured after the fix: +1.5–2.5 MB; before it: +314 MB and more (1 GB in the issue). */
const RSS_GROWTH_BOUND_MB = 64;
/**
 * Placing an order → its `submitted` event on a well-behaved client, 95th percentile (the same
 * path without any flood measures p50 5–12 ms, p95 30–60 ms, max 80–90 ms on the shared 2-core
 * machine at load 17: one scheduler hiccup must not decide), and the worst one (before the fix: 3.8 s).
 */
const LAG_P95_BOUND_MS = 100;
const LAG_MAX_BOUND_MS = 1_000;
/** How long orders keep being placed while the flood goes on and after it. */
const PLACING_MS = 4_000;

let child: ChildProcess | undefined;
const sockets: WebSocket[] = [];
afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
});

interface Started {
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

async function startServer(): Promise<Started> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/support/ws-flood-server.ts'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  child = proc;
  const lines = createInterface({ input: proc.stdout! });
  return new Promise<Started>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`the flood server exited with ${code} before it was ready`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as Started));
  });
}

function serverRss(): Promise<number> {
  return new Promise((resolve) => {
    child!.once('message', (message: { rss: number }) => resolve(message.rss));
    child!.send('rss');
  });
}

function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('message', () => resolve(socket)); // the welcome
    socket.once('error', reject);
  });
}

const ALL_TOPICS = ['orders', 'positions', 'pnl', 'risk-alerts', 'actors', 'quotes:INFY', 'quotes:TCS', 'quotes:SBIN'];

describe('WebSocket flood (issue #15, item 2)', () => {
  it('a client that stops reading and floods subscribe/unsubscribe with snapshots keeps RSS bounded and other clients live, and is conflated or closed', async () => {
    const startedAt = performance.now();
    const server = await startServer();
    const base = `http://127.0.0.1:${server.port}`;
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: server.username, password: server.password }),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    const headers = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
    const streamUrl = `ws://127.0.0.1:${server.port}/api/v1/stream?token=${accessToken}`;

    // a well-behaved client: when did each order's `submitted` event arrive?
    const good = await open(streamUrl);
    const received = new Map<string, number>();
    let snapshotBytes = 0;
    good.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string; topic?: string; data?: { event?: string; order?: { clientOrderId: string } } };
      if (message.type === 'snapshot') snapshotBytes = data.length;
      if (message.type === 'event' && message.topic === 'orders' && message.data?.event === 'submitted' && message.data.order)
        received.set(message.data.order.clientOrderId, performance.now());
    });
    good.send(JSON.stringify({ type: 'subscribe', topics: ALL_TOPICS, snapshot: true }));
    await eventually(() => expect(snapshotBytes).toBeGreaterThan(250_000), { timeoutMs: 10_000 }); // ~300 KB here, ~350 KB in the issue

    const placed = new Map<string, number>();
    const place = async (): Promise<void> => {
      const sentAt = performance.now();
      const response = await fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ symbol: 'INFY', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPricePaise: 95_000, product: 'CNC' }),
      });
      expect(response.status).toBe(201);
      placed.set(((await response.json()) as { clientOrderId: string }).clientOrderId, sentAt);
    };
    for (let i = 0; i < 5; i += 1) await place(); // warm-up
    const baselineRss = await serverRss();

    // the flood: a client that does not read, asking for a snapshot 1,500 times
    const slow = await open(streamUrl);
    let slowClose: { code: number; reason: string } | undefined;
    slow.on('close', (code: number, reason: Buffer) => (slowClose = { code, reason: reason.toString('utf8') }));
    slow.pause();
    const floodStartedAt = performance.now();
    for (let i = 0; i < PAIRS; i += 1) {
      slow.send(JSON.stringify({ type: 'subscribe', topics: ALL_TOPICS, snapshot: true }));
      slow.send(JSON.stringify({ type: 'unsubscribe', topics: ALL_TOPICS }));
    }

    // meanwhile: orders every 20 ms, the server's RSS every 50 ms
    let peakRss = baselineRss;
    let placing = true;
    const sampler = (async () => {
      while (placing) {
        peakRss = Math.max(peakRss, await serverRss());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    while (performance.now() - floodStartedAt < PLACING_MS) {
      const next = performance.now() + 20;
      await place();
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    placing = false;
    await sampler;
    await eventually(() => expect([...placed.keys()].filter((id) => !received.has(id))).toEqual([]), { timeoutMs: 20_000 });
    peakRss = Math.max(peakRss, await serverRss());
    const lags = [...placed].map(([id, sentAt]) => received.get(id)! - sentAt).sort((a, b) => a - b);
    const maxLag = lags.at(-1)!;
    const p95Lag = lags[Math.floor(lags.length * 0.95)]!;
    const growthMb = (peakRss - baselineRss) / 2 ** 20;

    const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${accessToken}` } })).text();
    const counter = (pattern: RegExp): number => [...metrics.matchAll(pattern)].reduce((sum, match) => sum + Number(match[1]), 0);
    const conflated = counter(/^troupe_ws_conflated_total (\d+)/gm);
    const closedSlow = counter(/^troupe_ws_disconnects_total\{reason="(?:slow-consumer|rate-limited)"\} (\d+)/gm);
    slow.resume(); // it reads what was sent to it, then the close frame
    await eventually(() => expect(slowClose).toBeDefined(), { timeoutMs: 10_000 });
    console.log(
      `ws flood: ${PAIRS} pairs; server RSS ${(baselineRss / 2 ** 20).toFixed(0)} → peak ${(peakRss / 2 ** 20).toFixed(0)} MB (+${growthMb.toFixed(1)} MB, bound ${RSS_GROWTH_BOUND_MB}); ` +
        `order→event lag over ${lags.length} orders: p50 ${lags[Math.floor(lags.length / 2)]!.toFixed(1)} ms, p95 ${p95Lag.toFixed(1)} ms, max ${maxLag.toFixed(1)} ms; ` +
        `snapshot ${(snapshotBytes / 1024).toFixed(0)} KB; slow client: ${conflated} conflated, ${closedSlow} closed (${slowClose?.code} ${slowClose?.reason}); ${((performance.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    expect(growthMb).toBeLessThan(RSS_GROWTH_BOUND_MB);
    expect(p95Lag).toBeLessThan(LAG_P95_BOUND_MS);
    expect(maxLag).toBeLessThan(LAG_MAX_BOUND_MS);
    expect(conflated + closedSlow).toBeGreaterThan(0);
    expect([4008, 4029]).toContain(slowClose?.code); // slow-consumer or rate-limited, with the reason
    expect(good.readyState).toBe(WebSocket.OPEN);
  }, 60_000);
});
