/**
 * The backtester: replays a data folder through the very same actor tree, paper broker,
 * cost model and risk gate as paper trading, on a simulated clock. It steps one market
 * timestamp at a time and waits until the tree is idle before the next, so every
 * consequence of a tick (intent, risk, order) lands before the next tick: the result is
 * deterministic, byte for byte.
 */
import { Subject } from 'rxjs';
import { InMemorySnapshotStore } from '../actors/core/index.js';
import {
  istDate,
  istDayStartMs,
  summarisePortfolio,
  type Fill,
  type Instrument,
  type Order,
  type Paise,
  type PortfolioSummary,
  type Position,
  type Tick,
} from '../model/index.js';
import { ManualClock } from '../runtime/clock.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { Runtime } from '../runtime/runtime.js';
import type { RiskManagerLimits } from '../risk/risk-manager.js';
import { computeMetrics, type BacktestMetrics, type DailyEquity } from './metrics.js';
import { marketDataPipeline, readDataFolder, replayTickBatches, type RejectedRow } from '../streams/index.js';

export interface BacktestOptions {
  /** A folder of per-symbol CSV files (see ../shared/data/README.md for the layouts). */
  readonly dataDir: string;
  readonly strategyKind: string;
  readonly strategyConfig?: Record<string, unknown>;
  readonly symbols?: readonly string[];
  readonly initialCashPaise?: Paise;
  /** Only bars starting at or after this instant (epoch ms). */
  readonly fromMs?: number;
  /** Only bars starting before this instant (epoch ms). */
  readonly toMs?: number;
  readonly riskLimits?: Partial<RiskManagerLimits>;
  readonly logger?: Logger;
  /** Called now and then with the share of ticks replayed (0..1). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What a backtest produced. Money in paise; JSON-safe; key order fixed. */
export interface BacktestResult {
  readonly meta: {
    readonly dataDir: string;
    readonly strategy: string;
    readonly config: Record<string, unknown>;
    readonly symbols: readonly string[];
    readonly interval: string;
    readonly bars: number;
    readonly ticks: number;
    readonly rejectedRows: readonly RejectedRow[];
    readonly firstTickMs: number | null;
    readonly lastTickMs: number | null;
    readonly fromMs: number | null;
    readonly toMs: number | null;
    readonly note: string;
  };
  readonly orders: readonly Order[];
  readonly fills: readonly Fill[];
  readonly positions: readonly Position[];
  /** Equity at the end of each IST day with ticks (after the day's last tick; the last day after the final bars closed). */
  readonly equity: readonly DailyEquity[];
  readonly metrics: BacktestMetrics;
  readonly summary: PortfolioSummary & { readonly initialCashPaise: Paise; readonly orders: number; readonly fills: number; readonly rejectedIntents: number; readonly riskAlerts: Readonly<Record<string, number>> };
}

const TICK_NOTE =
  'Ticks are generated inside each bar deterministically: open, the nearer of high/low, the other, close; volume spread over them.';

export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const data = await readDataFolder(options.dataDir, {
    ...(options.symbols ? { symbols: options.symbols } : {}),
    ...(options.fromMs === undefined ? {} : { from: options.fromMs }),
    ...(options.toMs === undefined ? {} : { to: options.toMs }),
  });
  if (data.instruments.length === 0) throw new Error(`no usable CSV files in ${options.dataDir}`);
  const clock = new ManualClock(0);
  const initialCashPaise = options.initialCashPaise ?? 1_00_00_000_00;
  const runtime = new Runtime({
    instruments: data.instruments,
    strategies: [{ strategyId: options.strategyKind, kind: options.strategyKind, config: options.strategyConfig ?? {} }],
    portfolio: { portfolioId: 'backtest', initialCashPaise },
    clock,
    logger: options.logger ?? silentLogger(),
    snapshotStore: new InMemorySnapshotStore(),
    ...(options.riskLimits ? { riskLimits: options.riskLimits } : {}),
  });
  const orders = new Map<string, Order>();
  const fills: Fill[] = [];
  let rejectedIntents = 0;
  runtime.bus.on('OrderSubmitted', (event) => orders.set(event.order.clientOrderId, event.order));
  runtime.bus.on('OrderUpdated', (event) => orders.set(event.order.clientOrderId, event.order));
  runtime.bus.on('OrderFilled', (event) => {
    orders.set(event.order.clientOrderId, event.order);
    fills.push(event.fill);
  });
  const riskAlerts: Record<string, number> = {};
  runtime.bus.on('RiskAlert', (alert) => {
    rejectedIntents += 1;
    riskAlerts[alert.code] = (riskAlerts[alert.code] ?? 0) + 1;
  });
  runtime.start();

