/**
 * The live state of the desk, fed by the WebSocket stream. Events are queued as they
 * arrive and applied together once per animation frame, so a burst of thousands of quotes
 * costs one state change and one render per frame, never one per message. React reads it
 * with `useSyncExternalStore` through selectors of its immutable parts (a part that did not
 * change keeps its identity, so its readers do not render).
 */
import { mul } from '../../../src/model/money.js';
import type { Fill, Order, PortfolioSummary, PositionsResponse } from './api.js';

/** One stream event as the gateway's protocol sends it. */
export interface LiveEvent {
  readonly seq: number;
  readonly topic: string;
  readonly key: string;
  readonly atMs: number;
  readonly data: unknown;
}

export interface Candle {
  /** Start of the minute, market time, epoch seconds. */
  readonly timeSec: number;
  readonly openPaise: number;
  readonly highPaise: number;
  readonly lowPaise: number;
  readonly closePaise: number;
  readonly volume: number;
}

export interface LiveQuote {
  readonly symbol: string;
  readonly ltpPaise: number;
  readonly bidPaise?: number;
  readonly askPaise?: number;
  /** Cumulative session volume. */
  readonly volume: number;
  readonly exchangeTimeMs: number;
  /** Wall clock when the desk got it. */
  readonly receivedAtMs: number;
  /**
   * The price sampled every {@link HISTORY_SAMPLE_MS} (at most), the last {@link HISTORY_POINTS}
   * of them, oldest first (sparkline). Between samples it keeps its identity, so a row's
   * sparkline redraws at most that often however fast the quotes come.
   */
  readonly history: readonly number[];
  /** Wall clock of the last point of `history`. */
  readonly historyAtMs: number;
  /** One-minute candles built from the quotes (market time), oldest first. */
  readonly candles: readonly Candle[];
}

/** A position as both REST and the stream describe it (the figures the desk marks itself). */
export interface LivePosition {
  readonly portfolioId: string;
  readonly symbol: string;
  readonly product: string;
  readonly netQuantity: number;
  readonly costPaise: number;
  readonly realisedPaise: number;
  readonly chargesPaise: number;
  readonly buyQuantity: number;
  readonly sellQuantity: number;
  readonly lastPricePaise: number;
}

export interface OrderStep {
  /** Market (exchange) time of the step, from the server's event: the order's update time, or the fill's time. */
  readonly atMs: number;
  /** The stream's sequence number (steps are kept in this order). */
  readonly seq: number;
  readonly event: string;
  readonly status: string;
  readonly filledQuantity: number;
  readonly message?: string;
  readonly fill?: { readonly quantity: number; readonly pricePaise: number; readonly chargesPaise: number };
}

export interface RiskAlertView {
  /** Identifies the alert whether it came from the stream or from the history (`GET /api/v1/risk/alerts`). */
  readonly id: string;
  readonly seq: number;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly code: string;
  readonly message: string;
  readonly atMs: number;
  readonly strategyId?: string;
  readonly symbol?: string;
}

/** What a strategy's fills add up to (exact paise); the desk marks `net` to the live quotes. */
export interface StrategyBook {
  readonly strategyId: string;
  readonly fills: number;
  readonly buyQuantity: number;
  readonly sellQuantity: number;
  /** Σ quantity × price over fills. */
  readonly turnoverPaise: number;
  readonly chargesPaise: number;
  /** Σ −signed quantity × price − charges: cash the fills brought in (negative after buying). */
  readonly cashFlowPaise: number;
  /** Net quantity per symbol. */
  readonly net: Readonly<Record<string, number>>;
  /** The last fill price per symbol (a mark when the desk has no quote). */
  readonly lastPricePaise: Readonly<Record<string, number>>;
  readonly lastFillAtMs: number;
}

/** A fill as the desk keeps it for the per-strategy books. */
export type FillView = Pick<Fill, 'fillId' | 'strategyId' | 'symbol' | 'side' | 'quantity' | 'pricePaise' | 'chargesPaise' | 'atMs'>;

export interface ActorEventView {
  readonly seq: number;
  readonly event: string;
  readonly path: string;
  readonly atMs: number;
  readonly restarts?: number;
  readonly error?: string;
}

