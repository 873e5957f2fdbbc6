/**
 * `npm run bench -- --combined [--seconds N] [--rate N] [--rest-rate N] [--clients N] [--store postgres|pglite] [--gateway-thread main|worker] [--alone]`
 *
 * The load a real desk puts on one Troupe process, all at once: ticks offered at `rate`/s (50
 * symbols, EMA 12/26 on every tick through symbol → strategy → risk → paper broker → portfolio,
 * risk limits lifted as in `npm run bench` so that every check runs and orders flow), REST
 * `GET /api/v1/positions` at `rest-rate` req/s (autocannon in a child process, a fixed offered
 * rate, API key with its limit lifted) and `clients` WebSocket clients (in another child process)
 * subscribed to orders, positions, P&L, risk alerts and ten symbols' quotes, with 100 marker
 * risk alerts/s published on the runtime's bus timing the fan-out lag (bus → gateway → socket).
 * Users, keys and audit in the chosen store. `--gateway-thread worker` runs the gateway in its
 * worker thread (as `TROUPE_GATEWAY_THREAD=worker`), reaching the runtime across the facade port.
 *
 * Two phases in the same minutes: ticks alone, then ticks with the gateway load. Per phase:
 * tick → order p50/p99/p99.9/max (the tick's arrival to the order at the paper broker, as in
 * `npm run bench`), the trading thread's event-loop delay, this process's CPU (both threads
 * with the gateway in a worker); for the combined phase also REST req/s and latency, WebSocket lag and each load
 * generator's own CPU. Prints a table; writes bench/results/combined.json with the machine's
 * CPU model and load averages (…/combined-worker.json with the gateway in its worker).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { intOption } from '../src/cli/args.js';
import { buildGateway, listenGateway } from '../src/gateway/gateway.js';
import { startGatewayThread } from '../src/gateway-thread/host.js';
import { registryExposition } from '../src/observability/metrics-merge.js';
import { PostgresAuditStore } from '../src/persistence/audit-store.js';
import { PostgresAuthStore } from '../src/persistence/auth-store.js';
import { openStores } from '../src/persistence/stores.js';
import { ManualClock } from '../src/runtime/clock.js';
import { silentLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { Runtime } from '../src/runtime/runtime.js';
import { usePostgres } from '../test/support/services.js';
import {
  BENCH_RISK_LIMITS,
  benchArgs,
  benchConfig,
  loopDelay,
  offerAtRate,
  percentile,
  gcText,
  printTable,
  profilePhase,
  round,
  syntheticMarket,
  runAutocannon,
  storeOption,
  type AutocannonResult,
  type GcFigures,
  watchGc,
} from './support.js';

const OPTIONS = [
  { name: 'combined', description: 'Run this benchmark (the flag npm run bench passes on)', flag: true },
  { name: 'profile', description: 'Write a CPU profile of each phase to bench/results/combined-*.cpuprofile', flag: true },
  { name: 'alone', description: 'Only the first phase (ticks alone, the gateway idle)', flag: true },
  { name: 'seconds', description: 'Length of each phase', default: '30', valueName: 's' },
  { name: 'rate', description: 'Offered ticks/s', default: '50000', valueName: 'n' },
  { name: 'rest-rate', description: 'Offered REST requests/s (GET /api/v1/positions)', default: '5000', valueName: 'n' },
  { name: 'connections', description: 'HTTP keep-alive connections of the REST load', default: '10', valueName: 'n' },
  { name: 'clients', description: 'WebSocket clients', default: '100', valueName: 'n' },
  {
    name: 'ema',
    description:
      "Fast,slow EMA periods of the strategy (in ticks): 12,26 crosses ~1,800 times a second over 50 symbols at 50K ticks/s; 600,1300 about 40 times (a busy desk, still above SEBI's 10 orders/s)",
    default: '12,26',
    valueName: 'f,s',
  },
  {
    name: 'store',
    description: 'postgres (a throwaway server, or a fresh database on DATABASE_URL) or pglite (embedded, on this thread)',
    default: 'postgres',
    valueName: 'kind',
  },
  {
    name: 'gateway-thread',
    description: 'main (the gateway on the trading thread) or worker (in its own worker thread; needs postgres)',
    default: 'main',
    valueName: 'where',
  },
] as const;
const values = benchArgs('npm run bench -- --combined', 'Trading, REST and WebSocket load on one process at once.', OPTIONS);
const seconds = intOption(values, 'seconds');
const rate = intOption(values, 'rate');
const restRate = intOption(values, 'rest-rate');
const connections = intOption(values, 'connections');
const clients = intOption(values, 'clients');
const store = storeOption(values);
const aloneOnly = values['alone'] === 'true';
const profile = values['profile'] === 'true';
const gatewayThread = values['gateway-thread'];
if (gatewayThread !== 'main' && gatewayThread !== 'worker') throw new Error(`--gateway-thread: main or worker, got "${gatewayThread}"`);
if (gatewayThread === 'worker' && store !== 'postgres') throw new Error('--gateway-thread worker needs --store postgres (PGlite lives in one thread)');
const say = (line: string): void => void process.stderr.write(`${line}\n`);

const [fastPeriod, slowPeriod] = (values['ema'] ?? '').split(',').map(Number);
if (!Number.isInteger(fastPeriod) || !Number.isInteger(slowPeriod) || fastPeriod! < 2 || fastPeriod! >= slowPeriod!)
  throw new Error(`--ema: two whole periods "fast,slow" with 2 ≤ fast < slow, got "${values['ema']}"`);
const SYMBOLS = 50;
const { instruments, source } = syntheticMarket(SYMBOLS, 11);
const samples: number[] = [];
const clock = new ManualClock(0);
const metrics = new Metrics();
const runtime = new Runtime({
  instruments,
  strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod, slowPeriod, quantity: 10 } }],
  portfolio: { portfolioId: 'bench', initialCashPaise: 1_00_00_000_00 },
  clock,
  metrics,
  riskLimits: BENCH_RISK_LIMITS,
  onOrderLatencyUs: (us) => samples.push(us),
});
runtime.start();
metrics.attachBus(runtime.bus);

// the gateway of `npm start`, on the trading thread or in its worker, with its stores in a real database
const postgres = store === 'postgres' ? await usePostgres() : undefined;
const { config, dataDir } = benchConfig('combined', postgres, {
  TROUPE_GATEWAY_THREAD: gatewayThread,
  TROUPE_ML: 'off',
  // the 100 WebSocket upgrades carry their key in the query: counted by IP, with the login before them
  TROUPE_RATE_LIMIT_PER_MINUTE: '10000000',
});
const stores = await openStores(config, silentLogger());
const feedState = () => ({ connected: true, lastTickAgeMs: 0 });
const api =
  gatewayThread === 'worker'
    ? await startGatewayThread({
        config,
        startedAtMs: Date.now(),
        tls: undefined,
        facade: runtime.facade,
        log: silentLogger(),
        host: {
          feedState,
          persistenceState: () => ({ journal: 'ok', redis: 'not configured' }),
          feedControl: undefined,
          fences: () => [],
          metricsText: () => metrics.text(),
          metricsJson: () => registryExposition(metrics).json(),
          onGeneratedAdmin: () => undefined,
        },
      })
    : await (async () => {
        const gateway = await buildGateway({
          authStore: new PostgresAuthStore(stores.database),
          auditStore: new PostgresAuditStore(stores.database),
          runtime: runtime.facade,
          config: config.gateway,
          startedAtMs: Date.now(),
          feedState,
        });
        return { port: await listenGateway(gateway, 0, '127.0.0.1'), stop: () => gateway.close() };
      })();
const port = api.port;
const base = `http://127.0.0.1:${port}`;
const key = await apiKey();

/** An API key without a rate limit (the bench admin's, over HTTP: the gateway may be on another thread), warmed up on the route measured. */
async function apiKey(): Promise<string> {
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: 'bench-password-123' }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const created = await fetch(`${base}/api/v1/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ name: 'bench', role: 'viewer', rateLimitPerMinute: null }),
  });
  if (created.status !== 201) throw new Error(`creating the bench API key answered ${created.status}: ${await created.text()}`);
  const { key: issued } = (await created.json()) as { key: string };
  for (let i = 0; i < 200; i += 1) {
    const response = await fetch(`${base}/api/v1/positions`, { headers: { 'x-api-key': issued } });
    if (response.status !== 200) throw new Error(`positions answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
  }
  return issued;
}

