/**
 * The backtester: replays market data through the very same actor tree, paper broker, cost
 * model and risk manager as paper trading, on a simulated clock. The data come from a
 * folder of CSV files, the time-series store or memory ({@link BacktestData}); they are
 * replayed with `steppedReplay$`, the consumer-paced replay that paper trading from a file
 * uses too: one exchange timestamp at a time, the next only once the tree is idle, so every
 * consequence of a tick (intent, risk, order) lands before the next tick and the result is
 * deterministic, byte for byte, and equal to paper trading's (test/backtest/parity.test.ts).
 */
import { performance } from 'node:perf_hooks';
import { InMemorySnapshotStore } from '../actors/core/index.js';
import {
  AUTO_SQUARE_OFF_REASON,
  BAR_INTERVALS,
  callAndTradeFeePaise,
  mul,
  istDate,
  istDayStartMs,
  summarisePortfolio,
  type Bar,
  type BarInterval,
  type Fill,
  type Instrument,
  type Order,
  type Paise,
  type PortfolioSummary,
  type Position,
} from '../model/index.js';
import type { PaperBrokerConfig } from '../brokers/paper/index.js';
import { ManualClock } from '../runtime/clock.js';
import { strategyByKind } from '../strategies/index.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { Runtime, type RuntimeMlOptions } from '../runtime/runtime.js';
import type { RiskManagerLimits } from '../risk/risk-manager.js';
import type { AggregatorConfig } from '../signals/index.js';
import { computeMetrics, type BacktestMetrics, type DailyEquity } from './metrics.js';
import { marketDataPipeline, readDataFolder, replayDataFromBars, type CalendarWarning, type RejectedRow } from '../streams/index.js';
import { steppedReplay$ } from '../streams/sources/stepped-replay.js';

/** Bars to replay, already loaded (from CSV, the time-series store, or made in memory). */
export interface BacktestData {
  /** Sorted by symbol; the replay breaks timestamp ties in this order. */
  readonly instruments: readonly Instrument[];
  readonly bars: ReadonlyMap<string, readonly Bar[]>;
  readonly interval: BarInterval;
  readonly rejected: readonly RejectedRow[];
  /** Bars on days without an NSE session (kept, reported in `meta.offCalendarBars`); absent: found from the bars. */
  readonly warnings?: readonly CalendarWarning[];
}