export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface ConnectionState {
  readonly status: ConnectionStatus;
  readonly sinceMs: number;
  readonly reconnects: number;
  readonly lastEventAtMs: number | undefined;
  /** When the server last answered an application heartbeat (`pong`), browser clock. */
  readonly lastHeartbeatAtMs?: number;
  readonly lastSeq: number;
  readonly detail?: string;
}

/** Events stop for this long on an open stream: the data is shown as stale (feed stalled, or nothing trading). */
export const QUIET_AFTER_MS = 10_000;
/** No heartbeat answer for this long on an open stream: the server is not answering. */
export const UNRESPONSIVE_AFTER_MS = 12_000;

/**
 * What the desk shows about its data: `live` only while the socket is open, events keep coming
 * and the server answers heartbeats; `quiet` when it answers but no event came for
 * {@link QUIET_AFTER_MS}; `unresponsive` when heartbeats go unanswered; otherwise the socket's state.
 */
export type Freshness = 'live' | 'quiet' | 'unresponsive' | Exclude<ConnectionStatus, 'live'>;

export function freshness(connection: ConnectionState, nowMs: number): { readonly state: Freshness; readonly ageMs: number } {
  if (connection.status !== 'live') return { state: connection.status, ageMs: nowMs - (connection.lastEventAtMs ?? connection.sinceMs) };
  const heartbeatAgeMs = nowMs - Math.max(connection.lastHeartbeatAtMs ?? 0, connection.sinceMs);
  if (heartbeatAgeMs > UNRESPONSIVE_AFTER_MS) return { state: 'unresponsive', ageMs: heartbeatAgeMs };
  const eventAgeMs = nowMs - Math.max(connection.lastEventAtMs ?? 0, connection.sinceMs);
  if (eventAgeMs > QUIET_AFTER_MS) return { state: 'quiet', ageMs: eventAgeMs };
  return { state: 'live', ageMs: eventAgeMs };
}

export interface EquityPoint {
  /** Market time (the exchange's clock, as the server's events carry it), epoch seconds. */
  readonly timeSec: number;
  readonly equityPaise: number;
}

export interface LiveState {
  readonly connection: ConnectionState;
  readonly quotes: ReadonlyMap<string, LiveQuote>;
  readonly orders: ReadonlyMap<string, Order>;
  readonly orderSteps: ReadonlyMap<string, readonly OrderStep[]>;
  readonly positions: ReadonlyMap<string, LivePosition>;
  readonly pnl: ReadonlyMap<string, { readonly summary: PortfolioSummary; readonly atMs: number }>;
  /**
   * The market clock: the latest exchange time the server's events carried (quotes'
   * `exchangeTimeMs`, orders' `updatedAtMs`, fills' `atMs`); undefined until the first one.
   * Never the browser's clock: the market may run faster (replay, `TROUPE_MARKET_SPEED`) or be
   * in another session than the wall clock.
   */
  readonly marketTimeMs: number | undefined;
  /** Equity per portfolio over market time (from P&L updates and the desk's sampler, one point per market second). */
  readonly equity: ReadonlyMap<string, readonly EquityPoint[]>;
  /** Newest first. */
  readonly alerts: readonly RiskAlertView[];
  /** Newest first. */
  readonly actorEvents: readonly ActorEventView[];
  /** Per-strategy figures from the fills the desk has seen (loaded at start, then streamed). */
  readonly strategyBooks: ReadonlyMap<string, StrategyBook>;
  /** False when the start-up load stopped before the session's oldest fill (the books then cover the newest fills only). */
  readonly fillsComplete: boolean;
  /** Frames flushed so far (diagnostics). */
  readonly flushes: number;
  /** Stream events applied so far (diagnostics). */
  readonly eventsApplied: number;
}