/** Offers the market's next ticks at `rate`/s for `seconds`. */
async function offerTicks(): Promise<void> {
  await offerAtRate({ runtime, clock }, source, rate * seconds, rate);
  await runtime.whenIdle();
}

interface Phase {
  readonly orders: number;
  readonly tickToOrderP50Us: number;
  readonly tickToOrderP99Us: number;
  readonly tickToOrderP999Us: number;
  readonly tickToOrderMaxUs: number;
  readonly eventLoopDelay: ReturnType<typeof loopDelay>;
  readonly gc: GcFigures;
  readonly processCpuPercent: number;
  readonly rssPeakMb: number;
}

async function phase(name: string, alongside: () => Promise<void> = () => Promise.resolve()): Promise<Phase> {
  samples.length = 0;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let rssPeak = process.memoryUsage().rss;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 250);
  loop.enable();
  const stopProfile = await profilePhase(`combined-${name}`, profile);
  const gc = watchGc();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  await Promise.all([offerTicks(), alongside()]);
  const wallMs = performance.now() - wallStart;
  await stopProfile();
  const cpu = process.cpuUsage(cpuStart);
  loop.disable();
  clearInterval(rssTimer);
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    orders: sorted.length,
    tickToOrderP50Us: round(percentile(sorted, 50)),
    tickToOrderP99Us: round(percentile(sorted, 99)),
    tickToOrderP999Us: round(percentile(sorted, 99.9)),
    tickToOrderMaxUs: round(sorted[sorted.length - 1] ?? Number.NaN),
    eventLoopDelay: loopDelay(loop),
    gc: gc(),
    processCpuPercent: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
    rssPeakMb: round(rssPeak / 1e6),
  };
}

