/**
 * The runtime benchmark's actor tree: how it is made and how its ticks are handed over, a turn at
 * a time. `bench/runtime.bench.ts` runs it against the bare loop; `bench/pair.bench.ts` copies this
 * file into another checkout's `bench/` and loads both copies into one process, so it uses only what
 * older checkouts have too (`Runtime`, `ManualClock`, the EMA strategy, `bench/support.ts`).
 */
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../src/runtime/clock.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { Instrument, Tick } from '../src/model/index.js';
import { BENCH_RISK_LIMITS, generateTicks, groupBySymbol, turn } from './support.js';

/** The strategy on every symbol: EMA 12/26 on every tick, 10 shares. */
export const TREE_STRATEGY_CONFIG = { fastPeriod: 12, slowPeriod: 26, quantity: 10 };

/** The ticks of a run, in the turns they are handed over (`chunk` ticks a turn), and by symbol within each. */
export interface TreeTicks {
  readonly instruments: readonly Instrument[];
  readonly batches: readonly (readonly Tick[])[];
  readonly grouped: readonly ReadonlyMap<string, readonly Tick[]>[];
  readonly chunk: number;
}

/** `count` synthetic ticks of `symbols` symbols (seed 7 unless given), `chunk` a turn. */
export function treeTicks(count: number, { symbols = 50, seed = 7, chunk = 8192 }: { symbols?: number; seed?: number; chunk?: number } = {}): TreeTicks {
  const { instruments, batches } = generateTicks(symbols, count, seed, chunk);
  return { instruments, batches, grouped: batches.map(groupBySymbol), chunk };
}

/** The tree: one EMA strategy, one portfolio, the paper broker, the benchmark's risk limits. */
export function treeRuntime(instruments: readonly Instrument[], clock: ManualClock, onOrderLatencyUs?: (us: number) => void): Runtime {
  return new Runtime({
    instruments,
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: TREE_STRATEGY_CONFIG }],
    portfolio: { portfolioId: 'bench', initialCashPaise: 1_00_00_000_00 },
    clock,
    riskLimits: BENCH_RISK_LIMITS,
    ...(onOrderLatencyUs ? { onOrderLatencyUs } : {}),
  });
}

/** Hands `ticks` to a started tree a turn at a time (at most four turns waiting), then waits until it is idle. */
export async function feedTree(runtime: Runtime, clock: ManualClock, ticks: TreeTicks): Promise<void> {
  for (let i = 0; i < ticks.grouped.length; i += 1) {
    const batch = ticks.batches[i]!;
    clock.advanceTo(batch[batch.length - 1]!.exchangeTimeMs);
    for (const [symbol, symbolTicks] of ticks.grouped[i]!) runtime.offerTicks(symbol, symbolTicks);
    await turn();
    while (runtime.pendingWork() > ticks.chunk * 4) await turn();
  }
  await runtime.whenIdle();
}

/** One run of a fresh tree over `ticks`: the wall time (ms) from its start until it is idle. */
export async function runTree(ticks: TreeTicks): Promise<number> {
  const clock = new ManualClock(0);
  const runtime = treeRuntime(ticks.instruments, clock);
  runtime.start();
  const started = performance.now();
  await feedTree(runtime, clock, ticks);
  const ms = performance.now() - started;
  await runtime.stop();
  return ms;
}