export type LiveAction =
  | { readonly kind: 'event'; readonly event: LiveEvent }
  | { readonly kind: 'connection'; readonly status: ConnectionStatus; readonly detail?: string; readonly atMs: number }
  /** The server answered an application heartbeat. */
  | { readonly kind: 'heartbeat'; readonly atMs: number }
  | { readonly kind: 'positions'; readonly response: PositionsResponse; readonly atMs: number }
  | { readonly kind: 'orders'; readonly orders: readonly Order[] }
  | { readonly kind: 'alerts'; readonly alerts: readonly Omit<RiskAlertView, 'id'>[] }
  | { readonly kind: 'fills'; readonly fills: readonly FillView[]; readonly complete: boolean }
  /**
   * Every strategy's book from the record (`GET /api/v1/history/strategy-books`): replaces the
   * books; `recentFillIds` are fills it already counts (the stream's copy of them is not added again).
   */
  | { readonly kind: 'books'; readonly books: readonly StrategyBook[]; readonly recentFillIds: readonly string[] }
  | { readonly kind: 'pnl'; readonly portfolioId: string; readonly summary: PortfolioSummary; readonly atMs: number }
  /** The desk's live equity (positions marked to the quotes), stamped with the market clock when applied. */
  | { readonly kind: 'equity'; readonly portfolioId: string; readonly equityPaise: number }
  | { readonly kind: 'snapshot'; readonly data: Readonly<Record<string, unknown>>; readonly atMs: number };

export const HISTORY_POINTS = 60;
/** Sparkline sampling period: a burst of quotes redraws 50 sparklines 4 times a second, not every frame. */
export const HISTORY_SAMPLE_MS = 250;
const MAX_CANDLES = 240;
const MAX_ALERTS = 200;
const MAX_ACTOR_EVENTS = 100;
const MAX_EQUITY_POINTS = 5_000;
const MAX_ORDER_STEPS = 50;
/** Above this many queued actions (a hidden tab gets no frames), flush without waiting for one. */
const MAX_PENDING = 20_000;

export function emptyState(nowMs = 0): LiveState {
  return {
    connection: { status: 'connecting', sinceMs: nowMs, reconnects: 0, lastEventAtMs: undefined, lastSeq: 0 },
    quotes: new Map(),
    orders: new Map(),
    orderSteps: new Map(),
    positions: new Map(),
    pnl: new Map(),
    marketTimeMs: undefined,
    equity: new Map(),
    alerts: [],
    actorEvents: [],
    strategyBooks: new Map(),
    fillsComplete: true,
    flushes: 0,
    eventsApplied: 0,
  };
}

/** Schedules a flush: by default the next animation frame, with a timer as a fallback for hidden tabs. */
export type FrameScheduler = (flush: () => void) => void;

export const animationFrameScheduler: FrameScheduler = (flush) => {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    flush();
  };
  // rAF does not fire in background tabs; the timer keeps the queue short there
  const timer = setTimeout(run, 500);
  requestAnimationFrame(run);
};

const positionKey = (portfolioId: string, symbol: string, product: string): string => `${portfolioId}:${symbol}:${product}`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function toLivePosition(portfolioId: string, raw: Record<string, unknown>): LivePosition | undefined {
  const num = (name: string): number => {
    const value = raw[name];
    return typeof value === 'number' ? value : 0;
  };
  if (typeof raw.symbol !== 'string' || typeof raw.product !== 'string') return undefined;
  return {
    portfolioId,
    symbol: raw.symbol,
    product: raw.product,
    netQuantity: num('netQuantity'),
    costPaise: num('costPaise'),
    realisedPaise: num('realisedPaise'),
    chargesPaise: num('chargesPaise'),
    buyQuantity: num('buyQuantity'),
    sellQuantity: num('sellQuantity'),
    lastPricePaise: num('lastPricePaise'),
  };
}

/** The rAF-batched store. */
export class LiveStore {
  private state: LiveState;
  private pending: LiveAction[] = [];
  private scheduled = false;
  private readonly listeners = new Set<() => void>();
  /** Fill ids already in the strategy books (the start-up load and the stream overlap). */
  private readonly seenFills = new Set<string>();

  constructor(
    private readonly schedule: FrameScheduler = animationFrameScheduler,
    private readonly now: () => number = Date.now,
  ) {
    this.state = emptyState(now());
  }

