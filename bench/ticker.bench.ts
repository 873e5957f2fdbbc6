/**
 * `npx tsx bench/ticker.bench.ts [--rate N] [--seconds N] [--symbols N] [--mode full|quote|ltp] [--consumer ticker|feed|pipeline] [--json]`
 *
 * Runs the Kite simulator (`src/sim/cli.ts`, its own process, as a real deployment would) with
 * its synthetic market at `rate` ticks/s, and a real `KiteTicker` client in this process
 * (loopback) subscribed to every symbol in `mode`;
 * prints the ticks/s the client parsed and writes bench/results/ticker.json.
 * `--consumer feed` counts what Troupe's `KiteFeed` emits instead (the same client underneath,
 * ticks normalised into batches); `pipeline` adds the market-data pipeline (validate, route by
 * symbol, 1 m/5 m bars) as `npm start -- --broker kite` runs it, without the actors.
 *
 * Also reported: CPU per tick of each process (`process.cpuUsage`, so other load on the machine
 * does not inflate it) and the client's own parsing cost, measured by calling the unmodified
 * client's `parseBinary` on a frame it received: `clientParseLimitTicksPerSecond` is what one
 * core can parse at most in this mode, whatever the server does.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { KiteConnect, KiteTicker } from 'kiteconnect';
import type { KiteTickerParams, Tick } from 'kiteconnect/types/ticker.js';
import { intOption } from '../src/cli/args.js';
import type { SimulatorStats } from '../src/sim/index.js';
import { filter, firstValueFrom } from 'rxjs';
import { KiteFeed } from '../src/brokers/kite/ticker.js';
import { KiteBroker } from '../src/brokers/kite/kite-broker.js';
import { loadInstruments } from '../src/brokers/kite/instruments.js';
import { marketDataPipeline } from '../src/streams/index.js';
import { benchArgs } from './support.js';

const OPTIONS = [
  { name: 'rate', description: 'Market ticks/s the simulator generates', default: '50000', valueName: 'n' },
  { name: 'seconds', description: 'Measured duration', default: '5', valueName: 's' },
  { name: 'symbols', description: 'Symbols (all subscribed)', default: '50', valueName: 'n' },
  { name: 'mode', description: 'Ticker mode: full, quote or ltp', default: 'full', valueName: 'mode' },
  {
    name: 'consumer',
    description: 'What counts the ticks: ticker (the bare client), feed (KiteFeed) or pipeline (KiteFeed + market-data pipeline)',
    default: 'ticker',
    valueName: 'kind',
  },
  { name: 'json', description: 'Print one JSON object', flag: true },
  {
    name: 'profile',
    description: 'Write a CPU profile of the simulator process into this folder (run this process under `node --cpu-prof` for the client side)',
    valueName: 'dir',
  },
] as const;

const values = benchArgs('npx tsx bench/ticker.bench.ts', 'Ticks/s a KiteTicker client receives from the simulator.', OPTIONS);
const rate = intOption(values, 'rate');
const seconds = intOption(values, 'seconds');
const symbols = intOption(values, 'symbols');
const mode = values['mode'] === 'ltp' || values['mode'] === 'quote' ? values['mode'] : 'full';
const consumer = values['consumer'] === 'feed' || values['consumer'] === 'pipeline' ? values['consumer'] : 'ticker';

const child = spawn(
  process.execPath,
  [
    ...(values['profile'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['profile']]),
    '--import',
    'tsx',
    'src/sim/cli.ts',
    '--port',
    '0',
    '--symbols',
    String(symbols),
    '--ticks-per-second',
    String(rate),
    '--api-key',
    'bench',
    '--api-secret',
    'bench-secret',
    '--any-time',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
// never leave the simulator behind, whatever ends this process
process.once('exit', () => {
  if (!child.killed && child.exitCode === null) child.kill('SIGTERM');
});
const url = await new Promise<string>((resolve, reject) => {
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    const match = /listening on (http:\/\/[^ ]+)/.exec(text);
    if (match?.[1]) resolve(match[1]);
  });
  child.once('exit', (code) => reject(new Error(`simulator exited with ${String(code)}`)));
});
const admin = async <T>(method: 'GET' | 'POST', path: string, retry = true): Promise<T> => {
  try {
    const response = await fetch(`${url}/__admin/${path}`, { method });
    return ((await response.json()) as { data: T }).data;
  } catch (error) {
    // a kept-alive connection the server closed while this process was busy parsing: once more on a new one
    if (!retry) throw error;
    return admin<T>(method, path, false);
  }
};
const stats = (): Promise<SimulatorStats> => admin<SimulatorStats>('GET', 'stats');
const kite = new KiteConnect({ api_key: 'bench', root: url });
const requestToken = (await admin<{ request_token: string }>('POST', 'request-token')).request_token;
const session = await kite.generateSession(requestToken, 'bench-secret');
const wsUrl = `${url.replace('http://', 'ws://')}/`;
const tokens = (await kite.getInstruments('NSE')).filter((i) => i.segment === 'NSE').map((i) => Number(i.instrument_token));
let received = 0;
let depthChecked = 0;
let sampleFrame: ArrayBuffer | undefined;
let ticker: InstanceType<typeof KiteTicker>;
let feed: KiteFeed | undefined;
if (consumer === 'ticker') {
  const params: KiteTickerParams & { root: string } = { api_key: 'bench', access_token: session.access_token, root: wsUrl, reconnect: false };
  ticker = new KiteTicker(params);
  ticker.on('ticks', (ticks: Tick[]) => {
    received += ticks.length;
    const first = ticks[0];
    if (first !== undefined && 'depth' in first && first.depth !== undefined && first.depth.buy.length === 5) depthChecked += 1;
  });
  await new Promise<void>((resolve) => {
    ticker.on('connect', () => resolve());
    ticker.connect();
  });
  ticker.subscribe(tokens);
  ticker.setMode(mode, tokens);
} else {
  feed = new KiteFeed({ apiKey: 'bench', accessToken: session.access_token, root: wsUrl, tokens, mode, staleAfterMs: 60_000 });
  if (consumer === 'feed') {
    feed.ticks$.subscribe((batch) => {
      received += batch.length;
      const first = batch[0] as { depth?: { buy: readonly unknown[] } } | undefined;
      if (first?.depth?.buy.length === 5) depthChecked += 1;
    });
  } else {
    const broker = new KiteBroker({ apiKey: 'bench', root: url, accessToken: session.access_token });
    const dump = await loadInstruments(broker);
    const instruments = await broker.withReferencePrices(dump.map.instruments.filter((i) => tokens.includes(i.token)));
    marketDataPipeline({
      source$: feed.ticks$,
      instruments,
      onRejected: () => undefined,
      onTicks: (_symbol, ticks) => {
        received += ticks.length;
        if (ticks[0]?.depth?.buy.length === 5) depthChecked += 1;
      },
      onBars: () => undefined,
      barIntervals: ['1m', '5m'],
    });
  }
  const connected = firstValueFrom(feed.events$.pipe(filter((e) => e.kind === 'connected')));
  feed.start();
  await connected;
  // the feed's client (the KiteTicker handlers are process-global: this one sees the same frames)
  ticker = new KiteTicker({ api_key: 'bench', access_token: session.access_token, reconnect: false });
}
// the latest frame of 100 packets or more (after the warm-up: in the measured mode)
ticker.on('message', (data: ArrayBuffer) => {
  if (data.byteLength > 2 && new DataView(data).getUint16(0) >= 100) sampleFrame = data;
});

// Warm up for a second, then measure.
await new Promise((resolve) => setTimeout(resolve, 1000));
const startStats = await stats();
const startReceived = received;
const startCpu = process.cpuUsage();
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const elapsedSec = (performance.now() - started) / 1000;
const clientCpu = process.cpuUsage(startCpu);
const receivedTicks = received - startReceived;
const endStats = await stats();
if (feed) feed.stop();
else ticker.disconnect();
const sentPackets = endStats.packetsSent - startStats.packetsSent;
// the simulator's rates over its own clock (this process may read the counters late while it is busy parsing)
const simElapsedSec = (endStats.sampledAtMs - startStats.sampledAtMs) / 1000;
const simCpuMicros = endStats.processCpuMicros - startStats.processCpuMicros;
// the client's parsing alone, on a frame it received (same process, nothing else running now)
let parseMicrosPerTick: number | undefined;
if (sampleFrame !== undefined) {
  const frame = sampleFrame;
  // parseBinary is public on the client's class but missing from its type declarations
  const client = ticker as unknown as { parseBinary(frame: ArrayBuffer): readonly unknown[] };
  let parsed = 0;
  const parseStart = process.cpuUsage();
  const until = performance.now() + 1000;
  while (performance.now() < until) parsed += client.parseBinary(frame).length;
  const parseCpu = process.cpuUsage(parseStart);
  parseMicrosPerTick = (parseCpu.user + parseCpu.system) / parsed;
}
const perTick = (micros: number, ticks: number): number | null => (ticks > 0 ? Number((micros / ticks).toFixed(2)) : null);
const result = {
  benchmark: 'ticker',
  mode,
  consumer,
  symbols,
  offeredTicksPerSecond: rate,
  seconds: Number(elapsedSec.toFixed(3)),
  marketTicksPerSecond: Math.round((endStats.marketTicks - startStats.marketTicks) / simElapsedSec),
  sentPacketsPerSecond: Math.round(sentPackets / simElapsedSec),
  receivedTicksPerSecond: Math.round(receivedTicks / elapsedSec),
  droppedPackets: endStats.packetsDropped - startStats.packetsDropped,
  framesSent: endStats.framesSent - startStats.framesSent,
  /** CPU of the client process per tick received (µs). */
  clientCpuMicrosPerTick: perTick(clientCpu.user + clientCpu.system, receivedTicks),
  /** CPU of the simulator process per packet sent (µs; market generation and matching included). */
  simCpuMicrosPerPacket: perTick(simCpuMicros, sentPackets),
  simCpuMicrosPerMarketTick: perTick(simCpuMicros, endStats.marketTicks - startStats.marketTicks),
  clientParseMicrosPerTick: parseMicrosPerTick === undefined ? null : Number(parseMicrosPerTick.toFixed(2)),
  clientParseLimitTicksPerSecond: parseMicrosPerTick === undefined ? null : Math.round(1e6 / parseMicrosPerTick),
  framesWithDepth: depthChecked,
  node: process.version,
  at: new Date().toISOString(),
};
child.kill('SIGTERM');
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ticker.json', `${JSON.stringify(result, null, 2)}\n`);
if (values['json'] === 'true') process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `KiteTicker (${mode}, ${symbols} symbols, counted by ${consumer}): offered ${rate} ticks/s, market ${result.marketTicksPerSecond}/s, ` +
      `sent ${result.sentPacketsPerSecond}/s, received ${result.receivedTicksPerSecond} ticks/s, dropped ${result.droppedPackets}\n` +
      `  CPU: client ${String(result.clientCpuMicrosPerTick)} µs/tick received, simulator ${String(result.simCpuMicrosPerPacket)} µs/packet sent ` +
      `(${String(result.simCpuMicrosPerMarketTick)} µs/market tick); the client's parseBinary alone ${String(result.clientParseMicrosPerTick)} µs/tick ` +
      `= at most ${String(result.clientParseLimitTicksPerSecond)} ticks/s on one core\n`,
  );
}
process.exit(0);