export interface BacktestOptions {
  /**
   * Where the data came from, as recorded in `meta.dataDir`: a folder of per-symbol CSV files
   * (see ../shared/data/README.md for the layouts), read unless `data` is given, or a label
   * such as `db:bars_1m`.
   */
  readonly dataDir: string;
  /** Bars already loaded: replayed instead of reading `dataDir` (still cut by symbols, from and to). */
  readonly data?: BacktestData;
  readonly strategyKind: string;
  /** Id of the strategy (and so the prefix of its client order ids); default the kind. */
  readonly strategyId?: string;
  readonly strategyConfig?: Record<string, unknown>;
  /**
   * Strategies that run beside the main one on the same portfolio, e.g. the signalling
   * strategies an `ensemble` trades on (it only trades the signal aggregator's vote). Each
   * trades too, under its own id (default its kind); their symbols default to the data's.
   */
  readonly companions?: readonly BacktestCompanion[];
  /** The signal aggregator's vote (weights per strategy id, threshold, expiry); defaults in `src/signals`. */
  readonly aggregator?: Partial<AggregatorConfig>;
  /** An ML actor predicting from the replayed bars (for `ml-signal`); each prediction is awaited before the replay steps on. */
  readonly ml?: RuntimeMlOptions;
  /** The model `ml` runs, as recorded in `meta.model`. */
  readonly model?: BacktestModel;
  readonly symbols?: readonly string[];
  readonly initialCashPaise?: Paise;
  /** Only bars starting at or after this instant (epoch ms). */
  readonly fromMs?: number;
  /** Only bars starting before this instant (epoch ms). */
  readonly toMs?: number;
  readonly riskLimits?: Partial<RiskManagerLimits>;
  /** The paper broker's settings (slippage, participation…); default `DEFAULT_PAPER_BROKER_CONFIG`. */
  readonly broker?: Partial<PaperBrokerConfig>;
  /** The MIS cut-off, minutes after IST midnight (default 15:20): the paper broker squares off open MIS positions then. */
  readonly squareOffMinute?: number;
  readonly logger?: Logger;
  /** Called now and then with the ticks replayed so far and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** A strategy run beside the main one (see {@link BacktestOptions.companions}). */
export interface BacktestCompanion {
  readonly kind: string;
  /** Default: the kind. Must differ from every other strategy id of the run. */
  readonly strategyId?: string;
  readonly config?: Record<string, unknown>;
}

/** The ML model a backtest ran (`npm run backtest -- --model`). */
export interface BacktestModel {
  readonly version: string;
  readonly kind: string;
  readonly onnxSha256: string;
}

/** What a backtest produced. Money in paise; JSON-safe; key order fixed. */
export interface BacktestResult {
  readonly meta: {
    readonly dataDir: string;
    readonly strategy: string;
    readonly config: Record<string, unknown>;
    /** Present only when strategies ran beside the main one. */
    readonly companions?: readonly { readonly strategyId: string; readonly kind: string; readonly config: Record<string, unknown> }[];
    /** Present only when an ML model's predictions were traded. */
    readonly model?: BacktestModel;
    readonly symbols: readonly string[];
    readonly interval: string;
    readonly bars: number;
    readonly ticks: number;
    readonly rejectedRows: readonly RejectedRow[];
    /** Bars dated on NSE holidays or weekends without a session: replayed, counted here, the first examples named. */
    readonly offCalendarBars: { readonly count: number; readonly examples: readonly CalendarWarning[] };
    readonly firstTickMs: number | null;
    readonly lastTickMs: number | null;
    readonly fromMs: number | null;
    readonly toMs: number | null;
    readonly note: string;
    /** How orders meet prices (see {@link FILL_MODEL}). */
    readonly fillModel: string;
  };
  readonly orders: readonly Order[];
  readonly fills: readonly Fill[];
  readonly positions: readonly Position[];
  /** Equity at the end of each IST day with ticks (after the day's last tick; the last day after the final bars closed). */
  readonly equity: readonly DailyEquity[];
  readonly metrics: BacktestMetrics;
  readonly summary: PortfolioSummary & {
    readonly initialCashPaise: Paise;
    readonly orders: number;
    readonly fills: number;
    readonly rejectedIntents: number;
    readonly riskAlerts: Readonly<Record<string, number>>;
    /** What the broker's MIS auto square-off (15:20 IST) did: its orders (reason `auto-square-off`) are in `orders`, their fills in `fills`. */
    readonly autoSquareOff: AutoSquareOffSummary;
  };
}

/** The broker's MIS auto square-off over a backtest. */
export interface AutoSquareOffSummary {
  /** Square-off orders placed (at most 30,000 units each). */
  readonly orders: number;
  readonly fills: number;
  /** Units closed. */
  readonly quantity: number;
  /** Every charge of those fills, the call-and-trade fee included. */
  readonly chargesPaise: Paise;
  /** Of which the call-and-trade fee (₹50 + 18% GST per order that filled). */
  readonly callAndTradePaise: Paise;
}

/** Sums up the square-off orders and fills of a run. */
export function summariseAutoSquareOff(orders: readonly Order[], fills: readonly Fill[]): AutoSquareOffSummary {
  const ids = new Set(orders.filter((order) => order.reason === AUTO_SQUARE_OFF_REASON).map((order) => order.clientOrderId));
  let count = 0;
  let quantity = 0;
  let chargesPaise = 0;
  const filledOrders = new Set<string>();
  for (const fill of fills) {
    if (!ids.has(fill.clientOrderId)) continue;
    count += 1;
    quantity += fill.quantity;
    chargesPaise += fill.chargesPaise;
    filledOrders.add(fill.clientOrderId);
  }
  return { orders: ids.size, fills: count, quantity, chargesPaise, callAndTradePaise: mul(filledOrders.size, callAndTradeFeePaise()) };
}

const TICK_NOTE = 'Ticks are generated inside each bar deterministically: open, the nearer of high/low, the other, close; volume spread over them.';

/**
 * The fill model, as the report states it. Daily bars close on their last tick (15:29:59.999
 * IST, `CLOSE_ON_FINAL_MS`), so an order decided on day t's close is created then and, as a
 * MARKET order, fills on the symbol's next tick: day t+1's opening tick, at the open moved by
 * the slippage against the trader. Intraday bars close on the next bar's first tick, so an
 * order decided on bar t fills on bar t+1's second tick.
 */
export const FILL_MODEL =
  "fill model: next bar open. Daily bars: a decision on day t's close (order created at 15:29:59.999 IST) fills at day t+1's open (09:15 IST) ± slippage. Intraday bars: a decision on bar t (taken at bar t+1's first tick) fills at bar t+1's second tick.";

/** Reads a CSV folder as {@link BacktestData} (see `readDataFolder`). */
export async function loadCsvData(
  dir: string,
  select: { readonly symbols?: readonly string[]; readonly fromMs?: number; readonly toMs?: number } = {},
): Promise<BacktestData> {
  return readDataFolder(dir, {
    ...(select.symbols ? { symbols: select.symbols } : {}),
    ...(select.fromMs === undefined ? {} : { from: select.fromMs }),
    ...(select.toMs === undefined ? {} : { to: select.toMs }),
  });
}

/**
 * The part of `data` to replay: only `symbols` (when given; unknown ones are reported in
 * `rejected`), bars starting in [fromMs, toMs). The instruments are made again from the cut
 * (`replayDataFromBars`), as `readDataFolder` makes them from the same cut of the files, so
 * a cut of loaded data replays exactly like the same cut read from disk.
 */
export function selectData(
  data: BacktestData,
  select: { readonly symbols?: readonly string[]; readonly fromMs?: number; readonly toMs?: number },
): BacktestData {
  if (select.symbols === undefined && select.fromMs === undefined && select.toMs === undefined) return data;
  const fromMs = select.fromMs ?? Number.NEGATIVE_INFINITY;
  const toMs = select.toMs ?? Number.POSITIVE_INFINITY;
  const wanted = select.symbols ? new Set(select.symbols) : undefined;
  const rejected = [...data.rejected];
  if (wanted) for (const symbol of wanted) if (!data.bars.has(symbol)) rejected.push({ file: symbol, line: 0, reason: 'no data for this symbol' });
  const cut = new Map<string, readonly Bar[]>();
  for (const instrument of data.instruments) {
    if (wanted && !wanted.has(instrument.symbol)) continue;
    cut.set(
      instrument.symbol,
      (data.bars.get(instrument.symbol) ?? []).filter((bar) => bar.startMs >= fromMs && bar.startMs < toMs),
    );
  }
  const warnings = data.warnings?.filter(
    (warning) =>
      cut.has(warning.symbol) &&
      warning.date >= istDate(fromMs === Number.NEGATIVE_INFINITY ? 0 : fromMs) &&
      (toMs === Number.POSITIVE_INFINITY || warning.date <= istDate(toMs - 1)),
  );
  return replayDataFromBars(cut, data.interval, rejected, warnings);
}

/** A strategy asks for bars finer than the data have (5-minute bars of daily data): it would never get one. */
export class DataIntervalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataIntervalError';
  }
}