  getState = (): LiveState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Queues an action; it is applied with everything else that arrives before the next frame. */
  dispatch(action: LiveAction): void {
    this.pending.push(action);
    if (this.pending.length >= MAX_PENDING) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => this.flush());
    }
  }

  /** Queues a stream event. */
  ingest(event: LiveEvent): void {
    this.dispatch({ kind: 'event', event });
  }

  /** Actions waiting for the next frame. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Applies everything queued and notifies the readers once. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const actions = this.pending;
    this.pending = [];
    this.state = reduce(this.state, actions, this.now(), this.seenFills);
    for (const listener of this.listeners) listener();
  }
}

const TERMINAL_STATUSES = new Set(['COMPLETE', 'REJECTED', 'CANCELLED']);

/**
 * Whether `candidate` is an older state of the order than `known`. Order times come from
 * different clocks (market time of a fill may precede the time it was accepted), so the
 * lifecycle decides first: terminal beats working, more filled beats less, then time.
 */
export function isBehind(candidate: Order, known: Order): boolean {
  const candidateDone = TERMINAL_STATUSES.has(candidate.status);
  const knownDone = TERMINAL_STATUSES.has(known.status);
  if (candidateDone !== knownDone) return knownDone;
  if (candidate.filledQuantity !== known.filledQuantity) return candidate.filledQuantity < known.filledQuantity;
  return candidate.updatedAtMs < known.updatedAtMs;
}

/** Adds one fill to a strategy's book (exact integer paise). */
export function addFillToBook(book: StrategyBook | undefined, fill: FillView): StrategyBook {
  const signed = fill.side === 'BUY' ? fill.quantity : -fill.quantity;
  const value = mul(fill.quantity, fill.pricePaise);
  const net = book?.net[fill.symbol] ?? 0;
  return {
    strategyId: fill.strategyId,
    fills: (book?.fills ?? 0) + 1,
    buyQuantity: (book?.buyQuantity ?? 0) + (signed > 0 ? fill.quantity : 0),
    sellQuantity: (book?.sellQuantity ?? 0) + (signed < 0 ? fill.quantity : 0),
    turnoverPaise: (book?.turnoverPaise ?? 0) + value,
    chargesPaise: (book?.chargesPaise ?? 0) + fill.chargesPaise,
    cashFlowPaise: (book?.cashFlowPaise ?? 0) - (signed > 0 ? value : -value) - fill.chargesPaise,
    net: { ...book?.net, [fill.symbol]: net + signed },
    lastPricePaise: { ...book?.lastPricePaise, [fill.symbol]: fill.pricePaise },
    lastFillAtMs: Math.max(book?.lastFillAtMs ?? 0, fill.atMs),
  };
}

/**
 * Applies a batch of actions; copies each part of the state at most once per batch.
 * `seenFills` remembers the fills already booked (a fill comes once from REST and once from the stream).
 */
