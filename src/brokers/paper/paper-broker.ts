/**
 * A synchronous, deterministic paper-matching engine. Not an actor: the execution actor
 * wraps it, feeds it orders and ticks, and publishes what it returns.
 *
 * Fill rules (all prices in integer paise, events timed by the tick's exchange time):
 * - MARKET fills on the next tick of its symbol at the touch (ask for a buy, bid for a
 *   sell, the LTP when the tick has no quote), moved by the slippage against the trader
 *   and rounded onto the tick grid against the trader, kept inside the circuit limits.
 * - LIMIT: on the first tick it meets while OPEN it is a taker when marketable against
 *   the quote (buy: ask ≤ limit; without a quote: LTP through the limit) and fills at the
 *   touch, never worse than the limit. Otherwise it rests and fills **at its limit** when
 *   the LTP trades through it (buy: LTP < limit; LTP = limit too with `fillAtTouch`):
 *   a print through a resting order's price means the order was hit at its own price.
 * - SL / SL-M wait in TRIGGER PENDING until the LTP reaches the trigger (buy: LTP ≥
 *   trigger; sell: LTP ≤ trigger), are reported as triggered (OPEN), and on that same tick
 *   behave as a new LIMIT / MARKET order.
 * - Every fill is capped by the participation share of the tick's traded quantity, in
 *   whole lots; the order stays OPEN with `filledQuantity` growing until COMPLETE. The cap
 *   applies per order (two orders on one symbol may each take their share).
 * - IOC: whatever the first tick it meets while OPEN leaves unfilled is cancelled.
 * - Charges come from the cost model through a per-portfolio, per-IST-day ledger, so the
 *   fills of a day add up exactly to the day's contract note and brokerage stays capped
 *   per order across its fills.
 * - MIS cut-off (Zerodha's RMS, `src/model/square-off.ts`): from `squareOffMinute` (15:20 IST)
 *   to the end of the IST day an MIS order is rejected (`mis-cutoff`). On each symbol's first
 *   tick at or after the cut-off the broker cancels the symbol's working MIS orders and closes
 *   every open MIS position in it (tracked per portfolio and strategy from its own fills) with
 *   MARKET orders of at most 30,000 units, reason `auto-square-off`, which fill on that same
 *   tick by the rules above (and carry the call-and-trade fee). A position whose symbol had no
 *   tick after that day's cut-off is squared off on the symbol's next tick (reported as late).
 *
 * Cost: `onTicks` does one Map lookup per tick and allocates nothing for a tick that
 * matches nothing (a symbol's first tick creates its market record once).
 */
import { chargeOrderFill, upgradeChargeLedger, ZERODHA_NSE_EQUITY_RATES, type DayLedger } from '../../model/charges.js';
import type { Fill } from '../../model/fill.js';
import { priceBand, type Instrument } from '../../model/instrument.js';
import type { Tick } from '../../model/market.js';
import { applyOrderUpdate, isTerminal, type Order, type OrderStatus } from '../../model/order.js';
import { isMarketOpenAt } from '../../model/calendar.js';
import { DEFAULT_SQUARE_OFF_MINUTE, isPastMisCutoff, misCutoffMessage, squareOffInstantMs, squareOffOrder, squareOffSlices } from '../../model/square-off.js';
import { DAY_MS, istDate, istDayStartMs } from '../../model/time.js';
import type {
  AutoSquareOffEvent,
  BrokerEvent,
  HoldingSnapshot,
  MisPositionSnapshot,
  PaperBrokerConfig,
  PaperBrokerSnapshot,
  PortfolioLedgerSnapshot,
  RestingOrderSnapshot,
  SymbolMarketSnapshot,
} from './paper-broker.types.js';
import { limitTradedThrough, marketFillPricePaise, participationCap, stopTriggered, takerLimitPricePaise } from './pricing.js';
import { validateOrder } from './validation.js';

