/**
 * `npm run bench [-- --json] [--ticks N] [--symbols N] [--rate N] [--seconds N]`
 *
 * 1. Throughput: replays N ticks of the synthetic market (50 symbols by default) through
 *    the whole tree (symbol → strategy → risk → paper broker → portfolio) and through a
 *    bare loop running the same strategy and accounting code without actors.
 * 2. Latency: offers `rate` ticks/s for `seconds` s and measures, per order, the time from
 *    the tick's arrival to the order reaching the paper broker.
 * Prints a table; with --json prints one JSON object; always writes bench/results/runtime.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { emaCross } from '../src/strategies/ema-cross/ema-cross.strategy.js';
import { Runtime } from '../src/runtime/runtime.js';
import { DEFAULT_RISK_MANAGER_LIMITS } from '../src/risk/risk-manager.js';
import { ManualClock } from '../src/runtime/clock.js';
import { createSyntheticMarket } from '../src/streams/index.js';
import type { Instrument, Tick } from '../src/model/index.js';
import { intOption, parseArgs, usage } from '../src/cli/args.js';
import { runBareLoop } from './bare-loop.js';

const OPTIONS = [
  { name: 'ticks', description: 'Ticks for the throughput run', default: '2000000', valueName: 'n' },
  { name: 'symbols', description: 'Symbols', default: '50', valueName: 'n' },
  { name: 'chunk', description: 'Ticks handed to the tree per event-loop turn', default: '8192', valueName: 'n' },
  { name: 'rate', description: 'Offered ticks/s in the latency run', default: '50000', valueName: 'n' },
  { name: 'seconds', description: 'Length of the latency run', default: '10', valueName: 's' },
  { name: 'json', description: 'Print one JSON object', flag: true },
] as const;

const values = parseArgs(process.argv.slice(2), OPTIONS);
if (!values) {
  process.stdout.write(`${usage('npm run bench --', 'Throughput and latency of the Troupe actor tree.', OPTIONS)}\n`);
  process.exit(0);
}
const totalTicks = intOption(values, 'ticks');
const symbols = intOption(values, 'symbols');
const chunk = intOption(values, 'chunk');
const rate = intOption(values, 'rate');
const seconds = intOption(values, 'seconds');
const asJson = values.json === 'true';
const say = (line: string): void => {
  if (!asJson) process.stderr.write(`${line}\n`);
};

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function generate(count: number, seed: number): { instruments: readonly Instrument[]; batches: Tick[][] } {
  const market = createSyntheticMarket({ symbols, seed, ticksPerSymbolPerSecond: 4 });
  const batches: Tick[][] = [];
  for (let made = 0; made < count; ) {
    const batch = market.nextBatch(Math.min(chunk, count - made));
    batches.push(batch);
    made += batch.length;
  }
  return { instruments: market.instruments, batches };
}

function groupBySymbol(batch: readonly Tick[]): Map<string, Tick[]> {
  const groups = new Map<string, Tick[]>();
  for (const tick of batch) {
    let list = groups.get(tick.symbol);
    if (!list) groups.set(tick.symbol, (list = []));
    list.push(tick);
  }
  return groups;
}

const strategyConfig = { fastPeriod: 12, slowPeriod: 26, quantity: 10 };
/**
 * The order-rate, exposure and daily-loss limits would refuse most orders of this churny
 * workload (and trip the kill switch); lift them for both runs so that both do the same,
 * order-heavy work. Every check still runs on every intent.
 */
const benchLimits = {
  ...DEFAULT_RISK_MANAGER_LIMITS,
  maxOrdersPerSecond: 100_000,
  maxOrdersPerSecondPerStrategy: 100_000,
  maxGrossExposurePaise: 1_000_000_000_00,
  maxNetExposurePaise: 1_000_000_000_00,
  maxDailyLossPaise: 1_000_000_000_00,
};

function makeRuntime(instruments: readonly Instrument[], clock: ManualClock, onOrderLatencyUs?: (us: number) => void): Runtime {
  return new Runtime({
    instruments,
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: strategyConfig }],
    portfolio: { portfolioId: 'bench', initialCashPaise: 1_00_00_000_00 },
    clock,
    riskLimits: benchLimits,
    ...(onOrderLatencyUs ? { onOrderLatencyUs } : {}),
  });
}

