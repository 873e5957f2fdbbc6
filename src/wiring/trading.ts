/**
 * The tree part of the start-up sequence, the same for every broker mode: build the runtime
 * with the mode's execution actor, restore the snapshots, recover from the journal, start,
 * publish recovery's alerts, then feed the market data through the pipeline. `startTroupe`
 * (`src/app.ts`) wraps it with the stores, leases, notifications and the gateway; tests of a
 * mode's tree drive it directly (`startKiteTrading`).
 */
import { filter } from 'rxjs';
import type { SnapshotStore } from '../actors/core/index.js';
import type { Bar, Paise, Tick } from '../model/index.js';
import type { Journal } from '../actors/journal.js';
import type { CheckpointStore } from '../persistence/recovery.js';
import type { RiskManagerLimits } from '../risk/risk-manager.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { Runtime, type StrategySpec } from '../runtime/runtime.js';
import { marketDataPipeline } from '../streams/index.js';
import type { BrokerWiring, Recovered } from './broker-wiring.js';
import { stopOnce } from './stop-once.js';

/** Counters for the terminal status line. */
export interface RunningStats {
  ticks: number;
  orders: number;
  fills: number;
  rejectedTicks: number;
}

/** Options of {@link startTrading}. */
export interface TradingOptions<R extends Recovered> {
  readonly wiring: BrokerWiring<R>;
  readonly strategies: readonly StrategySpec[];
  readonly initialCashPaise: Paise;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly riskLimits?: Partial<RiskManagerLimits>;
  readonly squareOffMinute?: number;
  /** Where actor snapshots live; the tree restores from it before recovery. */
  readonly snapshotStore?: SnapshotStore;
  /** What backs the stores, added to the "restored" line. */
  readonly describeStores?: Readonly<Record<string, unknown>>;
  /** Journal before acting; with it, start-up replays the journal and reconciles with the broker. */
  readonly journal?: Journal;
  readonly onJournalHealth?: (healthy: boolean) => void;
  /** The journal watermark recovery starts from. */
  readonly checkpoints?: CheckpointStore;
  /** Called once the tree runs, before recovery's alerts are published: attach what must hear them (notifications). */
  readonly onStarted?: (runtime: Runtime) => void;
  /** Ticks and closed bars after the tree took them (the time-series recorder). */
  readonly recorder?: { offerTicks(ticks: readonly Tick[]): void; offerBars(bars: readonly Bar[]): void };
  /** While it says true, ticks are dropped at the source (a pausable feed paused by an admin). */
  readonly feedPaused?: () => boolean;
}

/** A running tree of one broker mode. */
export interface Trading<R extends Recovered> {
  readonly runtime: Runtime;
  readonly stats: Readonly<RunningStats>;
  /** What start-up recovery found (with a journal). */
  readonly recovery: R | undefined;
  /** The feed as the gateway's health and halts see it. */
  feedState(): { readonly connected: boolean; readonly lastTickAgeMs: number | undefined; readonly followsExchangeHours: boolean };
  /** Wall time of the last valid tick, if any. */
  lastTickWallMs(): number | undefined;
  /** Feed and mode services off, then the tree drains (final snapshots). */
  stop(): Promise<void>;
}

/** Builds, restores, recovers and starts the tree of `options.wiring`, then its feed. */
export async function startTrading<R extends Recovered>(options: TradingOptions<R>): Promise<Trading<R>> {
  const { wiring, log, metrics } = options;
  const portfolio = { portfolioId: wiring.portfolioId, initialCashPaise: options.initialCashPaise };
  const runtime = new Runtime({
    instruments: wiring.instruments,
    strategies: options.strategies,
    portfolio,
    clock: wiring.clock,
    logger: log,
    metrics,
    ...wiring.execution,
    ...(options.riskLimits ? { riskLimits: options.riskLimits } : {}),
    ...(options.squareOffMinute === undefined ? {} : { squareOffMinute: options.squareOffMinute }),
    ...(options.snapshotStore ? { snapshotStore: options.snapshotStore } : {}),
    ...(options.journal ? { journal: options.journal } : {}),
    ...(options.onJournalHealth ? { onJournalHealth: options.onJournalHealth } : {}),
  });
  let recovery: R | undefined;
  try {
    if (options.snapshotStore) {
      const restored = await runtime.restoreFrom(options.snapshotStore);
      log.info({ restored, ...options.describeStores }, restored > 0 ? 'restored actor state from the last run' : 'starting with fresh state');
    }
    // the journal onto the snapshots (no side effects), then the broker's truth
    recovery = options.journal
      ? await wiring.recover({
          journal: options.journal,
          target: runtime,
          portfolios: [portfolio],
          log,
          ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
        })
      : undefined;
  } catch (error) {
    await runtime.stop(1_000).catch(() => undefined);
    throw error;
  }
  runtime.start();
  // counted before recovery's alerts are published (position mismatches, reconciliation: alert rules watch them)
  metrics.attachBus(runtime.bus);
  options.onStarted?.(runtime);
  for (const alert of recovery?.alerts ?? []) runtime.bus.publish(alert);
  const stats: RunningStats = { ticks: 0, orders: 0, fills: 0, rejectedTicks: 0 };
  runtime.bus.on('OrderSubmitted', () => (stats.orders += 1));
  runtime.bus.on('OrderFilled', () => (stats.fills += 1));
  const services = wiring.attach(runtime);

  const source = wiring.feed.source;
  const feedPaused = options.feedPaused;
  const source$ = wiring.feed.ticks$(runtime);
  let lastTickWallMs: number | undefined;
  const pipeline = marketDataPipeline({
    source$: feedPaused ? source$.pipe(filter(() => !feedPaused())) : source$,
    instruments: wiring.instruments,
    onRejected: (rejection) => {
      stats.rejectedTicks += 1;
      metrics.ticksRejected.inc({ reason: rejection.reason });
      log.warn({ source, rejection }, 'malformed tick dropped');
    },
    onTicks: (symbol, ticks) => {
      lastTickWallMs = Date.now();
      metrics.noteTicks(symbol, lastTickWallMs);
      wiring.feed.onTicks?.(ticks);
      stats.ticks += ticks.length;
      metrics.ticks.inc({ source }, ticks.length);
      if (runtime.offerTicks(symbol, ticks)) metrics.ticksDelivered.inc({ source }, ticks.length);
      else metrics.ticksDropped.inc({ source }, ticks.length);
      options.recorder?.offerTicks(ticks);
    },
    onBars: (bars) => {
      runtime.offerBars(bars);
      options.recorder?.offerBars(bars);
    },
    barIntervals: ['1m', '5m'],
    onError: (error) => log.error({ err: error, source }, 'market-data pipeline failed'),
  });
  metrics.bindMarketClock(() => wiring.marketNowMs());
  metrics.watchSymbols(
    wiring.instruments.map((instrument) => instrument.symbol),
    Date.now(),
  );
  services.start();

  return {
    runtime,
    stats,
    recovery,
    feedState: () => ({
      connected: !pipeline.closed && wiring.feed.connected(),
      lastTickAgeMs: lastTickWallMs === undefined ? undefined : Date.now() - lastTickWallMs,
      followsExchangeHours: wiring.feed.followsExchangeHours,
    }),
    lastTickWallMs: () => lastTickWallMs,
    stop: stopOnce(async () => {
      services.stop();
      pipeline.unsubscribe();
      await runtime.stop(8_000);
    }),
  };
}
