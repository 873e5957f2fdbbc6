/**
 * The runtime benchmark's actor tree as `bench/pair.bench.ts` loads it from two checkouts into one
 * process: copied into the other checkout's `bench/`, so each copy runs its own `src`. It uses only
 * what the runtime benchmark uses (`Runtime`, `ManualClock`, the EMA strategy, `bench/support.ts`).
 */
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../src/runtime/clock.js';
import { Runtime } from '../src/runtime/runtime.js';
import type { Instrument, Tick } from '../src/model/index.js';
import { BENCH_RISK_LIMITS, generateTicks, groupBySymbol, turn } from './support.js';

/** The ticks of a run, in the turns the runtime benchmark hands them over. */
export interface PairTicks {
  readonly instruments: readonly Instrument[];
  readonly batches: readonly (readonly Tick[])[];
  readonly grouped: readonly ReadonlyMap<string, readonly Tick[]>[];
}

const CHUNK = 8192;

/** The runtime benchmark's ticks: `count` of 50 symbols, seed 7, in turns of 8,192. */
export function pairTicks(count: number): PairTicks {
  const { instruments, batches } = generateTicks(50, count, 7, CHUNK);
  return { instruments, batches, grouped: batches.map(groupBySymbol) };
}

/** One run of the tree over `ticks`, as the runtime benchmark's throughput part runs it; its wall time in ms. */
export async function runTree(ticks: PairTicks): Promise<number> {
  const clock = new ManualClock(0);
  const runtime = new Runtime({
    instruments: ticks.instruments,
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 12, slowPeriod: 26, quantity: 10 } }],
    portfolio: { portfolioId: 'bench', initialCashPaise: 1_00_00_000_00 },
    clock,
    riskLimits: BENCH_RISK_LIMITS,
  });
  runtime.start();
  const started = performance.now();
  for (let i = 0; i < ticks.grouped.length; i += 1) {
    const batch = ticks.batches[i]!;
    clock.advanceTo(batch[batch.length - 1]!.exchangeTimeMs);
    for (const [symbol, symbolTicks] of ticks.grouped[i]!) runtime.offerTicks(symbol, symbolTicks);
    await turn();
    while (runtime.pendingWork() > CHUNK * 4) await turn();
  }
  await runtime.whenIdle();
  const ms = performance.now() - started;
  await runtime.stop();
  return ms;
}