async function throughput() {
  say(`generating ${totalTicks.toLocaleString('en-IN')} ticks for ${symbols} symbols…`);
  const { instruments, batches } = generate(totalTicks, 7);
  const grouped = batches.map(groupBySymbol);

  say('bare loop…');
  const bareConfig = emaCross.parseConfig({ ...strategyConfig, symbols: instruments.map((i) => i.symbol) });
  const bareStart = performance.now();
  const bare = runBareLoop(emaCross, bareConfig, instruments, batches, benchLimits);
  const bareMs = performance.now() - bareStart;

  say('actor tree…');
  const clock = new ManualClock(0);
  const runtime = makeRuntime(instruments, clock);
  runtime.start();
  let fills = 0;
  let orders = 0;
  runtime.bus.on('OrderFilled', () => (fills += 1));
  runtime.bus.on('OrderSubmitted', () => (orders += 1));
  const start = performance.now();
  for (let i = 0; i < grouped.length; i += 1) {
    const batch = batches[i]!;
    clock.advanceTo(batch[batch.length - 1]!.exchangeTimeMs);
    for (const [symbol, ticks] of grouped[i]!) runtime.offerTicks(symbol, ticks);
    await turn();
    while (runtime.pendingWork() > chunk * 4) await turn();
  }
  await runtime.whenIdle();
  const treeMs = performance.now() - start;
  const rss = process.memoryUsage().rss;
  await runtime.stop();
  return {
    ticks: totalTicks,
    ticksPerSec: Math.round((totalTicks * 1000) / treeMs),
    bareLoopTicksPerSec: Math.round((bare.ticks * 1000) / bareMs),
    treeOrders: orders,
    treeFills: fills,
    bareOrders: bare.orders,
    bareFills: bare.fills,
    rssMb: Math.round(rss / 1e6),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency() {
  const needed = rate * seconds;
  say(`latency: offering ${rate.toLocaleString('en-IN')} ticks/s for ${seconds} s…`);
  const { instruments, batches } = generate(needed, 11);
  const ticks = batches.flat();
  const samples: number[] = [];
  const clock = new ManualClock(0);
  const runtime = makeRuntime(instruments, clock, (us) => samples.push(us));
  runtime.start();
  const rssBefore = process.memoryUsage().rss;
  let sent = 0;
  let maxRss = rssBefore;
  const start = performance.now();
  while (sent < ticks.length) {
    const elapsedMs = performance.now() - start;
    const due = Math.min(ticks.length, Math.floor((elapsedMs * rate) / 1000));
    if (due > sent) {
      const now = performance.now();
      const groups = new Map<string, Tick[]>();
      for (; sent < due; sent += 1) {
        const tick = { ...ticks[sent]!, receivedMonoMs: now };
        let list = groups.get(tick.symbol);
        if (!list) groups.set(tick.symbol, (list = []));
        list.push(tick);
        clock.advanceTo(tick.exchangeTimeMs);
      }
      for (const [symbol, list] of groups) runtime.offerTicks(symbol, list);
    }
    await turn();
    if ((sent & 1023) === 0) maxRss = Math.max(maxRss, process.memoryUsage().rss);
  }
  await runtime.whenIdle();
  const wallSec = (performance.now() - start) / 1000;
  await runtime.stop();
  samples.sort((a, b) => a - b);
  return {
    offeredTicksPerSec: rate,
    achievedTicksPerSec: Math.round(ticks.length / wallSec),
    orders: samples.length,
    tickToOrderP50Us: Math.round(percentile(samples, 50)),
    tickToOrderP99Us: Math.round(percentile(samples, 99)),
    tickToOrderMaxUs: Math.round(samples[samples.length - 1] ?? Number.NaN),
    rssMb: Math.round(maxRss / 1e6),
  };
}

const t = await throughput();
const l = await latency();
const result = {
  benchmark: 'runtime',
  node: process.version,
  symbols,
  ticks: t.ticks,
  ticksPerSec: t.ticksPerSec,
  bareLoopTicksPerSec: t.bareLoopTicksPerSec,
  ratio: Number((t.ticksPerSec / t.bareLoopTicksPerSec).toFixed(3)),
  treeOrders: t.treeOrders,
  treeFills: t.treeFills,
  bareOrders: t.bareOrders,
  bareFills: t.bareFills,
  throughputRssMb: t.rssMb,
  latency: l,
  tickToOrderP50Us: l.tickToOrderP50Us,
  tickToOrderP99Us: l.tickToOrderP99Us,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/runtime.json', `${JSON.stringify(result, null, 2)}\n`);
if (asJson) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const rows: [string, string][] = [
    ['ticks through the tree', t.ticks.toLocaleString('en-IN')],
    ['tree ticks/s', t.ticksPerSec.toLocaleString('en-IN')],
    ['bare loop ticks/s', t.bareLoopTicksPerSec.toLocaleString('en-IN')],
    ['ratio (tree / bare)', result.ratio.toFixed(3)],
    ['orders / fills (tree)', `${t.treeOrders} / ${t.treeFills}`],
    ['orders / fills (bare)', `${t.bareOrders} / ${t.bareFills}`],
    ['RSS after throughput run', `${t.rssMb} MB`],
    ['latency run: offered / achieved', `${l.offeredTicksPerSec} / ${l.achievedTicksPerSec} ticks/s`],
    ['tick→order p50 / p99 / max', `${l.tickToOrderP50Us} / ${l.tickToOrderP99Us} / ${l.tickToOrderMaxUs} µs (${l.orders} orders)`],
    ['RSS peak in latency run', `${l.rssMb} MB`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n(written to bench/results/runtime.json)\n`);
}