/**
 * The bar intervals to aggregate from the replayed ticks: the data's own, and every coarser
 * interval the strategy subscribes to (a 15-minute or daily strategy on 5-minute data gets
 * its bars, built from the ticks like a live feed builds them). Finer ones cannot be made:
 * a subscription to one throws {@link DataIntervalError} (the run would trade nothing).
 */
export function replayIntervals(
  data: BacktestData,
  strategyKind: string,
  strategyConfig: Record<string, unknown>,
  companions: readonly BacktestCompanion[] = [],
): BarInterval[] {
  const intervals = new Set<BarInterval>([data.interval]);
  for (const { kind, config } of [{ kind: strategyKind, config: strategyConfig }, ...companions]) {
    const definition = strategyByKind(kind);
    const raw = config?.symbols === undefined ? { ...config, symbols: data.instruments.map((instrument) => instrument.symbol) } : config;
    for (const subscription of definition.subscriptions(definition.parseConfig(raw))) {
      if (subscription.kind !== 'bars') continue;
      if (BAR_INTERVALS[subscription.interval] < BAR_INTERVALS[data.interval]) {
        throw new DataIntervalError(
          `${kind} asks for ${subscription.interval} bars, but the data are ${data.interval} bars and bars cannot be made finer than the data: set the strategy to ${data.interval} bars or coarser (or ticks), or use data of ${subscription.interval} bars or finer`,
        );
      }
      intervals.add(subscription.interval);
    }
  }
  return [...intervals];
}