/** The defaults: no slippage, full participation, trade-through limits, any hour, Zerodha NSE equity charges. */
export const DEFAULT_PAPER_BROKER_CONFIG: PaperBrokerConfig = Object.freeze({
  slippageBps: 0,
  participationPercent: 100,
  fillAtTouch: false,
  marketHoursOnly: false,
  chargeRates: ZERODHA_NSE_EQUITY_RATES,
  squareOffMinute: DEFAULT_SQUARE_OFF_MINUTE,
});

const PRE_ACCEPTANCE: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING']);

/** An empty, shared result: returned whenever nothing happened, so quiet ticks allocate nothing. */
const NO_EVENTS: readonly BrokerEvent[] = Object.freeze([]);

interface RestingOrder {
  order: Order;
  readonly instrument: Instrument;
  readonly lowerPaise: number;
  readonly upperPaise: number;
  brokeragePaise: number;
  evaluated: boolean;
}

interface SymbolMarket {
  readonly symbol: string;
  lastVolume: number;
  lastPricePaise: number;
  /** Resting orders in submission (time) priority. */
  orders: RestingOrder[];
  /** When the symbol's next MIS square-off is due (the first cut-off after its first tick). */
  nextSquareOffMs: number;
}

interface MisPosition {
  readonly portfolioId: string;
  readonly strategyId: string;
  readonly symbol: string;
  net: number;
  readonly instrument: Instrument;
}

const misKey = (portfolioId: string, strategyId: string, symbol: string): string => `${portfolioId}\u0000${strategyId}\u0000${symbol}`;

function checkConfig(config: PaperBrokerConfig): PaperBrokerConfig {
  if (!Number.isFinite(config.slippageBps) || config.slippageBps < 0 || config.slippageBps >= 10_000) {
    throw new RangeError(`slippageBps must be in [0, 10000), got ${config.slippageBps}`);
  }
  if (!Number.isFinite(config.participationPercent) || config.participationPercent <= 0 || config.participationPercent > 100) {
    throw new RangeError(`participationPercent must be in (0, 100], got ${config.participationPercent}`);
  }
  if (!Number.isInteger(config.squareOffMinute) || config.squareOffMinute < 0 || config.squareOffMinute >= 24 * 60) {
    throw new RangeError(`squareOffMinute must be a whole minute of the day in [0, 1440), got ${config.squareOffMinute}`);
  }
  return config;
}

/** The paper broker. See the module notes for the fill rules. */
export class PaperBroker {
  /** The configuration in force (defaults filled in). */
  readonly config: PaperBrokerConfig;
  private readonly markets = new Map<string, SymbolMarket>();
  private readonly resting = new Map<string, RestingOrder>();
  private readonly ledgers = new Map<string, DayLedger>();
  /** CNC holdings (net CNC quantity over every day's fills) by portfolio, then symbol. */
  private readonly holdings = new Map<string, Map<string, number>>();
  /** Open MIS positions by portfolio, strategy and symbol (what the square-off closes). */
  private readonly misPositions = new Map<string, MisPosition>();
  private squareOffSequence = 0;
  private orderSequence = 0;
  private fillSequence = 0;
  private clockMs = 0;

  /** A broker with no orders; unspecified config fields take {@link DEFAULT_PAPER_BROKER_CONFIG}. */
  constructor(config: Partial<PaperBrokerConfig> = {}) {
    this.config = checkConfig({ ...DEFAULT_PAPER_BROKER_CONFIG, ...config });
  }