export function reduce(previous: LiveState, actions: readonly LiveAction[], nowMs: number, seenFills: Set<string> = new Set()): LiveState {
  let connection = previous.connection;
  let quotes: Map<string, LiveQuote> | undefined;
  let orders: Map<string, Order> | undefined;
  let orderSteps: Map<string, readonly OrderStep[]> | undefined;
  let positions: Map<string, LivePosition> | undefined;
  let pnl: Map<string, { summary: PortfolioSummary; atMs: number }> | undefined;
  let equity: Map<string, readonly EquityPoint[]> | undefined;
  let actorEvents: ActorEventView[] | undefined;
  let strategyBooks: Map<string, StrategyBook> | undefined;
  let fillsComplete = previous.fillsComplete;
  let eventsApplied = previous.eventsApplied;
  let marketTimeMs = previous.marketTimeMs;
  /** The market clock only moves forward (an out-of-order or late event does not turn it back). */
  const seeMarketTime = (atMs: unknown): void => {
    if (typeof atMs === 'number' && Number.isFinite(atMs) && atMs > 0 && (marketTimeMs === undefined || atMs > marketTimeMs)) marketTimeMs = atMs;
  };

  /** Alerts of this batch; merged once at the end (a burst of refusals costs one sort, not one copy each). */
  const newAlerts: RiskAlertView[] = [];
  const addAlert = (alert: Omit<RiskAlertView, 'id'>): void => {
    newAlerts.push({ ...alert, id: `${alert.atMs}|${alert.code}|${alert.strategyId ?? ''}|${alert.symbol ?? ''}|${alert.message}` });
  };
  const bookFill = (fill: FillView): void => {
    if (seenFills.has(fill.fillId)) return;
    seenFills.add(fill.fillId);
    strategyBooks ??= new Map(previous.strategyBooks);
    strategyBooks.set(fill.strategyId, addFillToBook(strategyBooks.get(fill.strategyId), fill));
  };

  const setOrder = (order: Order, step?: OrderStep): void => {
    seeMarketTime(order.updatedAtMs);
    orders ??= new Map(previous.orders);
    const known = orders.get(order.clientOrderId);
    if (!known || !isBehind(order, known)) orders.set(order.clientOrderId, order);
    if (step) {
      orderSteps ??= new Map(previous.orderSteps);
      const steps = orderSteps.get(order.clientOrderId) ?? [];
      if (!steps.some((known) => known.seq === step.seq))
        orderSteps.set(order.clientOrderId, [...steps, step].sort((a, b) => a.seq - b.seq).slice(-MAX_ORDER_STEPS));
    }
  };
  const setPosition = (position: LivePosition): void => {
    positions ??= new Map(previous.positions);
    positions.set(positionKey(position.portfolioId, position.symbol, position.product), position);
  };
  /** A point of the equity curve at the market clock's time; none before the clock has started. */
  const addEquity = (portfolioId: string, equityPaise: number): void => {
    if (marketTimeMs === undefined) return;
    equity ??= new Map(previous.equity);
    const points = equity.get(portfolioId) ?? [];
    const timeSec = Math.floor(marketTimeMs / 1000);
    const last = points[points.length - 1];
    if (last && last.timeSec >= timeSec) equity.set(portfolioId, [...points.slice(0, -1), { timeSec: last.timeSec, equityPaise }]);
    else equity.set(portfolioId, [...points, { timeSec, equityPaise }].slice(-MAX_EQUITY_POINTS));
  };
  const setPnl = (portfolioId: string, summary: PortfolioSummary, atMs: number): void => {
    pnl ??= new Map(previous.pnl);
    pnl.set(portfolioId, { summary, atMs });
    addEquity(portfolioId, summary.equityPaise);
  };

  for (const action of actions) {
    switch (action.kind) {
      case 'connection':
        connection = {
          ...connection,
          status: action.status,
          sinceMs: action.status === connection.status ? connection.sinceMs : action.atMs,
          reconnects: action.status === 'reconnecting' && connection.status !== 'reconnecting' ? connection.reconnects + 1 : connection.reconnects,
          ...(action.detail === undefined ? {} : { detail: action.detail }),
        };
        break;
      case 'heartbeat':
        connection = { ...connection, lastHeartbeatAtMs: action.atMs };
        break;
      case 'positions':
        for (const portfolio of action.response.portfolios) {
          for (const position of portfolio.positions) {
            const live = toLivePosition(portfolio.portfolioId, position);
            if (live) setPosition(live);
          }
          setPnl(portfolio.portfolioId, portfolio.summary, action.atMs);
        }
        break;
      case 'orders':
        for (const order of action.orders) setOrder(order);
        break;
      case 'alerts':
        for (const alert of action.alerts) addAlert(alert);
        break;
      case 'books':
        strategyBooks = new Map(action.books.map((book) => [book.strategyId, book]));
        for (const id of action.recentFillIds) seenFills.add(id);
        fillsComplete = true;
        break;
      case 'fills':
        for (const fill of action.fills) {
          seeMarketTime(fill.atMs);
          bookFill(fill);
        }
        if (!action.complete) fillsComplete = false;
        break;
      case 'pnl':
        setPnl(action.portfolioId, action.summary, action.atMs);
        break;
      case 'equity':
        addEquity(action.portfolioId, action.equityPaise);
        break;
      case 'snapshot': {
        const data = action.data;
        if (Array.isArray(data.orders)) for (const order of data.orders as Order[]) setOrder(order);
        if (Array.isArray(data.positions)) {
          for (const entry of data.positions as { portfolioId: string; positions: Record<string, unknown>[] }[]) {
            for (const raw of entry.positions) {
              const live = toLivePosition(entry.portfolioId, raw);
              if (live) setPosition(live);
            }
          }
        }
        if (Array.isArray(data.pnl))
          for (const entry of data.pnl as { portfolioId: string; summary: PortfolioSummary }[]) setPnl(entry.portfolioId, entry.summary, action.atMs);
        break;
      }
      case 'event': {
        const event = action.event;
        eventsApplied += 1;
        connection = { ...connection, lastEventAtMs: nowMs, lastSeq: Math.max(connection.lastSeq, event.seq) };
        const data = event.data;
        if (!isRecord(data)) break;
        if (event.topic.startsWith('quotes:')) {
          quotes ??= new Map(previous.quotes);
          seeMarketTime(data.exchangeTimeMs);
          applyQuote(quotes, data, nowMs);
        } else if (event.topic === 'orders') {
          const order = data.order as Order | undefined;
          if (!order) break;
          const fill = isRecord(data.fill) ? data.fill : undefined;
          const fillAtMs = fill && typeof fill.atMs === 'number' ? fill.atMs : undefined;
          seeMarketTime(fillAtMs);
          if (fill && typeof fill.fillId === 'string') {
            bookFill({
              fillId: fill.fillId,
              strategyId: order.strategyId,
              symbol: order.symbol,
              side: order.side,
              quantity: Number(fill.quantity),
              pricePaise: Number(fill.pricePaise),
              chargesPaise: Number(fill.chargesPaise),
              atMs: fillAtMs ?? order.updatedAtMs,
            });
          }
          setOrder(order, {
            // market time from the server's event (never the browser's clock): the fill's time, else the order's update time
            atMs: fillAtMs ?? order.updatedAtMs,
            seq: event.seq,
            event: typeof data.event === 'string' ? data.event : 'updated',
            status: order.status,
            filledQuantity: order.filledQuantity,
            ...(order.statusMessage ? { message: order.statusMessage } : {}),
            ...(fill ? { fill: { quantity: Number(fill.quantity), pricePaise: Number(fill.pricePaise), chargesPaise: Number(fill.chargesPaise) } } : {}),
          });
        } else if (event.topic === 'positions') {
          const portfolioId = typeof data.portfolioId === 'string' ? data.portfolioId : undefined;
          if (portfolioId && isRecord(data.position)) {
            const live = toLivePosition(portfolioId, data.position);
            if (live) setPosition(live);
          }
        } else if (event.topic === 'pnl') {
          if (typeof data.portfolioId === 'string' && isRecord(data.summary)) setPnl(data.portfolioId, data.summary as unknown as PortfolioSummary, event.atMs);
        } else if (event.topic === 'risk-alerts') {
          addAlert({
            seq: event.seq,
            severity: data.severity === 'critical' || data.severity === 'warning' ? data.severity : 'info',
            code: typeof data.code === 'string' ? data.code : 'alert',
            message: typeof data.message === 'string' ? data.message : '',
            atMs: typeof data.atMs === 'number' ? data.atMs : event.atMs,
            ...(typeof data.strategyId === 'string' ? { strategyId: data.strategyId } : {}),
            ...(typeof data.symbol === 'string' ? { symbol: data.symbol } : {}),
          });
        } else if (event.topic === 'actors') {
          actorEvents ??= [...previous.actorEvents];
          actorEvents.unshift({
            seq: event.seq,
            event: typeof data.event === 'string' ? data.event : 'changed',
            path: typeof data.path === 'string' ? data.path : event.key,
            atMs: typeof data.atMs === 'number' ? data.atMs : event.atMs,
            ...(typeof data.restarts === 'number' ? { restarts: data.restarts } : {}),
            ...(typeof data.error === 'string' ? { error: data.error } : {}),
          });
        }
        break;
      }
    }
  }

  return {
    connection,
    quotes: quotes ?? previous.quotes,
    orders: orders ?? previous.orders,
    orderSteps: orderSteps ?? previous.orderSteps,
    positions: positions ?? previous.positions,
    pnl: pnl ?? previous.pnl,
    marketTimeMs,
    equity: equity ?? previous.equity,
    alerts: newAlerts.length > 0 ? mergeAlerts(previous.alerts, newAlerts) : previous.alerts,
    actorEvents: actorEvents ? actorEvents.slice(0, MAX_ACTOR_EVENTS) : previous.actorEvents,
    strategyBooks: strategyBooks ?? previous.strategyBooks,
    fillsComplete,
    flushes: previous.flushes + 1,
    eventsApplied,
  };
}