/** The companions with their ids and configurations settled; refuses a duplicate id. */
function settleCompanions(mainId: string, companions: readonly BacktestCompanion[]): { strategyId: string; kind: string; config: Record<string, unknown> }[] {
  const ids = new Set([mainId]);
  return companions.map((companion) => {
    const strategyId = companion.strategyId ?? companion.kind;
    if (ids.has(strategyId)) throw new Error(`two strategies of the backtest have the id "${strategyId}": give the companion its own strategyId`);
    ids.add(strategyId);
    return { strategyId, kind: companion.kind, config: companion.config ?? {} };
  });
}

/** How many bars on closed days `meta.offCalendarBars` names (all are counted). */
const OFF_CALENDAR_EXAMPLES = 10;

/** How often a backtest lets the event loop run while it settles steps on its own stack. */
const YIELD_EVERY_MS = 20;

/**
 * Waits for the tree to be idle after each step, like `runtime.whenIdle()`, but settles the
 * step on this stack first (`runPending`: the run queue in the order the event loop would run
 * it), so a step costs no event-loop turns. Every `YIELD_EVERY_MS`, or when work is left after
 * the synchronous run (a failure being supervised), it waits with `runtime.whenIdle()`, which
 * gives the event loop its turns (timers, signals, I/O).
 */