  /**
   * A broker continuing from a snapshot taken by {@link PaperBroker.snapshot}. The config
   * is not part of the snapshot: pass the one the snapshotted broker ran with to continue
   * identically.
   */
  static restore(snapshot: PaperBrokerSnapshot, config: Partial<PaperBrokerConfig> = {}): PaperBroker {
    if (snapshot.version !== 1) throw new TypeError(`unknown paper broker snapshot version ${String(snapshot.version)}`);
    const broker = new PaperBroker(config);
    broker.clockMs = snapshot.nowMs;
    broker.orderSequence = snapshot.orderSequence;
    broker.fillSequence = snapshot.fillSequence;
    broker.squareOffSequence = snapshot.squareOffSequence ?? 0;
    for (const market of snapshot.markets) {
      broker.markets.set(market.symbol, {
        symbol: market.symbol,
        lastVolume: market.lastVolume,
        lastPricePaise: market.lastPricePaise,
        orders: [],
        nextSquareOffMs: market.nextSquareOffMs ?? broker.firstSquareOffAfter(snapshot.nowMs),
      });
    }
    for (const saved of snapshot.misPositions ?? []) {
      broker.misPositions.set(misKey(saved.portfolioId, saved.strategyId, saved.symbol), { ...saved });
    }
    for (const saved of snapshot.orders) {
      const band = priceBand(saved.instrument);
      const resting: RestingOrder = {
        order: saved.order,
        instrument: saved.instrument,
        lowerPaise: band.lowerPaise,
        upperPaise: band.upperPaise,
        brokeragePaise: saved.brokeragePaise,
        evaluated: saved.evaluated,
      };
      broker.marketFor(saved.order.symbol, snapshot.nowMs).orders.push(resting);
      broker.resting.set(saved.order.clientOrderId, resting);
    }
    for (const saved of snapshot.holdings ?? []) broker.addHolding(saved.portfolioId, saved.symbol, saved.quantity);
    for (const saved of snapshot.ledgers) broker.ledgers.set(saved.portfolioId, { day: saved.day, ledger: upgradeChargeLedger(saved.ledger) });
    return broker;
  }

  /** The broker's clock: the latest exchange time of any tick seen (0 before the first). */
  nowMs(): number {
    return this.clockMs;
  }

  /**
   * Validates and accepts an order (status `PUT ORDER REQ RECEIVED`, as `newOrder` makes
   * it). Returns one `order-updated` event: OPEN (or TRIGGER PENDING for SL/SL-M) with a
   * broker order id, or REJECTED with a Kite-like message and a stable code. Nothing
   * fills here; a MARKET order fills on the symbol's next tick.
   * @throws TypeError when the order is not in a pre-acceptance status (a caller bug).
   */
  submit(order: Order, instrument: Instrument, atMs: number): readonly BrokerEvent[] {
    if (!PRE_ACCEPTANCE.has(order.status)) {
      throw new TypeError(`order ${order.clientOrderId} in status ${order.status} cannot be submitted`);
    }
    if (this.resting.has(order.clientOrderId)) {
      const rejected = applyOrderUpdate(order, { kind: 'rejected', reason: `Duplicate order: ${order.clientOrderId} is already open.`, atMs });
      return [{ kind: 'order-updated', order: rejected, rejectionCode: 'duplicate-order' }];
    }
    const market = this.markets.get(order.symbol);
    const rejection = validateOrder(order, instrument, {
      atMs,
      marketHoursOnly: this.config.marketHoursOnly,
      lastPricePaise: market?.lastPricePaise ?? 0,
    });
    if (rejection) {
      const rejected = applyOrderUpdate(order, { kind: 'rejected', reason: rejection.message, atMs });
      return [{ kind: 'order-updated', order: rejected, rejectionCode: rejection.code }];
    }
    if (order.side === 'SELL' && order.product === 'CNC') {
      const available = this.availableHolding(order.portfolioId, order.symbol);
      if (order.quantity > available) {
        const reason =
          `Insufficient holdings: a CNC sell of ${order.quantity} ${order.symbol} needs shares held (from earlier days or bought today), ` +
          `${available} available (less open CNC sells). Short selling is for MIS only.`;
        const rejected = applyOrderUpdate(order, { kind: 'rejected', reason, atMs });
        return [{ kind: 'order-updated', order: rejected, rejectionCode: 'insufficient-holdings' }];
      }
    }
    if (order.product === 'MIS' && isPastMisCutoff(atMs, this.config.squareOffMinute)) {
      const rejected = applyOrderUpdate(order, { kind: 'rejected', reason: misCutoffMessage(this.config.squareOffMinute), atMs });
      return [{ kind: 'order-updated', order: rejected, rejectionCode: 'mis-cutoff' }];
    }
    this.orderSequence += 1;
    const stop = order.orderType === 'SL' || order.orderType === 'SL-M';
    const accepted = applyOrderUpdate(order, {
      kind: 'accepted',
      brokerOrderId: `P${this.orderSequence.toString().padStart(9, '0')}`,
      status: stop ? 'TRIGGER PENDING' : 'OPEN',
      atMs,
    });
    const band = priceBand(instrument);
    const resting: RestingOrder = {
      order: accepted,
      instrument,
      lowerPaise: band.lowerPaise,
      upperPaise: band.upperPaise,
      brokeragePaise: 0,
      evaluated: false,
    };
    (market ?? this.marketFor(order.symbol, atMs)).orders.push(resting);
    this.resting.set(order.clientOrderId, resting);
    return [{ kind: 'order-updated', order: accepted }];
  }