/** Newest first by market time, each alert once (the history and the stream overlap), at most {@link MAX_ALERTS}. */
function mergeAlerts(previous: readonly RiskAlertView[], added: readonly RiskAlertView[]): readonly RiskAlertView[] {
  const sorted = [...added].sort((a, b) => b.atMs - a.atMs || b.seq - a.seq);
  const seen = new Set<string>();
  const merged: RiskAlertView[] = [];
  let i = 0;
  let j = 0;
  while (merged.length < MAX_ALERTS && (i < sorted.length || j < previous.length)) {
    const next = j >= previous.length || (i < sorted.length && sorted[i]!.atMs >= previous[j]!.atMs) ? sorted[i++]! : previous[j++]!;
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    merged.push(next);
  }
  return merged;
}

function applyQuote(quotes: Map<string, LiveQuote>, data: Record<string, unknown>, nowMs: number): void {
  const symbol = data.symbol;
  const ltpPaise = data.ltpPaise;
  if (typeof symbol !== 'string' || typeof ltpPaise !== 'number') return;
  const exchangeTimeMs = typeof data.exchangeTimeMs === 'number' ? data.exchangeTimeMs : nowMs;
  const volume = typeof data.volume === 'number' ? data.volume : 0;
  const known = quotes.get(symbol);
  const sample = known === undefined || nowMs - known.historyAtMs >= HISTORY_SAMPLE_MS;
  const history = !sample
    ? known.history
    : known
      ? known.history.length >= HISTORY_POINTS
        ? [...known.history.slice(1 - HISTORY_POINTS), ltpPaise]
        : [...known.history, ltpPaise]
      : [ltpPaise];
  quotes.set(symbol, {
    symbol,
    ltpPaise,
    ...(typeof data.bidPaise === 'number' ? { bidPaise: data.bidPaise } : {}),
    ...(typeof data.askPaise === 'number' ? { askPaise: data.askPaise } : {}),
    volume,
    exchangeTimeMs,
    receivedAtMs: nowMs,
    history,
    historyAtMs: sample ? nowMs : known.historyAtMs,
    candles: addToCandles(known?.candles ?? [], exchangeTimeMs, ltpPaise, volume, known?.volume),
  });
}

/** Adds a price to one-minute candles (market time); volume is the growth of the cumulative volume. */
export function addToCandles(
  candles: readonly Candle[],
  exchangeTimeMs: number,
  pricePaise: number,
  cumulativeVolume: number,
  previousVolume: number | undefined,
): readonly Candle[] {
  const timeSec = Math.floor(exchangeTimeMs / 60_000) * 60;
  const traded = previousVolume === undefined ? 0 : Math.max(0, cumulativeVolume - previousVolume);
  const last = candles[candles.length - 1];
  if (last && last.timeSec === timeSec) {
    const updated: Candle = {
      ...last,
      highPaise: Math.max(last.highPaise, pricePaise),
      lowPaise: Math.min(last.lowPaise, pricePaise),
      closePaise: pricePaise,
      volume: last.volume + traded,
    };
    return [...candles.slice(0, -1), updated];
  }
  if (last && last.timeSec > timeSec) return candles; // out of order: ignore
  const next: Candle = { timeSec, openPaise: pricePaise, highPaise: pricePaise, lowPaise: pricePaise, closePaise: pricePaise, volume: traded };
  return candles.length >= MAX_CANDLES ? [...candles.slice(1), next] : [...candles, next];
}