/** A child process running `script` with `env`; resolves with the JSON it prints. */
function child<T>(script: string, env: Record<string, string>, onMessage?: (line: string) => void): { done: Promise<T>; send: (line: string) => void } {
  const process_ = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  const done = new Promise<T>((resolve, reject) => {
    process_.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      let newline: number;
      while ((newline = output.indexOf('\n')) >= 0) {
        const line = output.slice(0, newline);
        output = output.slice(newline + 1);
        if (line.startsWith('{')) resolve(JSON.parse(line) as T);
        else onMessage?.(line);
      }
    });
    process_.on('error', reject);
    process_.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`load generator exited with ${code}`))));
  });
  return { done, send: (line) => void process_.stdin.write(`${line}\n`) };
}

interface WsResult {
  readonly received: number;
  readonly markers: number;
  readonly closed: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  readonly cpuUs: number;
  /** Messages received by topic family (event topics) or message type. */
  readonly byTopic: Readonly<Record<string, number>>;
}
// clients in their own process: their CPU and event loop are not the server's
const wsScript = `
const { WebSocket } = require(process.env.WS);
const { url, clients, topics } = JSON.parse(process.env.OPTIONS);
let received = 0, markers = 0, closed = 0, ready = 0;
const byTopic = {};
const lags = [];
const sockets = [];
for (let i = 0; i < clients; i += 1) {
  const socket = new WebSocket(url);
  sockets.push(socket);
  socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', topics })));
  socket.on('close', () => { closed += 1; });
  socket.on('message', (data) => {
    received += 1;
    const m = JSON.parse(data.toString());
    const family = m.type === 'event' && typeof m.topic === 'string' ? m.topic.split(':')[0] : m.type;
    byTopic[family] = (byTopic[family] || 0) + 1;
    if (m.type === 'subscribed') { ready += 1; if (ready === clients) process.stdout.write('ready\\n'); return; }
    if (m.type === 'event' && m.data && m.data.code === 'bench-marker') { markers += 1; lags.push(Date.now() - m.data.atMs); }
  });
}
let cpuStart;
process.stdin.on('data', (chunk) => {
  const command = chunk.toString().trim();
  if (command === 'start') { cpuStart = process.cpuUsage(); received = 0; markers = 0; lags.length = 0; for (const k of Object.keys(byTopic)) delete byTopic[k]; }
  if (command === 'report') {
    const cpu = process.cpuUsage(cpuStart);
    lags.sort((a, b) => a - b);
    const pick = (q) => lags.length ? lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] : null;
    process.stdout.write(JSON.stringify({ received, markers, closed, lagP50Ms: pick(0.5), lagP99Ms: pick(0.99), lagMaxMs: lags[lags.length - 1] ?? null, cpuUs: cpu.user + cpu.system, byTopic }) + '\\n');
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});`;

const require = createRequire(import.meta.url);
const loadBefore = loadavg().map((value) => round(value, 2));
say(`phase 1: ${rate.toLocaleString('en-IN')} ticks/s alone for ${seconds} s…`);
const alone = await phase('alone');
const row = (p: Phase): string =>
  `${p.tickToOrderP50Us} / ${p.tickToOrderP99Us} / ${p.tickToOrderP999Us} / ${p.tickToOrderMaxUs} µs (${p.orders} orders); loop delay p99 ${p.eventLoopDelay.p99Ms} ms, max ${p.eventLoopDelay.maxMs} ms; ${gcText(p.gc)}; CPU ${p.processCpuPercent} %; RSS ${p.rssPeakMb} MB`;
/** Stops what the benchmark started and exits. */
async function close(): Promise<never> {
  await api.stop();
  await runtime.stop();
  await stores.close();
  rmSync(dataDir, { recursive: true, force: true });
  await postgres?.stop();
  process.exit(0);
}
if (aloneOnly) {
  const machine = `${cpus()[0]?.model ?? 'unknown'}, ${availableParallelism()} CPUs, load ${loadBefore.join(' ')}`;
  printTable(
    [
      ['machine', machine],
      ['ticks alone: tick→order p50/p99/p99.9/max', row(alone)],
    ],
    'nowhere: --alone',
  );
  await close();
}