  /**
   * Cancels a resting order: one `order-updated` event with status CANCELLED, or a
   * `cancel-rejected` event when the order is unknown or already finished.
   */
  cancel(clientOrderId: string, atMs: number): readonly BrokerEvent[] {
    const resting = this.resting.get(clientOrderId);
    if (!resting) {
      return [
        { kind: 'cancel-rejected', clientOrderId, reason: `Order ${clientOrderId} is not open (unknown, or already complete, cancelled or rejected).`, atMs },
      ];
    }
    const cancelled = applyOrderUpdate(resting.order, { kind: 'cancelled', reason: 'Cancelled by the user.', atMs });
    this.remove(resting);
    return [{ kind: 'order-updated', order: cancelled }];
  }

  /**
   * Modifies a resting order in place (Kite: price, trigger, a lower quantity; the caller has
   * validated the change): one `order-updated` event with the changed order, or `refused` when
   * the order is not resting. Its place among the symbol's resting orders is kept.
   */
  modify(
    clientOrderId: string,
    change: { readonly quantity?: number; readonly limitPricePaise?: number; readonly triggerPricePaise?: number },
    atMs: number,
  ): { readonly events: readonly BrokerEvent[]; readonly refused?: string } {
    const resting = this.resting.get(clientOrderId);
    if (!resting) return { events: [], refused: `Order ${clientOrderId} is not open (unknown, or already complete, cancelled or rejected).` };
    const order = resting.order;
    resting.order = {
      ...order,
      ...(change.quantity === undefined ? {} : { quantity: change.quantity }),
      ...(change.limitPricePaise === undefined ? {} : { limitPricePaise: change.limitPricePaise }),
      ...(change.triggerPricePaise === undefined ? {} : { triggerPricePaise: change.triggerPricePaise }),
      updatedAtMs: Math.max(order.updatedAtMs, atMs),
    };
    resting.evaluated = false;
    return { events: [{ kind: 'order-updated', order: resting.order }] };
  }

  /** The CNC holding of a portfolio in a symbol: net CNC quantity over every day's fills (today's buys included). */
  holding(portfolioId: string, symbol: string): number {
    return this.holdings.get(portfolioId)?.get(symbol) ?? 0;
  }

  /** What a new CNC sell may take: the holding less the unfilled quantity of open CNC sells. */
  private availableHolding(portfolioId: string, symbol: string): number {
    let reserved = 0;
    for (const resting of this.markets.get(symbol)?.orders ?? []) {
      const o = resting.order;
      if (o.portfolioId === portfolioId && o.side === 'SELL' && o.product === 'CNC') reserved += o.quantity - o.filledQuantity;
    }
    return Math.max(0, this.holding(portfolioId, symbol) - reserved);
  }

  private addHolding(portfolioId: string, symbol: string, quantity: number): void {
    let symbols = this.holdings.get(portfolioId);
    if (symbols === undefined) {
      symbols = new Map();
      this.holdings.set(portfolioId, symbols);
    }
    const next = (symbols.get(symbol) ?? 0) + quantity;
    if (next === 0) symbols.delete(symbol);
    else symbols.set(symbol, next);
  }

  /** Orders still working (OPEN or TRIGGER PENDING), in submission order. */
  openOrders(): readonly Order[] {
    return [...this.resting.values()].map((resting) => resting.order);
  }

