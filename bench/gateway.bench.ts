/**
 * `npx tsx bench/gateway.bench.ts [--seconds N] [--connections N] [--clients N] [--rate N]`
 *
 * Starts Troupe as `npm start` does (synthetic market trading in the background, journal and
 * snapshots in real PostgreSQL, or with `--store pglite` in the embedded database, which runs
 * on the gateway's own thread) on loopback, then:
 * 1. REST: autocannon on `GET /api/v1/positions` with a bench API key whose rate limit is
 *    lifted (`rateLimitPerMinute: null`, the per-key setting an admin may give: the limiter's
 *    hook still runs for it and lets it through uncounted; authentication, the access check and
 *    the latency histogram run as for any key). Target ≥ 10,000 req/s and p99 ≤ 10 ms, with
 *    10 keep-alive connections (autocannon's own default) and no pipelining. More connections do not
 *    add throughput once the server is saturated, only queue: on 2026-12-03, 10, 16 and 32
 *    connections gave 11.2k, 11.7k and 11.0k req/s with p99 4, 7 and 11 ms (`--connections 32`
 *    measures that queue). autocannon runs in a child process (its
 *    own event loop and CPU account), so the server's CPU time per request is measured too:
 *    total (user and system), and net of the CPU the trading process burns with no HTTP load
 *    (measured just before); so are the load generator's CPU and the server's event-loop delay
 *    with trading alone and under load (a request that arrives while the loop is busy waits).
 *    `--pipelining` sends that many requests per connection before waiting; `--gzip` sends
 *    `Accept-Encoding: gzip` as browsers and `curl --compressed` do (the body is compressed once
 *    per change of the portfolios, not per request).
 * 2. WebSocket fan-out: `clients` streams (in a worker thread) subscribed to one topic while
 *    the hub publishes `rate` events/s; every client must receive every event, in order.
 * Prints the figures and writes bench/results/gateway.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { inProcessGateway, startTroupe } from '../src/app.js';
import { intOption } from '../src/cli/args.js';
import { silentLogger } from '../src/observability/logger.js';
import { usePostgres } from '../test/support/services.js';
import { benchApiKey, benchArgs, benchConfig, loopDelay, runAutocannon, storeOption, type AutocannonResult } from './support.js';

const OPTIONS = [
  { name: 'seconds', description: 'Length of each run', default: '10', valueName: 's' },
  { name: 'connections', description: 'HTTP keep-alive connections (more only queue once the server is saturated)', default: '10', valueName: 'n' },
  { name: 'pipelining', description: 'Requests in flight per HTTP connection', default: '1', valueName: 'n' },
  { name: 'gzip', description: 'yes: send Accept-Encoding: gzip', default: 'no', valueName: 'yes|no' },
  { name: 'clients', description: 'WebSocket clients', default: '100', valueName: 'n' },
  { name: 'rate', description: 'Events per second published to the WebSocket clients', default: '1000', valueName: 'n' },
  {
    name: 'store',
    description: 'postgres (a throwaway server, or a fresh database on DATABASE_URL) or pglite (embedded, in this process)',
    default: 'postgres',
    valueName: 'kind',
  },
] as const;
const values = benchArgs('npx tsx bench/gateway.bench.ts', 'Gateway throughput (REST) and WebSocket fan-out.', OPTIONS);
const seconds = intOption(values, 'seconds');
const connections = intOption(values, 'connections');
const pipelining = intOption(values, 'pipelining');
const gzip = values.gzip === 'yes';
const clients = intOption(values, 'clients');
const rate = intOption(values, 'rate');
const store = storeOption(values);
const postgres = store === 'postgres' ? await usePostgres() : undefined;

const { config, dataDir } = benchConfig('gateway', postgres, { TROUPE_MARKET_SPEED: '10', TROUPE_SYMBOLS: '50' });
const running = await startTroupe(config, silentLogger());
const { auth, hub } = inProcessGateway(running).troupe;
const base = `http://127.0.0.1:${running.port}`;
// checks the key works and warms up (JIT, schema serializers)
const key = await benchApiKey(auth, base);

// the load generator in a child process: its CPU is not the server's, and it has its own event loop
function runLoad(): Promise<AutocannonResult> {
  return runAutocannon({
    url: `${base}/api/v1/positions`,
    headers: { 'x-api-key': key, ...(gzip ? { 'accept-encoding': 'gzip' } : {}) },
    connections,
    pipelining,
    duration: seconds,
  });
}
// CPU of this process with trading running and no HTTP load, as the baseline the requests add to
// and how long its event loop is held up (by trading alone, then with the requests): a request
// that arrives while the loop is busy waits, so these delays show in the latency's tail
const idleMs = 3_000;
const idleLoop = monitorEventLoopDelay({ resolution: 1 });
idleLoop.enable();
const idleStart = process.cpuUsage();
await new Promise((resolve) => setTimeout(resolve, idleMs));
const idleCpu = process.cpuUsage(idleStart);
idleLoop.disable();
const idleCpuPerMs = (idleCpu.user + idleCpu.system) / 1000 / idleMs;
const loadBefore = loadavg()[0] ?? 0;
const restLoop = monitorEventLoopDelay({ resolution: 1 });
restLoop.enable();
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
const rest = await runLoad();
const wallMs = performance.now() - wallStart;
const cpu = process.cpuUsage(cpuStart);
restLoop.disable();
const cpuUs = cpu.user + cpu.system;
const perRequest = (us: number): number => Math.round((us / Math.max(1, rest.requests.total)) * 10) / 10;
const restFigures = {
  requestsPerSec: Math.round(rest.requests.average),
  latencyP50Ms: rest.latency.p50,
  latencyP975Ms: rest.latency.p97_5,
  latencyP99Ms: rest.latency.p99,
  latencyMaxMs: rest.latency.max,
  non2xx: rest.non2xx,
  errors: rest.errors,
  timeouts: rest.timeouts,
  bytesPerSec: Math.round(rest.throughput.average),
  connections,
  pipelining,
  acceptEncodingGzip: gzip,
  loadGenerator: 'autocannon in a child process',
  serverCpuUsPerRequest: perRequest(cpuUs),
  // system time is the kernel's share: loopback TCP reads and writes, epoll (and trading's own)
  serverCpuUsPerRequestUser: perRequest(cpu.user),
  serverCpuUsPerRequestSystem: perRequest(cpu.system),
  serverCpuUsPerRequestNetOfTrading: perRequest(cpuUs - idleCpuPerMs * 1000 * wallMs),
  serverCpuPercent: Math.round((cpuUs / 1000 / wallMs) * 100),
  tradingOnlyCpuPercent: Math.round(idleCpuPerMs * 100),
  loadGeneratorCpuPercent: Math.round((rest.cpuUs / 1000 / wallMs) * 100),
  eventLoopDelayTradingOnly: loopDelay(idleLoop),
  eventLoopDelayUnderLoad: loopDelay(restLoop),
  loadAverage1mBefore: Math.round(loadBefore * 100) / 100,
  fillsWhileRunning: running.stats.fills,
};
process.stdout.write(
  `REST GET /api/v1/positions: ${restFigures.requestsPerSec} req/s, p50 ${restFigures.latencyP50Ms} ms, p97.5 ${restFigures.latencyP975Ms} ms, p99 ${restFigures.latencyP99Ms} ms, max ${restFigures.latencyMaxMs} ms, non-2xx ${restFigures.non2xx}, errors ${restFigures.errors}; ` +
    `server CPU ${restFigures.serverCpuUsPerRequest} µs/request (user ${restFigures.serverCpuUsPerRequestUser}, system ${restFigures.serverCpuUsPerRequestSystem}; ${restFigures.serverCpuUsPerRequestNetOfTrading} net of trading), ` +
    `${restFigures.serverCpuPercent} % of a core (trading alone ${restFigures.tradingOnlyCpuPercent} %), load generator ${restFigures.loadGeneratorCpuPercent} % of a core; ` +
    `event-loop delay p99/max ${restFigures.eventLoopDelayTradingOnly.p99Ms}/${restFigures.eventLoopDelayTradingOnly.maxMs} ms trading alone, ${restFigures.eventLoopDelayUnderLoad.p99Ms}/${restFigures.eventLoopDelayUnderLoad.maxMs} ms under load; load ${restFigures.loadAverage1mBefore}\n`,
);

// WebSocket fan-out: the clients live in a worker thread so they do not share the server's event loop
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { WebSocket } = require('ws');
const { url, clients, expected } = workerData;
const stats = Array.from({ length: clients }, () => ({ received: 0, lastN: -1, outOfOrder: 0, lags: [], closed: null }));
let ready = 0;
for (let i = 0; i < clients; i += 1) {
  const socket = new WebSocket(url);
  const s = stats[i];
  socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', topics: ['risk-alerts'] })));
  socket.on('close', (code, reason) => { s.closed = code + ' ' + reason.toString(); });
  socket.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === 'subscribed') { ready += 1; if (ready === clients) parentPort.postMessage({ type: 'ready' }); return; }
    if (m.type !== 'event' || !m.data || m.data.bench !== true) return;
    if (m.data.n !== s.lastN + 1) s.outOfOrder += 1;
    s.lastN = m.data.n;
    s.received += 1;
    if (s.received % 10 === 0) s.lags.push(Date.now() - m.data.sentAtMs);
    if (s.received === expected) { parentPort.postMessage({ type: 'done' }); }
  });
}
parentPort.on('message', (m) => { if (m === 'report') parentPort.postMessage({ type: 'report', stats }); });
`;
const expected = rate * seconds;
const worker = new Worker(workerSource, {
  eval: true,
  workerData: { url: `ws://127.0.0.1:${running.port}/api/v1/stream?token=${encodeURIComponent(key)}`, clients, expected },
});
let done = 0;
interface ClientStats {
  received: number;
  outOfOrder: number;
  lags: number[];
  closed: string | null;
}
const report = new Promise<ClientStats[]>((resolve) => {
  worker.on('message', (message: { type: string; stats?: ClientStats[] }) => {
    if (message.type === 'done') done += 1;
    if (message.type === 'report') resolve(message.stats!);
  });
});
await new Promise<void>((resolve) => worker.on('message', (message: { type: string }) => message.type === 'ready' && resolve()));
const perTick = Math.max(1, Math.round(rate / 100));
let n = 0;
const publishStarted = Date.now();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(expected, Math.floor(((Date.now() - publishStarted) / 1000) * rate) + perTick);
    while (n < due) {
      hub.publish('risk-alerts', 'bench', { bench: true, n, sentAtMs: Date.now() });
      n += 1;
    }
    if (n >= expected) {
      clearInterval(timer);
      resolve();
    }
  }, 10);
});
const deadline = Date.now() + 10_000;
while (done < clients && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
worker.postMessage('report');
const stats = await report;
await worker.terminate();
const lags = stats.flatMap((s) => s.lags).sort((a, b) => a - b);
const pick = (q: number): number => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? 0;
const wsFigures = {
  clients,
  eventsPerSecPerClient: rate,
  seconds,
  eventsPublished: n,
  deliveredPerSec: Math.round((stats.reduce((sum, s) => sum + s.received, 0) / (Date.now() - publishStarted)) * 1000),
  clientsComplete: stats.filter((s) => s.received === expected).length,
  minReceived: Math.min(...stats.map((s) => s.received)),
  outOfOrder: stats.reduce((sum, s) => sum + s.outOfOrder, 0),
  disconnected: stats.filter((s) => s.closed !== null).length,
  lagP50Ms: pick(0.5),
  lagP99Ms: pick(0.99),
  lagMaxMs: lags[lags.length - 1] ?? 0,
};
process.stdout.write(
  `WebSocket fan-out: ${clients} clients × ${rate} events/s for ${seconds} s: ${wsFigures.clientsComplete}/${clients} clients got all ${expected} events (min ${wsFigures.minReceived}), out of order ${wsFigures.outOfOrder}, disconnected ${wsFigures.disconnected}, lag p50 ${wsFigures.lagP50Ms} ms, p99 ${wsFigures.lagP99Ms} ms, max ${wsFigures.lagMaxMs} ms\n`,
);

const result = {
  benchmark: 'gateway',
  node: process.version,
  cpus: availableParallelism(),
  store,
  rest: { route: 'GET /api/v1/positions (X-API-Key, limit lifted, trading running)', ...restFigures, targetRequestsPerSec: 10_000, targetP99Ms: 10 },
  websocket: wsFigures,
  /** 1/5/15-minute load averages when the run ended: other work on the machine shows here. */
  loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  atIso: new Date().toISOString(),
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/gateway.json', `${JSON.stringify(result, null, 2)}\n`);
await running.stop('bench done');
rmSync(dataDir, { recursive: true, force: true });
await postgres?.stop();
process.exit(0);