say(`phase 2: ${rate.toLocaleString('en-IN')} ticks/s + REST ${restRate.toLocaleString('en-IN')} req/s + ${clients} WebSocket clients for ${seconds} s…`);
const topics = ['orders', 'positions', 'pnl', 'risk-alerts', ...instruments.slice(0, 10).map((instrument) => `quotes:${instrument.symbol}`)];
let wsReady!: () => void;
const wsReadyPromise = new Promise<void>((resolve) => (wsReady = resolve));
const ws = child<WsResult>(
  wsScript,
  { WS: require.resolve('ws'), OPTIONS: JSON.stringify({ url: `ws://127.0.0.1:${port}/api/v1/stream?token=${encodeURIComponent(key)}`, clients, topics }) },
  (line) => line === 'ready' && wsReady(),
);
await wsReadyPromise;
let rest: AutocannonResult | undefined;
let wsResult: WsResult | undefined;
const combined = await phase('load', async () => {
  ws.send('start');
  const restRun = runAutocannon({ url: `${base}/api/v1/positions`, headers: { 'x-api-key': key }, connections, overallRate: restRate, duration: seconds });
  // 100 marker risk alerts a second on the runtime's bus time the fan-out (the real events flow alongside)
  let n = 0;
  const markerStart = Date.now();
  const marker = setInterval(() => {
    const due = Math.floor(((Date.now() - markerStart) / 1000) * 100);
    for (; n < due; n += 1) runtime.bus.publish({ type: 'RiskAlert', severity: 'info', code: 'bench-marker', message: `bench marker ${n}`, atMs: Date.now() });
  }, 10);
  rest = await restRun;
  clearInterval(marker);
  const wsDone = ws.done;
  ws.send('report');
  wsResult = await wsDone;
});
if (!rest || !wsResult) throw new Error('a load generator did not report');

const restFigures = {
  offeredPerSec: restRate,
  requestsPerSec: round(rest.requests.average),
  latencyP50Ms: rest.latency.p50,
  latencyP99Ms: rest.latency.p99,
  latencyMaxMs: rest.latency.max,
  non2xx: rest.non2xx,
  errors: rest.errors,
  timeouts: rest.timeouts,
  loadGeneratorCpuPercent: round((rest.cpuUs / 1000 / (seconds * 1000)) * 100),
};
const wsFigures = {
  clients,
  topics,
  messagesReceived: wsResult.received,
  messagesByTopic: wsResult.byTopic,
  markers: wsResult.markers,
  disconnected: wsResult.closed,
  lagP50Ms: wsResult.lagP50Ms,
  lagP99Ms: wsResult.lagP99Ms,
  lagMaxMs: wsResult.lagMaxMs,
  clientsCpuPercent: round((wsResult.cpuUs / 1000 / (seconds * 1000)) * 100),
};
const result = {
  benchmark: 'combined',
  atIso: new Date().toISOString(),
  node: process.version,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cpus: availableParallelism(),
  store,
  gatewayThread,
  seconds,
  offeredTicksPerSec: rate,
  emaPeriods: [fastPeriod, slowPeriod],
  symbols: SYMBOLS,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg().map((value) => round(value, 2)),
  ticksAlone: alone,
  combined: { ...combined, rest: restFigures, websocket: wsFigures },
  goals: { tickToOrderP99Us: 1000, restRequestsPerSec: 5000, restP99Ms: 10 },
};
mkdirSync('bench/results', { recursive: true });
const resultFile = `bench/results/combined${gatewayThread === 'worker' ? '-worker' : ''}.json`;
writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
const rows: [string, string][] = [
  [
    'machine',
    `${result.cpuModel}, ${result.cpus} CPUs, load ${loadBefore.join(' ')}; gateway on the ${gatewayThread === 'worker' ? 'worker' : 'trading'} thread`,
  ],
  ['ticks alone: tick→order p50/p99/p99.9/max', row(alone)],
  ['combined: tick→order p50/p99/p99.9/max', row(combined)],
  [
    'combined: REST',
    `${restFigures.requestsPerSec} req/s of ${restRate} offered, p50 ${restFigures.latencyP50Ms} ms, p99 ${restFigures.latencyP99Ms} ms, max ${restFigures.latencyMaxMs} ms, non-2xx ${restFigures.non2xx}, errors ${restFigures.errors}; autocannon ${restFigures.loadGeneratorCpuPercent} % CPU`,
  ],
  [
    'combined: WebSocket',
    `${clients} clients, ${wsFigures.messagesReceived} messages, marker lag p50 ${wsFigures.lagP50Ms} ms, p99 ${wsFigures.lagP99Ms} ms, max ${wsFigures.lagMaxMs} ms, disconnected ${wsFigures.disconnected}; clients ${wsFigures.clientsCpuPercent} % CPU`,
  ],
];
printTable(rows, resultFile);
await close();