  const source = new Subject<readonly unknown[]>();
  const pipeline = marketDataPipeline({
    source$: source,
    instruments: data.instruments,
    onRejected: () => undefined, // replayed ticks come from validated bars
    onTicks: (symbol, ticks) => runtime.offerTicks(symbol, ticks),
    onBars: (bars) => runtime.offerBars(bars),
    barIntervals: [data.interval],
  });

  const total = [...data.bars.values()].reduce((sum, bars) => sum + bars.length, 0) * 4;
  let replayed = 0;
  let firstTickMs: number | null = null;
  let lastTickMs: number | null = null;
  let step: Tick[] = [];
  const equity: DailyEquity[] = [];
  let dayStartMs: number | null = null;
  const flush = async (): Promise<void> => {
    if (step.length === 0) return;
    const at = step[0]!.exchangeTimeMs;
    const day = istDayStartMs(at);
    if (day !== dayStartMs) {
      // a new IST day: the portfolio now is the previous day's close
      if (dayStartMs !== null) {
        const before = runtime.portfolio();
        equity.push({ date: istDate(dayStartMs), equityPaise: before ? summarisePortfolio(before).equityPaise : initialCashPaise });
      }
      dayStartMs = day;
    }
    clock.advanceTo(at);
    source.next(step);
    replayed += step.length;
    step = [];
    await runtime.whenIdle();
  };
  let lastProgress = 0;
  for (const batch of replayTickBatches(data, 4096)) {
    for (const tick of batch) {
      firstTickMs ??= tick.exchangeTimeMs;
      lastTickMs = tick.exchangeTimeMs;
      if (step.length > 0 && step[0]!.exchangeTimeMs !== tick.exchangeTimeMs) await flush();
      step.push(tick);
    }
    if (options.onProgress && replayed - lastProgress >= 50_000) {
      lastProgress = replayed;
      options.onProgress(replayed, total);
    }
  }
  await flush();
  source.complete(); // closes the last bars
  await runtime.whenIdle();
  pipeline.unsubscribe();

  const state = runtime.portfolio();
  await runtime.stop();
  if (!state) throw new Error('the portfolio never started');
  const summary = summarisePortfolio(state);
  if (dayStartMs !== null) equity.push({ date: istDate(dayStartMs), equityPaise: summary.equityPaise });
  const sortedOrders = [...orders.values()].sort((a, b) => a.createdAtMs - b.createdAtMs || a.clientOrderId.localeCompare(b.clientOrderId));
  const positions = Object.keys(state.positions)
    .sort()
    .map((key) => state.positions[key]!)
    .filter((position): position is Position => position !== undefined);
  options.onProgress?.(replayed, replayed);
  return {
    meta: {
      dataDir: options.dataDir,
      strategy: options.strategyKind,
      config: options.strategyConfig ?? {},
      symbols: data.instruments.map((instrument: Instrument) => instrument.symbol),
      interval: data.interval,
      bars: total / 4,
      ticks: replayed,
      rejectedRows: data.rejected,
      firstTickMs,
      lastTickMs,
      fromMs: options.fromMs ?? null,
      toMs: options.toMs ?? null,
      note: TICK_NOTE,
    },
    orders: sortedOrders,
    fills,
    positions,
    equity,
    metrics: computeMetrics({ initialCashPaise, equity, fills, positions }),
    summary: { ...summary, initialCashPaise, orders: sortedOrders.length, fills: fills.length, rejectedIntents, riskAlerts },
  };
}