  /** Matches resting orders against a batch of ticks, in order. See the module notes. */
  onTicks(ticks: readonly Tick[]): readonly BrokerEvent[] {
    let events: BrokerEvent[] | undefined;
    for (let i = 0; i < ticks.length; i += 1) {
      const tick = ticks[i]!;
      if (tick.exchangeTimeMs > this.clockMs) this.clockMs = tick.exchangeTimeMs;
      let market = this.markets.get(tick.symbol);
      if (market === undefined) {
        market = { symbol: tick.symbol, lastVolume: -1, lastPricePaise: 0, orders: [], nextSquareOffMs: this.firstSquareOffAfter(tick.exchangeTimeMs) };
        this.markets.set(tick.symbol, market);
      }
      if (tick.exchangeTimeMs >= market.nextSquareOffMs) events = this.squareOff(market, tick.exchangeTimeMs, events);
      const previousVolume = market.lastVolume;
      market.lastVolume = tick.volume;
      if (tick.ltpPaise > 0) market.lastPricePaise = tick.ltpPaise;
      if (market.orders.length === 0 || tick.ltpPaise <= 0) continue;
      if (this.config.marketHoursOnly && !isMarketOpenAt(tick.exchangeTimeMs)) continue;
      const traded = previousVolume >= 0 && tick.volume > previousVolume ? tick.volume - previousVolume : tick.lastQuantity;
      events = this.match(market, tick, traded, events);
    }
    return events ?? NO_EVENTS;
  }

  /** The whole state as JSON-safe data. */
  snapshot(): PaperBrokerSnapshot {
    const orders: RestingOrderSnapshot[] = [...this.resting.values()].map((resting) => ({
      order: resting.order,
      instrument: resting.instrument,
      brokeragePaise: resting.brokeragePaise,
      evaluated: resting.evaluated,
    }));
    const markets: SymbolMarketSnapshot[] = [...this.markets.values()].map((market) => ({
      symbol: market.symbol,
      lastVolume: market.lastVolume,
      lastPricePaise: market.lastPricePaise,
      nextSquareOffMs: market.nextSquareOffMs,
    }));
    const ledgers: PortfolioLedgerSnapshot[] = [...this.ledgers.entries()].map(([portfolioId, entry]) => ({
      portfolioId,
      day: entry.day,
      ledger: entry.ledger,
    }));
    const holdings: HoldingSnapshot[] = [];
    for (const [portfolioId, symbols] of this.holdings) for (const [symbol, quantity] of symbols) holdings.push({ portfolioId, symbol, quantity });
    const misPositions: MisPositionSnapshot[] = [...this.misPositions.values()].map((position) => ({ ...position }));
    return {
      version: 1,
      nowMs: this.clockMs,
      orderSequence: this.orderSequence,
      fillSequence: this.fillSequence,
      orders,
      markets,
      ledgers,
      holdings,
      misPositions,
      squareOffSequence: this.squareOffSequence,
    };
  }

  /** Open MIS positions (per portfolio, strategy and symbol), as the square-off sees them. */
  openMisPositions(): readonly MisPositionSnapshot[] {
    return [...this.misPositions.values()].map((position) => ({ ...position }));
  }

  /** The cut-off of `atMs`'s IST day when `atMs` is not past it, else the next day's. */
  private firstSquareOffAfter(atMs: number): number {
    const today = squareOffInstantMs(atMs, this.config.squareOffMinute);
    return atMs <= today ? today : today + DAY_MS;
  }

