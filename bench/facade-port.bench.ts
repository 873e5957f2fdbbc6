/**
 * `npx tsx bench/facade-port.bench.ts [--symbols N] [--ticks N] [--requests N]`
 *
 * What serving the facade across a message port (`src/runtime/port`) costs the runtime's
 * thread, the thread a gateway worker would leave to trading:
 * 1. one full read-model publish (the delta: quotes, depth, portfolios, actor health) when every
 *    symbol ticked since the last, and when nothing but the clock and actor counters moved; and
 *    the light one that goes with every event batch and reply (portfolios and the clock);
 * 2. a query's round trip (`strategyIds`, `riskReport`) through the local facade and across a
 *    message channel in this thread (both ends' work on one thread: an upper bound of what
 *    the runtime's end costs), sequential and 10 in flight;
 * 3. tree throughput with and without a served port publishing every 50 ms;
 * 4. the same query from a worker thread (`facade-port-client.ts`): the round trip across
 *    threads, and how long the runtime's thread was busy per request.
 * Prints a table; writes bench/results/facade-port.json with the machine's load and CPU model.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker } from 'node:worker_threads';
import { intOption } from '../src/cli/args.js';
import { ManualClock } from '../src/runtime/clock.js';
import { Metrics } from '../src/observability/metrics.js';
import { serveFacade } from '../src/runtime/port/facade-server.js';
import { PortRuntimeFacade } from '../src/runtime/port/port-facade.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { RuntimeFacade } from '../src/runtime/facade.js';
import { BENCH_RISK_LIMITS, benchArgs, generateTicks, groupBySymbol, percentile, printTable, round, turn } from './support.js';

const OPTIONS = [
  { name: 'symbols', description: 'Symbols', default: '50', valueName: 'n' },
  { name: 'ticks', description: 'Ticks for each throughput run', default: '400000', valueName: 'n' },
  { name: 'requests', description: 'Queries per round-trip run', default: '20000', valueName: 'n' },
] as const;
const values = benchArgs('npx tsx bench/facade-port.bench.ts', 'What serving the runtime facade across a message port costs.', OPTIONS);
const symbols = intOption(values, 'symbols');
const totalTicks = intOption(values, 'ticks');
const requests = intOption(values, 'requests');
const loadBefore = loadavg().map((value) => round(value, 2));

const { instruments, batches } = generateTicks(symbols, totalTicks, 7);

function startRuntime(): { runtime: Runtime; clock: ManualClock } {
  const clock = new ManualClock(Date.parse('2026-05-20T04:00:00Z'));
  const runtime = new Runtime({
    instruments,
    strategies: instruments.map((instrument, index) => ({
      strategyId: `ema-${index}`,
      kind: 'ema-cross',
      config: { symbols: [instrument.symbol], fastPeriod: 12, slowPeriod: 26, quantity: 1 },
    })),
    portfolio: { portfolioId: 'paper', initialCashPaise: 1_000_000_000_00 },
    clock,
    riskLimits: BENCH_RISK_LIMITS,
  });
  runtime.start();
  return { runtime, clock };
}

async function feedAll(runtime: Runtime, clock: ManualClock): Promise<number> {
  const started = performance.now();
  for (const batch of batches) {
    const last = batch[batch.length - 1];
    if (last) clock.advanceTo(last.exchangeTimeMs);
    for (const [symbol, ticks] of groupBySymbol(batch)) runtime.offerTicks(symbol, ticks);
    await turn();
  }
  await runtime.whenIdle();
  return totalTicks / ((performance.now() - started) / 1000);
}

// 3. throughput without and with a served port (first, while the heap is fresh for both)
const bare = startRuntime();
const bareRate = await feedAll(bare.runtime, bare.clock);
await bare.runtime.stop();
const served = startRuntime();
const channel = new MessageChannel();
const server = serveFacade(served.runtime.facade, channel.port1);
const remote = await PortRuntimeFacade.connect(channel.port2, { metrics: new Metrics() });
const servedRate = await feedAll(served.runtime, served.clock);
await remote.sync();

// 1. one publish: every symbol ticked since the last, and nothing but the clock moved
const publishes = 200;
const changedUs: number[] = [];
const quietUs: number[] = [];
const lightUs: number[] = [];
let batchIndex = 0;
for (let index = 0; index < publishes; index += 1) {
  const batch = batches[batchIndex++ % batches.length] ?? [];
  for (const [symbol, ticks] of groupBySymbol(batch)) served.runtime.offerTicks(symbol, ticks);
  await served.runtime.whenIdle();
  let started = performance.now();
  server.publish();
  changedUs.push((performance.now() - started) * 1000);
  started = performance.now();
  server.publish();
  quietUs.push((performance.now() - started) * 1000);
  started = performance.now();
  server.publish('events');
  lightUs.push((performance.now() - started) * 1000);
  await turn();
}
changedUs.sort((a, b) => a - b);
quietUs.sort((a, b) => a - b);
lightUs.sort((a, b) => a - b);

// 2. query round trips: local facade and across the channel
async function roundTrips(
  facade: RuntimeFacade,
  query: 'strategyIds' | 'riskReport',
  inFlight: number,
): Promise<{ perSecond: number; p50Us: number; p99Us: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < requests) {
      next += 1;
      const sent = performance.now();
      await (query === 'strategyIds' ? facade.strategyIds() : facade.riskReport());
      latencies.push((performance.now() - sent) * 1000);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: Math.round(requests / seconds), p50Us: round(percentile(latencies, 50), 1), p99Us: round(percentile(latencies, 99), 1) };
}
const trips = {
  localStrategyIds: await roundTrips(served.runtime.facade, 'strategyIds', 1),
  portStrategyIds: await roundTrips(remote, 'strategyIds', 1),
  portStrategyIds10: await roundTrips(remote, 'strategyIds', 10),
  localRiskReport: await roundTrips(served.runtime.facade, 'riskReport', 1),
  portRiskReport: await roundTrips(remote, 'riskReport', 1),
};
remote.close();
server.close();

// 4. the gateway's end in a worker thread: round trips across threads, and the runtime thread's busy time per request
const crossChannel = new MessageChannel();
const crossServer = serveFacade(served.runtime.facade, crossChannel.port1);
const client = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(require('node:worker_threads').workerData.entry); })`, {
  eval: true,
  workerData: { port: crossChannel.port2, requests, entry: new URL('./facade-port-client.ts', import.meta.url).href },
  transferList: [crossChannel.port2],
});
const eluBefore = performance.eventLoopUtilization();
const crossStarted = performance.now();
const crossLatencies = await new Promise<number[]>((resolve, reject) => {
  client.once('message', (message: unknown) =>
    Array.isArray(message) ? resolve(message.filter((value) => typeof value === 'number')) : reject(new Error('bad answer')),
  );
  client.once('error', reject);
});
const crossSeconds = (performance.now() - crossStarted) / 1000;
const elu = performance.eventLoopUtilization(eluBefore);
await client.terminate();
crossServer.close();
crossLatencies.sort((a, b) => a - b);
const crossThread = {
  perSecond: Math.round(requests / crossSeconds),
  p50Us: round(percentile(crossLatencies, 50), 1),
  p99Us: round(percentile(crossLatencies, 99), 1),
  // includes the worker's start-up, so an upper bound
  runtimeThreadBusyUsPerRequest: round((elu.active * 1000) / requests, 1),
};
await served.runtime.stop();

const result = {
  benchmark: 'facade-port',
  atIso: new Date().toISOString(),
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg().map((value) => round(value, 2)),
  symbols,
  ticks: totalTicks,
  publish: {
    everySymbolChangedUs: { p50: round(percentile(changedUs, 50), 1), p99: round(percentile(changedUs, 99), 1) },
    quietUs: { p50: round(percentile(quietUs, 50), 1), p99: round(percentile(quietUs, 99), 1) },
    portfoliosOnlyUs: { p50: round(percentile(lightUs, 50), 1), p99: round(percentile(lightUs, 99), 1) },
  },
  roundTrips: { ...trips, crossThreadRiskReport: crossThread },
  throughput: { withoutPortTicksPerSecond: Math.round(bareRate), withPortTicksPerSecond: Math.round(servedRate) },
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/facade-port.json', `${JSON.stringify(result, null, 2)}\n`);
const trip = (name: string, figures: { perSecond: number; p50Us: number; p99Us: number }): readonly [string, string] => [
  name,
  `${figures.perSecond.toLocaleString('en')}/s, p50 ${figures.p50Us} µs, p99 ${figures.p99Us} µs`,
];
printTable(
  [
    ['machine', `${result.cpus}× ${result.cpuModel}, load ${loadBefore.join(' ')} → ${result.loadAverageAfter.join(' ')}`],
    ['publish (full), every symbol ticked', `p50 ${result.publish.everySymbolChangedUs.p50} µs, p99 ${result.publish.everySymbolChangedUs.p99} µs`],
    ['publish (full), nothing ticked', `p50 ${result.publish.quietUs.p50} µs, p99 ${result.publish.quietUs.p99} µs`],
    ['publish (with events / replies)', `p50 ${result.publish.portfoliosOnlyUs.p50} µs, p99 ${result.publish.portfoliosOnlyUs.p99} µs`],
    trip('strategyIds, local', trips.localStrategyIds),
    trip('strategyIds, port', trips.portStrategyIds),
    trip('strategyIds, port, 10 in flight', trips.portStrategyIds10),
    trip('riskReport, local', trips.localRiskReport),
    trip('riskReport, port', trips.portRiskReport),
    trip('riskReport, gateway end in a worker thread', crossThread),
    ['  runtime thread busy per request', `≤ ${crossThread.runtimeThreadBusyUsPerRequest} µs (its event-loop utilisation meanwhile)`],
    ['tree, no port', `${result.throughput.withoutPortTicksPerSecond.toLocaleString('en')} ticks/s`],
    ['tree, port publishing every 50 ms', `${result.throughput.withPortTicksPerSecond.toLocaleString('en')} ticks/s`],
  ],
  'bench/results/facade-port.json',
);