function treeIdleWaiter(runtime: Runtime): () => Promise<void> | undefined {
  let lastYieldMs = performance.now();
  return () => {
    if (runtime.runPending(1_000) === 0 && performance.now() - lastYieldMs < YIELD_EVERY_MS) return undefined; // settled here: step on at once
    return runtime.whenIdle().then(() => {
      lastYieldMs = performance.now();
    });
  };
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const select = {
    ...(options.symbols ? { symbols: options.symbols } : {}),
    ...(options.fromMs === undefined ? {} : { fromMs: options.fromMs }),
    ...(options.toMs === undefined ? {} : { toMs: options.toMs }),
  };
  const data = options.data ? selectData(options.data, select) : await loadCsvData(options.dataDir, select);
  const offCalendar = data.warnings ?? replayDataFromBars(data.bars, data.interval).warnings;
  if (data.instruments.length === 0)
    throw new Error(options.data ? `no bars to replay in ${options.dataDir} for the symbols and dates asked` : `no usable CSV files in ${options.dataDir}`);
  const strategyId = options.strategyId ?? options.strategyKind;
  const companions = settleCompanions(strategyId, options.companions ?? []);
  const barIntervals = replayIntervals(data, options.strategyKind, options.strategyConfig ?? {}, companions);
  const clock = new ManualClock(0);
  const initialCashPaise = options.initialCashPaise ?? 1_00_00_000_00;
  const runtime = new Runtime({
    instruments: data.instruments,
    strategies: [{ strategyId, kind: options.strategyKind, config: options.strategyConfig ?? {} }, ...companions],
    ...(options.aggregator ? { aggregator: options.aggregator } : {}),
    ...(options.ml ? { ml: options.ml } : {}),
    portfolio: { portfolioId: 'backtest', initialCashPaise },
    clock,
    logger: options.logger ?? silentLogger(),
    snapshotStore: new InMemorySnapshotStore(),
    // the regime detector reads the data's own bars (daily data: daily bars), so gating works on every layout
    regimeInterval: data.interval,
    ...(options.riskLimits ? { riskLimits: options.riskLimits } : {}),
    ...(options.broker ? { broker: options.broker } : {}),
    ...(options.squareOffMinute === undefined ? {} : { squareOffMinute: options.squareOffMinute }),
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

  let bars = 0;
  for (const list of data.bars.values()) bars += list.length;
  const total = bars * 4;
  let replayed = 0;
  let firstTickMs: number | null = null;
  let lastTickMs: number | null = null;
  const equity: DailyEquity[] = [];
  let dayStartMs: number | null = null;
  let lastProgress = 0;
  const onStep = (atMs: number, ticks: readonly unknown[]): void => {
    // the tree is idle here: the portfolio reflects every earlier tick
    const day = istDayStartMs(atMs);
    if (day !== dayStartMs) {
      // a new IST day: the portfolio now is the previous day's close
      if (dayStartMs !== null) {
        const before = runtime.portfolio();
        equity.push({ date: istDate(dayStartMs), equityPaise: before ? summarisePortfolio(before).equityPaise : initialCashPaise });
      }
      dayStartMs = day;
    }
    firstTickMs ??= atMs;
    lastTickMs = atMs;
    clock.advanceTo(atMs);
    replayed += ticks.length;
    if (options.onProgress && replayed - lastProgress >= 50_000) {
      lastProgress = replayed;
      options.onProgress(replayed, total);
    }
  };
  await new Promise<void>((resolve, reject) => {
    const subscription = marketDataPipeline({
      source$: steppedReplay$(data, { ready: treeIdleWaiter(runtime), onStep }),
      instruments: data.instruments,
      onRejected: () => undefined, // replayed ticks come from validated bars
      onTicks: (symbol, ticks) => runtime.offerTicks(symbol, ticks),
      onBars: (closed) => runtime.offerBars(closed),
      barIntervals,
      onError: reject,
      onComplete: resolve, // the last bars were closed and offered
    });
    void subscription;
  });
  await runtime.whenIdle();

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
      ...(companions.length > 0 ? { companions } : {}),
      ...(options.model ? { model: { version: options.model.version, kind: options.model.kind, onnxSha256: options.model.onnxSha256 } } : {}),
      symbols: data.instruments.map((instrument: Instrument) => instrument.symbol),
      interval: data.interval,
      bars,
      ticks: replayed,
      rejectedRows: data.rejected,
      offCalendarBars: { count: offCalendar.length, examples: offCalendar.slice(0, OFF_CALENDAR_EXAMPLES) },
      firstTickMs,
      lastTickMs,
      fromMs: options.fromMs ?? null,
      toMs: options.toMs ?? null,
      note: TICK_NOTE,
      fillModel: FILL_MODEL,
    },
    orders: sortedOrders,
    fills,
    positions,
    equity,
    metrics: computeMetrics({ initialCashPaise, equity, fills, positions }),
    summary: {
      ...summary,
      initialCashPaise,
      orders: sortedOrders.length,
      fills: fills.length,
      rejectedIntents,
      riskAlerts,
      autoSquareOff: summariseAutoSquareOff(sortedOrders, fills),
    },
  };
}