  /**
   * Zerodha's RMS at the cut-off, for one symbol (see the module notes): cancels its working
   * MIS orders, then places the square-off orders of every open MIS position in it as resting
   * MARKET orders, which the caller matches on the tick that got here.
   */
  private squareOff(market: SymbolMarket, atMs: number, events: BrokerEvent[] | undefined): BrokerEvent[] | undefined {
    const late = istDayStartMs(atMs) !== istDayStartMs(market.nextSquareOffMs);
    market.nextSquareOffMs = this.firstSquareOffAfter(atMs + 1);
    let out = events;
    let cancelled = false;
    for (const resting of market.orders) {
      if (resting.order.product !== 'MIS') continue;
      resting.order = applyOrderUpdate(resting.order, { kind: 'cancelled', reason: 'Cancelled by the broker: intraday (MIS) square-off.', atMs });
      this.resting.delete(resting.order.clientOrderId);
      (out ??= []).push({ kind: 'order-updated', order: resting.order });
      cancelled = true;
    }
    if (cancelled) market.orders = market.orders.filter((resting) => !isTerminal(resting.order.status));
    for (const position of this.misPositions.values()) {
      if (position.symbol !== market.symbol || position.net === 0) continue;
      const side = position.net > 0 ? 'SELL' : 'BUY';
      const quantity = Math.abs(position.net);
      const placed: Order[] = [];
      for (const slice of squareOffSlices(quantity, position.instrument.lotSize)) {
        this.squareOffSequence += 1;
        this.orderSequence += 1;
        // numbered by the broker order sequence, which recovery moves past every journaled order
        const sequence = this.orderSequence;
        const order = squareOffOrder({
          clientOrderId: `ASQ${sequence.toString(36).toUpperCase().padStart(12, '0')}`,
          brokerOrderId: `P${this.orderSequence.toString().padStart(9, '0')}`,
          sequence,
          portfolioId: position.portfolioId,
          strategyId: position.strategyId,
          symbol: position.symbol,
          side,
          quantity: slice,
          atMs,
        });
        const band = priceBand(position.instrument);
        const resting: RestingOrder = {
          order,
          instrument: position.instrument,
          lowerPaise: band.lowerPaise,
          upperPaise: band.upperPaise,
          brokeragePaise: 0,
          evaluated: false,
        };
        market.orders.push(resting);
        this.resting.set(order.clientOrderId, resting);
        placed.push(order);
      }
      const event: AutoSquareOffEvent = {
        kind: 'auto-square-off',
        portfolioId: position.portfolioId,
        strategyId: position.strategyId,
        symbol: position.symbol,
        side,
        quantity,
        orders: placed.map((order) => order.clientOrderId),
        atMs,
        late,
      };
      (out ??= []).push(event);
      for (const order of placed) out.push({ kind: 'order-updated', order });
    }
    return out;
  }

  /** Moves the broker's MIS position of a fill's portfolio, strategy and symbol. */
  private trackMis(order: Order, instrument: Instrument, quantity: number): void {
    const key = misKey(order.portfolioId, order.strategyId, order.symbol);
    const signed = order.side === 'BUY' ? quantity : -quantity;
    const position = this.misPositions.get(key);
    if (position === undefined) {
      this.misPositions.set(key, { portfolioId: order.portfolioId, strategyId: order.strategyId, symbol: order.symbol, net: signed, instrument });
      return;
    }
    position.net += signed;
    if (position.net === 0) this.misPositions.delete(key);
  }

  private marketFor(symbol: string, atMs: number): SymbolMarket {
    let market = this.markets.get(symbol);
    if (market === undefined) {
      market = { symbol, lastVolume: -1, lastPricePaise: 0, orders: [], nextSquareOffMs: this.firstSquareOffAfter(Math.max(this.clockMs, atMs)) };
      this.markets.set(symbol, market);
    }
    return market;
  }

  private remove(resting: RestingOrder): void {
    this.resting.delete(resting.order.clientOrderId);
    const market = this.markets.get(resting.order.symbol);
    if (market) market.orders = market.orders.filter((candidate) => candidate !== resting);
  }

