/**
 * Replays a folder of real bars through a whole Runtime with several strategies, one market
 * timestamp at a time, waiting for the tree to be idle in between (the backtester's loop,
 * which runs one strategy only): tests of the regime gate and the aggregator on real data.
 */
import { resolve } from 'node:path';
import { Subject } from 'rxjs';
import { InMemorySnapshotStore } from '../../../src/actors/core/index.js';
import type { DomainEvent, Order, Tick } from '../../../src/model/index.js';
import { ManualClock } from '../../../src/runtime/clock.js';
import { Runtime, type RuntimeOptions, type StrategySpec } from '../../../src/runtime/runtime.js';
import { marketDataPipeline, readDataFolder, replayTickBatches } from '../../../src/streams/index.js';

export const FIVE_MINUTE_DATA = resolve(process.cwd(), '../shared/data/nse-5min');

export interface ReplayResult {
  readonly events: DomainEvent[];
  /** Latest version of every order, by client order id. */
  readonly orders: Map<string, Order>;
  readonly runtime: Runtime;
}

export async function replay(options: {
  readonly dataDir?: string;
  readonly symbols: readonly string[];
  readonly strategies: readonly StrategySpec[];
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly aggregator?: RuntimeOptions['aggregator'];
}): Promise<ReplayResult> {
  const data = await readDataFolder(options.dataDir ?? FIVE_MINUTE_DATA, {
    symbols: options.symbols,
    ...(options.fromMs === undefined ? {} : { from: options.fromMs }),
    ...(options.toMs === undefined ? {} : { to: options.toMs }),
  });
  const clock = new ManualClock(0);
  const runtime = new Runtime({
    instruments: data.instruments,
    strategies: options.strategies,
    portfolio: { portfolioId: 'replay', initialCashPaise: 1_00_00_000_00 },
    clock,
    snapshotStore: new InMemorySnapshotStore(),
    regimeInterval: data.interval,
    ...(options.aggregator ? { aggregator: options.aggregator } : {}),
  });
  const events: DomainEvent[] = [];
  const orders = new Map<string, Order>();
  runtime.bus.onAny((event) => {
    if (event.type === 'MarketDataUpdate') return;
    events.push(event);
    if (event.type === 'OrderSubmitted' || event.type === 'OrderUpdated' || event.type === 'OrderFilled') orders.set(event.order.clientOrderId, event.order);
  });
  runtime.start();
  const source = new Subject<readonly unknown[]>();
  const pipeline = marketDataPipeline({
    source$: source,
    instruments: data.instruments,
    onRejected: () => undefined,
    onTicks: (symbol, ticks) => runtime.offerTicks(symbol, ticks),
    onBars: (bars) => runtime.offerBars(bars),
    barIntervals: [data.interval],
  });
  let step: Tick[] = [];
  const flush = async (): Promise<void> => {
    if (step.length === 0) return;
    clock.advanceTo(step[0]!.exchangeTimeMs);
    source.next(step);
    step = [];
    await runtime.whenIdle();
  };
  for (const batch of replayTickBatches(data, 4096)) {
    for (const tick of batch) {
      if (step.length > 0 && step[0]!.exchangeTimeMs !== tick.exchangeTimeMs) await flush();
      step.push(tick);
    }
  }
  await flush();
  source.complete();
  await runtime.whenIdle();
  pipeline.unsubscribe();
  await runtime.stop();
  return { events, orders, runtime };
}