  private match(market: SymbolMarket, tick: Tick, traded: number, events: BrokerEvent[] | undefined): BrokerEvent[] | undefined {
    const atMs = tick.exchangeTimeMs;
    let out = events;
    let finished = false;
    for (const resting of market.orders) {
      let order = resting.order;
      if (order.status === 'TRIGGER PENDING') {
        if (order.triggerPricePaise === undefined || !stopTriggered(order.side, order.triggerPricePaise, tick.ltpPaise)) continue;
        order = applyOrderUpdate(order, { kind: 'triggered', atMs });
        resting.order = order;
        (out ??= []).push({ kind: 'order-updated', order });
      }
      const firstLook = !resting.evaluated;
      resting.evaluated = true;
      const price = this.fillPrice(resting, tick, firstLook);
      const remaining = order.quantity - order.filledQuantity;
      const quantity = price === undefined ? 0 : participationCap(traded, this.config.participationPercent, resting.instrument.lotSize, remaining);
      if (price !== undefined && quantity > 0) {
        (out ??= []).push(this.fill(resting, quantity, price, atMs));
        order = resting.order;
      }
      if (order.status === 'COMPLETE') {
        finished = true;
      } else if (order.validity === 'IOC' && firstLook) {
        order = applyOrderUpdate(order, { kind: 'cancelled', reason: 'IOC order: unfilled quantity cancelled.', atMs });
        resting.order = order;
        (out ??= []).push({ kind: 'order-updated', order });
        finished = true;
      }
    }
    if (finished) {
      market.orders = market.orders.filter((resting) => {
        if (!isTerminal(resting.order.status)) return true;
        this.resting.delete(resting.order.clientOrderId);
        return false;
      });
    }
    return out;
  }

  private fillPrice(resting: RestingOrder, tick: Tick, firstLook: boolean): number | undefined {
    const order = resting.order;
    if (order.orderType === 'MARKET' || order.orderType === 'SL-M') {
      const quote = order.side === 'BUY' ? tick.askPaise : tick.bidPaise;
      const touch = quote !== undefined && quote > 0 ? quote : tick.ltpPaise;
      return marketFillPricePaise(order.side, touch, this.config.slippageBps, resting.instrument.tickSizePaise, {
        lowerPaise: resting.lowerPaise,
        upperPaise: resting.upperPaise,
      });
    }
    const limit = order.limitPricePaise;
    if (limit === undefined) return undefined;
    if (firstLook) {
      const taker = takerLimitPricePaise(order.side, limit, tick, this.config.fillAtTouch);
      if (taker !== undefined) return taker;
    }
    return limitTradedThrough(order.side, limit, tick.ltpPaise, this.config.fillAtTouch) ? limit : undefined;
  }

  private dayStartMs = Number.NaN;
  private dayText = '';

  /** The IST date of an instant, cached for the day it falls in (fills are frequent, days are not). */
  private istDay(atMs: number): string {
    if (!(atMs >= this.dayStartMs && atMs < this.dayStartMs + DAY_MS)) {
      this.dayStartMs = istDayStartMs(atMs);
      this.dayText = istDate(atMs);
    }
    return this.dayText;
  }

  private fill(resting: RestingOrder, quantity: number, pricePaise: number, atMs: number): BrokerEvent {
    const before = resting.order;
    const day = this.istDay(atMs);
    const charges = chargeOrderFill(
      this.ledgers,
      day,
      { order: before, quantity, pricePaise, brokerageAlreadyChargedPaise: resting.brokeragePaise },
      this.config.chargeRates,
    );
    // the per-order cap of MIS/NRML is kept here; the ledger keeps CNC brokerage per order itself
    if (before.product !== 'CNC') resting.brokeragePaise += charges.brokeragePaise;
    if (before.product === 'CNC') this.addHolding(before.portfolioId, before.symbol, before.side === 'BUY' ? quantity : -quantity);
    const order = applyOrderUpdate(before, { kind: 'filled', quantity, pricePaise, atMs });
    resting.order = order;
    if (order.product === 'MIS') this.trackMis(order, resting.instrument, quantity);
    this.fillSequence += 1;
    const fill: Fill = {
      type: 'fill',
      fillId: `F${this.fillSequence.toString().padStart(9, '0')}`,
      clientOrderId: order.clientOrderId,
      brokerOrderId: order.brokerOrderId ?? '',
      portfolioId: order.portfolioId,
      strategyId: order.strategyId,
      symbol: order.symbol,
      side: order.side,
      product: order.product,
      quantity,
      pricePaise,
      chargesPaise: charges.totalPaise,
      atMs,
    };
    return { kind: 'fill', fill, order, charges };
  }
}
