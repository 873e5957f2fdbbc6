/**
 * The simulated exchange and broker behind the Kite simulator: instruments and their books,
 * the market state per symbol, user accounts, Kite order records with their status history,
 * trades and positions. No I/O: the HTTP/WebSocket layer calls it and forwards what it emits.
 */
import { priceBand, roundToTick, type Instrument } from '../model/instrument.js';
import type { DepthLevel, Tick } from '../model/market.js';
import { mul, parseRupees, type Paise } from '../model/money.js';
import type { Order, OrderStatus, OrderType, Product, Side, Validity } from '../model/order.js';
import { validateOrder } from '../brokers/paper/validation.js';
import { DEFAULT_SQUARE_OFF_MINUTE, isPastMisCutoff, misCutoffMessage, squareOffInstantMs, squareOffSlices } from '../model/square-off.js';
import { DAY_MS, istDayStartMs } from '../model/time.js';
import { Random } from '../streams/random.js';
import { candleTimestamp, kiteTimestamp, rupees } from './format.js';
import { inputError, KiteApiError } from './kite-errors.js';
import { SymbolBook, type BookFill } from './order-book.js';
import { PacketBuilder, type PacketState } from './ticker-codec.js';

/** The index the simulator publishes (segment 9 → `tradable: false` packets). */
export const SIM_INDEX = { symbol: 'NIFTY 50', token: 256265, basePaise: 24_000_00 } as const;

/** Kite JSON object (what the REST API and postbacks carry). */
export type KiteJson = Record<string, unknown>;

/** Options of {@link SimulatedExchange}. */
export interface ExchangeOptions {
  readonly instruments: readonly Instrument[];
  readonly seed: number;
  /** Current time for orders and validation (the simulator passes the market's clock by default). */
  readonly nowMs: () => number;
  /** Refuse orders outside 09:15–15:30 IST weekdays. */
  readonly enforceMarketHours: boolean;
  /** Refuse MARKET/SL-M orders without `market_protection` (Kite from 1 Apr 2026). */
  readonly requireMarketProtection: boolean;
  /** Opening cash of every account, paise. */
  readonly openingCashPaise: Paise;
  /**
   * Zerodha's intraday cut-off, minutes after IST midnight (default 15:20): MIS orders are
   * refused from then to the day's end, and on each symbol's first tick at or after it the RMS
   * squares off every account's open MIS position there (untagged MARKET orders of at most
   * 30,000 units; Kite reports no charges, Troupe adds the call-and-trade fee on its side).
   */
  readonly squareOffMinute?: number;
  /** Called on every order change a postback reports (status OPEN/TRIGGER PENDING/UPDATE/COMPLETE/CANCELLED/REJECTED). */
  readonly onOrderUpdate: (userId: string, order: KiteJson) => void;
}

interface MarketState {
  readonly instrument: Instrument;
  readonly book: SymbolBook;
  ltpPaise: Paise;
  lastQuantity: number;
  volume: number;
  turnoverPaise: number;
  openPaise: Paise;
  highPaise: Paise;
  lowPaise: Paise;
  closePaise: Paise;
  dayStartMs: number;
  lastTradeMs: number;
  exchangeMs: number;
  /** 1-minute candles by minute start: [open, high, low, close, volume]. */
  readonly candles: Map<number, [number, number, number, number, number]>;
  readonly triggerPending: Set<string>;
  /** When the RMS square-off of this symbol is next due (NaN before the first tick). */
  nextSquareOffMs: number;
}

interface OrderRecord {
  readonly orderId: string;
  readonly userId: string;
  readonly variety: string;
  readonly symbol: string;
  readonly exchange: string;
  readonly token: number;
  readonly side: Side;
  orderType: OrderType;
  readonly product: Product;
  validity: Validity;
  quantity: number;
  pricePaise: Paise;
  triggerPaise: Paise;
  disclosedQuantity: number;
  readonly marketProtection: number;
  readonly tag: string | null;
  status: OrderStatus;
  statusMessage: string | null;
  filledQuantity: number;
  filledValuePaise: number;
  cancelledQuantity: number;
  readonly placedAtMs: number;
  updatedAtMs: number;
  exchangeOrderId: string | null;
  readonly history: KiteJson[];
}

interface TradeRecord {
  readonly tradeId: string;
  readonly order: OrderRecord;
  readonly quantity: number;
  readonly pricePaise: Paise;
  readonly atMs: number;
}

interface PositionRecord {
  readonly symbol: string;
  readonly exchange: string;
  readonly token: number;
  readonly product: Product;
  buyQuantity: number;
  buyValuePaise: number;
  sellQuantity: number;
  sellValuePaise: number;
}

interface Account {
  readonly userId: string;
  readonly orders: Map<string, OrderRecord>;
  readonly trades: TradeRecord[];
  readonly positions: Map<string, PositionRecord>;
}

/** Parsed parameters of a place-order request. */
export interface PlaceOrderParams {
  readonly variety: string;
  readonly params: ReadonlyMap<string, string>;
}

const SIDES: readonly string[] = ['BUY', 'SELL'];
const ORDER_TYPES: readonly string[] = ['MARKET', 'LIMIT', 'SL', 'SL-M'];
const PRODUCTS: readonly string[] = ['CNC', 'MIS', 'NRML'];
const VALIDITIES: readonly string[] = ['DAY', 'IOC'];
const VARIETIES: readonly string[] = ['regular'];

/** The simulated exchange: books, market state, accounts. */
export class SimulatedExchange {
  private readonly markets = new Map<string, MarketState>();
  private readonly byToken = new Map<number, MarketState>();
  private readonly accounts = new Map<string, Account>();
  private readonly orderOwner = new Map<string, OrderRecord>();
  private orderSequence = 0;
  private tradeSequence = 0;
  private readonly orderIdPrefix: number;
  /** Every new order is rejected with this message while set (a fault switch). */
  rejectAllOrders: string | null = null;
  /** Index value state. */
  private readonly index: { ltpPaise: Paise; openPaise: Paise; highPaise: Paise; lowPaise: Paise; closePaise: Paise; exchangeMs: number };

  constructor(private readonly options: ExchangeOptions) {
    const random = new Random(options.seed ^ 0x5eed);
    for (const instrument of options.instruments) {
      const state: MarketState = {
        instrument,
        book: new SymbolBook(instrument, random),
        ltpPaise: 0,
        lastQuantity: 0,
        volume: 0,
        turnoverPaise: 0,
        openPaise: 0,
        highPaise: 0,
        lowPaise: 0,
        closePaise: instrument.referencePricePaise,
        dayStartMs: Number.NaN,
        lastTradeMs: 0,
        exchangeMs: 0,
        candles: new Map(),
        triggerPending: new Set(),
        nextSquareOffMs: Number.NaN,
      };
      this.markets.set(`${instrument.exchange}:${instrument.symbol}`, state);
      this.byToken.set(instrument.token, state);
    }
    this.orderIdPrefix = 260_000_000_000_000;
    this.index = { ltpPaise: SIM_INDEX.basePaise, openPaise: 0, highPaise: 0, lowPaise: 0, closePaise: SIM_INDEX.basePaise, exchangeMs: 0 };
  }

  /** Instruments traded here. */
  get instruments(): readonly Instrument[] {
    return this.options.instruments;
  }

  /** True for the tradable tokens and the index token. */
  knowsToken(token: number): boolean {
    return this.byToken.has(token) || token === SIM_INDEX.token;
  }

  /** Resolves "NSE:INFY" or a numeric token string. */
  resolveKey(key: string): { readonly token: number } | undefined {
    if (key === `NSE:${SIM_INDEX.symbol}` || key === String(SIM_INDEX.token)) return { token: SIM_INDEX.token };
    const byName = this.markets.get(key);
    if (byName) return { token: byName.instrument.token };
    const token = Number(key);
    if (Number.isSafeInteger(token) && this.byToken.has(token)) return { token };
    return undefined;
  }

  /** Last traded price of a symbol, undefined before its first tick. */
  lastPricePaise(symbol: string): Paise | undefined {
    const state = this.markets.get(`NSE:${symbol}`);
    return state && state.ltpPaise > 0 ? state.ltpPaise : undefined;
  }

  /** Book depth (clients and ladder merged) of a symbol. */
  depth(symbol: string): { readonly buy: DepthLevel[]; readonly sell: DepthLevel[] } | undefined {
    return this.markets.get(`NSE:${symbol}`)?.book.depth();
  }

  /** The exchange time of the latest market tick (0 before any). */
  get marketTimeMs(): number {
    return this.index.exchangeMs;
  }

  // ---------------------------------------------------------------- market data

  /** Applies one market tick: market state, candles, ladder, crossing resting orders, stop triggers. */
  onMarketTick(tick: Tick): void {
    const state = this.byToken.get(tick.token);
    if (state === undefined) return;
    const dayStart = istDayStartMs(tick.exchangeTimeMs);
    if (dayStart !== state.dayStartMs) {
      if (state.ltpPaise > 0) state.closePaise = state.ltpPaise;
      state.dayStartMs = dayStart;
      state.openPaise = tick.ltpPaise;
      state.highPaise = tick.ltpPaise;
      state.lowPaise = tick.ltpPaise;
      state.turnoverPaise = 0;
    }
    const traded = Math.max(0, tick.volume - state.volume) || tick.lastQuantity;
    state.ltpPaise = tick.ltpPaise;
    state.lastQuantity = tick.lastQuantity;
    state.volume = tick.volume;
    state.turnoverPaise += tick.ltpPaise * traded;
    if (tick.ltpPaise > state.highPaise) state.highPaise = tick.ltpPaise;
    if (tick.ltpPaise < state.lowPaise) state.lowPaise = tick.ltpPaise;
    state.lastTradeMs = tick.exchangeTimeMs;
    state.exchangeMs = tick.exchangeTimeMs;
    this.recordCandle(state, tick.exchangeTimeMs, tick.ltpPaise, traded);
    this.updateIndex(state, tick);
    const fills = state.book.onMarketTick(tick);
    if (fills.length > 0) this.applyFills(fills, tick.exchangeTimeMs);
    if (state.triggerPending.size > 0) this.checkTriggers(state);
    if (Number.isNaN(state.nextSquareOffMs)) state.nextSquareOffMs = this.squareOffDueAfter(tick.exchangeTimeMs);
    if (tick.exchangeTimeMs >= state.nextSquareOffMs) {
      state.nextSquareOffMs = this.squareOffDueAfter(tick.exchangeTimeMs + 1);
      this.squareOff(state, tick.exchangeTimeMs);
    }
  }

  private get squareOffMinute(): number {
    return this.options.squareOffMinute ?? DEFAULT_SQUARE_OFF_MINUTE;
  }

  /** The cut-off of `atMs`'s IST day when `atMs` is not past it, else the next day's. */
  private squareOffDueAfter(atMs: number): number {
    const today = squareOffInstantMs(atMs, this.squareOffMinute);
    return atMs <= today ? today : today + DAY_MS;
  }

  /** Set while the RMS places its own square-off orders (no cut-off, protection or margin check applies to them). */
  private rmsPlacing = false;

  /** Zerodha's RMS at the cut-off, for one symbol: cancels every working MIS order, then closes every account's MIS position at market. */
  private squareOff(state: MarketState, now: number): void {
    const { symbol, exchange } = state.instrument;
    for (const [userId, account] of this.accounts) {
      for (const record of account.orders.values()) {
        if (record.symbol !== symbol || record.product !== 'MIS' || (record.status !== 'OPEN' && record.status !== 'TRIGGER PENDING')) continue;
        state.book.remove(record.orderId);
        state.triggerPending.delete(record.orderId);
        this.cancelRemainder(record, now, 'Cancelled by the RMS: intraday (MIS) square-off.');
      }
      const position = account.positions.get(`${symbol}:MIS`);
      const net = position === undefined ? 0 : position.buyQuantity - position.sellQuantity;
      if (net === 0) continue;
      this.rmsPlacing = true;
      try {
        for (const quantity of squareOffSlices(Math.abs(net), state.instrument.lotSize)) {
          const params = new Map([
            ['exchange', exchange],
            ['tradingsymbol', symbol],
            ['transaction_type', net > 0 ? 'SELL' : 'BUY'],
            ['order_type', 'MARKET'],
            ['quantity', String(quantity)],
            ['product', 'MIS'],
            ['market_protection', '-1'],
          ]);
          this.placeOrder(userId, { variety: 'regular', params });
        }
      } finally {
        this.rmsPlacing = false;
      }
    }
  }

  private updateIndex(state: MarketState, tick: Tick): void {
    // The index moves with the average relative change of its members (equal weights).
    const previous = this.index.ltpPaise;
    const count = this.options.instruments.length;
    const reference = state.instrument.referencePricePaise;
    const delta = reference > 0 ? (SIM_INDEX.basePaise * (tick.ltpPaise - reference)) / reference / count : 0;
    const contributions = this.indexContributions;
    const old = contributions.get(tick.token) ?? 0;
    contributions.set(tick.token, delta);
    const value = Math.round(previous + delta - old);
    this.index.ltpPaise = value;
    const dayStart = istDayStartMs(tick.exchangeTimeMs);
    if (this.index.exchangeMs === 0 || istDayStartMs(this.index.exchangeMs) !== dayStart) {
      if (this.index.exchangeMs !== 0) this.index.closePaise = previous;
      this.index.openPaise = value;
      this.index.highPaise = value;
      this.index.lowPaise = value;
    }
    if (value > this.index.highPaise) this.index.highPaise = value;
    if (value < this.index.lowPaise) this.index.lowPaise = value;
    this.index.exchangeMs = Math.max(this.index.exchangeMs, tick.exchangeTimeMs);
  }

  private readonly indexContributions = new Map<number, number>();

  private recordCandle(state: MarketState, atMs: number, pricePaise: Paise, quantity: number): void {
    const minute = atMs - (((atMs % 60_000) + 60_000) % 60_000);
    const candle = state.candles.get(minute);
    if (candle === undefined) {
      state.candles.set(minute, [pricePaise, pricePaise, pricePaise, pricePaise, quantity]);
      return;
    }
    if (pricePaise > candle[1]) candle[1] = pricePaise;
    if (pricePaise < candle[2]) candle[2] = pricePaise;
    candle[3] = pricePaise;
    candle[4] += quantity;
  }

  /** Ticker packet fields of a token (depth only `withDepth`); undefined before its first tick. */
  packetState(token: number, withDepth: boolean): PacketState | undefined {
    const packet = new PacketBuilder();
    return this.fillPacket(token, withDepth, packet) ? packet.toState() : undefined;
  }

  /**
   * Fills `packet` with a token's ticker fields (depth only `withDepth`); false before its first
   * tick. The ticker's per-tick path: it allocates nothing.
   */
  fillPacket(token: number, withDepth: boolean, packet: PacketBuilder): boolean {
    if (token === SIM_INDEX.token) {
      const i = this.index;
      packet.token = token;
      packet.tradable = false;
      packet.ltpPaise = i.ltpPaise;
      packet.lastQuantity = 0;
      packet.averagePricePaise = 0;
      packet.volume = 0;
      packet.totalBuyQuantity = 0;
      packet.totalSellQuantity = 0;
      packet.openPaise = i.openPaise;
      packet.highPaise = i.highPaise;
      packet.lowPaise = i.lowPaise;
      packet.closePaise = i.closePaise;
      packet.lastTradeTimeSec = 0;
      packet.exchangeTimeSec = Math.floor(i.exchangeMs / 1000);
      packet.depthCount[0] = 0;
      packet.depthCount[1] = 0;
      return true;
    }
    const state = this.byToken.get(token);
    if (state === undefined || state.ltpPaise === 0) return false;
    packet.token = token;
    packet.tradable = true;
    packet.ltpPaise = state.ltpPaise;
    packet.lastQuantity = state.lastQuantity;
    packet.averagePricePaise = this.averagePrice(state);
    packet.volume = state.volume;
    packet.totalBuyQuantity = state.book.totalQuantity('BUY');
    packet.totalSellQuantity = state.book.totalQuantity('SELL');
    packet.openPaise = state.openPaise;
    packet.highPaise = state.highPaise;
    packet.lowPaise = state.lowPaise;
    packet.closePaise = state.closePaise;
    packet.lastTradeTimeSec = Math.floor(state.lastTradeMs / 1000);
    packet.exchangeTimeSec = Math.floor(state.exchangeMs / 1000);
    if (withDepth) state.book.writeDepth(packet);
    else {
      packet.depthCount[0] = 0;
      packet.depthCount[1] = 0;
    }
    return true;
  }

  private averagePrice(state: MarketState): Paise {
    if (state.volume <= 0) return state.ltpPaise;
    const tick = Math.max(1, state.instrument.tickSizePaise);
    return roundToTick(Math.round(state.turnoverPaise / state.volume), tick);
  }

  /** `GET /quote` data for one key. */
  quote(token: number): KiteJson | undefined {
    const packet = this.packetState(token, true);
    if (packet === undefined) return undefined;
    const state = this.byToken.get(token);
    const band = state ? priceBand(state.instrument) : undefined;
    return {
      instrument_token: token,
      timestamp: kiteTimestamp(packet.exchangeTimeSec * 1000),
      last_trade_time: packet.lastTradeTimeSec > 0 ? kiteTimestamp(packet.lastTradeTimeSec * 1000) : null,
      last_price: rupees(packet.ltpPaise),
      last_quantity: packet.lastQuantity,
      buy_quantity: packet.totalBuyQuantity,
      sell_quantity: packet.totalSellQuantity,
      volume: packet.volume,
      average_price: rupees(packet.averagePricePaise),
      oi: 0,
      oi_day_high: 0,
      oi_day_low: 0,
      net_change: rupees(packet.ltpPaise - packet.closePaise),
      lower_circuit_limit: band ? rupees(band.lowerPaise) : 0,
      upper_circuit_limit: band ? rupees(band.upperPaise) : 0,
      ohlc: this.ohlcJson(packet),
      depth: {
        buy: padDepth(packet.depth.buy).map(depthJson),
        sell: padDepth(packet.depth.sell).map(depthJson),
      },
    };
  }

  /** `GET /quote/ohlc` data for one key. */
  ohlc(token: number): KiteJson | undefined {
    const packet = this.packetState(token, false);
    if (packet === undefined) return undefined;
    return { instrument_token: token, last_price: rupees(packet.ltpPaise), ohlc: this.ohlcJson(packet) };
  }

  /** `GET /quote/ltp` data for one key. */
  ltp(token: number): KiteJson | undefined {
    const packet = this.packetState(token, false);
    if (packet === undefined) return undefined;
    return { instrument_token: token, last_price: rupees(packet.ltpPaise) };
  }

  private ohlcJson(packet: PacketState): KiteJson {
    return { open: rupees(packet.openPaise), high: rupees(packet.highPaise), low: rupees(packet.lowPaise), close: rupees(packet.closePaise) };
  }

  /**
   * Historical candles of a token in [fromMs, toMs], aggregated from the 1-minute candles the
   * simulator has seen. Intervals of N minutes align to 09:15 IST; "day" to the IST day.
   */
  candles(token: number, intervalMinutes: number | 'day', fromMs: number, toMs: number, withOi: boolean): unknown[][] {
    const state = this.byToken.get(token);
    if (state === undefined) return [];
    const buckets = new Map<number, [number, number, number, number, number]>();
    const minutes = [...state.candles.keys()].filter((m) => m >= fromMs && m <= toMs).sort((a, b) => a - b);
    for (const minute of minutes) {
      const c = state.candles.get(minute)!;
      const dayStart = istDayStartMs(minute);
      let start: number;
      if (intervalMinutes === 'day') start = dayStart;
      else {
        const open = dayStart + (9 * 60 + 15) * 60_000;
        start = open + Math.floor((minute - open) / (intervalMinutes * 60_000)) * intervalMinutes * 60_000;
      }
      const bucket = buckets.get(start);
      if (bucket === undefined) buckets.set(start, [c[0], c[1], c[2], c[3], c[4]]);
      else {
        bucket[1] = Math.max(bucket[1], c[1]);
        bucket[2] = Math.min(bucket[2], c[2]);
        bucket[3] = c[3];
        bucket[4] += c[4];
      }
    }
    return [...buckets.entries()].map(([start, c]) => {
      const row: unknown[] = [candleTimestamp(start), rupees(c[0]), rupees(c[1]), rupees(c[2]), rupees(c[3]), c[4]];
      if (withOi) row.push(0);
      return row;
    });
  }

  // ---------------------------------------------------------------- orders

  private account(userId: string): Account {
    let account = this.accounts.get(userId);
    if (account === undefined) {
      account = { userId, orders: new Map(), trades: [], positions: new Map() };
      this.accounts.set(userId, account);
    }
    return account;
  }

  /** Places an order; throws {@link KiteApiError} for bad input, else returns the order id (the order may be REJECTED). */
  placeOrder(userId: string, request: PlaceOrderParams): string {
    const p = request.params;
    if (!VARIETIES.includes(request.variety)) throw inputError(`Invalid \`variety\`: the simulator supports ${VARIETIES.join(', ')}.`);
    for (const name of ['exchange', 'tradingsymbol', 'transaction_type', 'order_type', 'quantity', 'product']) {
      if ((p.get(name) ?? '') === '') throw inputError(`Missing \`${name}\`.`);
    }
    const exchange = p.get('exchange')!;
    const symbol = p.get('tradingsymbol')!;
    const side = p.get('transaction_type')!;
    const orderType = p.get('order_type')!;
    const product = p.get('product')!;
    const validity = p.get('validity') ?? 'DAY';
    if (!SIDES.includes(side)) throw inputError('Invalid `transaction_type`.');
    if (!ORDER_TYPES.includes(orderType)) throw inputError('Invalid `order_type`.');
    if (!PRODUCTS.includes(product)) throw inputError('Invalid `product`.');
    if (!VALIDITIES.includes(validity)) throw inputError('Invalid `validity`.');
    const state = this.markets.get(`${exchange}:${symbol}`);
    if (state === undefined) throw inputError('The instrument you are placing an order for has either expired or does not exist.');
    const quantity = Number(p.get('quantity'));
    if (!Number.isSafeInteger(quantity) || quantity <= 0) throw inputError('Invalid `quantity`.');
    const pricePaise = optionalPrice(p, 'price');
    const triggerPaise = optionalPrice(p, 'trigger_price');
    const disclosed = Number(p.get('disclosed_quantity') ?? '0');
    const protectionText = p.get('market_protection') ?? '0';
    const marketProtection = Number(protectionText);
    if (!Number.isFinite(marketProtection) || marketProtection < -1 || marketProtection > 100) throw inputError('Invalid `market_protection`.');
    const tag = p.get('tag') ?? null;
    if (tag !== null && !/^[A-Za-z0-9]{1,20}$/.test(tag)) throw inputError('Invalid `tag`: alphanumeric, at most 20 characters.');

    const now = this.options.nowMs();
    this.orderSequence += 1;
    const record: OrderRecord = {
      orderId: String(this.orderIdPrefix + this.orderSequence),
      userId,
      variety: request.variety,
      symbol,
      exchange,
      token: state.instrument.token,
      side: side as Side,
      orderType: orderType as OrderType,
      product: product as Product,
      validity: validity as Validity,
      quantity,
      pricePaise: pricePaise ?? 0,
      triggerPaise: triggerPaise ?? 0,
      disclosedQuantity: Number.isSafeInteger(disclosed) ? disclosed : 0,
      marketProtection,
      tag,
      status: 'PUT ORDER REQ RECEIVED',
      statusMessage: null,
      filledQuantity: 0,
      filledValuePaise: 0,
      cancelledQuantity: 0,
      placedAtMs: now,
      updatedAtMs: now,
      exchangeOrderId: null,
      history: [],
    };
    this.account(userId).orders.set(record.orderId, record);
    this.orderOwner.set(record.orderId, record);
    this.transition(record, 'PUT ORDER REQ RECEIVED', now, false);
    this.transition(record, 'VALIDATION PENDING', now, false);

    const rejection = this.rejectionFor(record, state, now);
    if (rejection !== undefined) {
      record.statusMessage = rejection;
      record.cancelledQuantity = record.quantity;
      this.transition(record, 'REJECTED', now, true);
      return record.orderId;
    }
    this.transition(record, 'OPEN PENDING', now, false);
    record.exchangeOrderId = String(1_100_000_000_000_000 + this.orderSequence);
    if (record.orderType === 'SL' || record.orderType === 'SL-M') {
      this.transition(record, 'TRIGGER PENDING', now, true);
      state.triggerPending.add(record.orderId);
      return record.orderId;
    }
    this.transition(record, 'OPEN', now, true);
    this.execute(record, state, now);
    return record.orderId;
  }

  private rejectionFor(record: OrderRecord, state: MarketState, now: number): string | undefined {
    if (this.rmsPlacing) return undefined;
    if (this.rejectAllOrders !== null) return this.rejectAllOrders;
    if (record.product === 'MIS' && isPastMisCutoff(now, this.squareOffMinute))
      return `MIS orders are blocked after the intraday square-off time: ${misCutoffMessage(this.squareOffMinute)}.`;
    const order: Order = {
      clientOrderId: record.tag ?? record.orderId,
      intentId: record.orderId,
      strategyId: 'sim',
      portfolioId: record.userId,
      symbol: record.symbol,
      side: record.side,
      orderType: record.orderType,
      product: record.product,
      validity: record.validity,
      quantity: record.quantity,
      ...(record.orderType === 'LIMIT' || record.orderType === 'SL' ? { limitPricePaise: record.pricePaise } : {}),
      ...(record.orderType === 'SL' || record.orderType === 'SL-M' ? { triggerPricePaise: record.triggerPaise } : {}),
      status: 'VALIDATION PENDING',
      filledQuantity: 0,
      cancelledQuantity: 0,
      filledValuePaise: 0,
      createdAtMs: now,
      updatedAtMs: now,
    };
    const problem = validateOrder(order, state.instrument, {
      atMs: now,
      marketHoursOnly: this.options.enforceMarketHours,
      lastPricePaise: state.ltpPaise,
    });
    if (problem !== undefined) return problem.message;
    if ((record.orderType === 'MARKET' || record.orderType === 'SL-M') && record.marketProtection === 0 && this.options.requireMarketProtection) {
      return 'Market orders without market protection are not allowed via API. Please set market protection or use a Limit order.';
    }
    if (record.orderType === 'MARKET' && state.ltpPaise === 0) return 'No last traded price for this instrument yet; market orders cannot be priced.';
    if (record.side === 'SELL' && record.product === 'CNC') {
      const available = this.availableHolding(record);
      if (record.quantity > available) {
        return `Insufficient holdings: a CNC sell of ${record.quantity} ${record.symbol} needs shares held, ${available} available. Short selling is for MIS only.`;
      }
    }
    const required = this.requiredMargin(record, state);
    const available = this.availableMargin(record.userId);
    if (required > available) {
      return `Insufficient funds. Required margin is ${rupees(required).toFixed(2)} but available margin is ${rupees(available).toFixed(2)}.`;
    }
    return undefined;
  }

  /** CNC shares a new CNC sell may take: the net CNC position (earlier days and today) less the unfilled part of open CNC sells. */
  private availableHolding(record: OrderRecord): number {
    const account = this.account(record.userId);
    const position = account.positions.get(`${record.symbol}:CNC`);
    let available = position === undefined ? 0 : position.buyQuantity - position.sellQuantity;
    for (const other of account.orders.values()) {
      if (other === record || other.symbol !== record.symbol || other.product !== 'CNC' || other.side !== 'SELL') continue;
      if (other.status === 'COMPLETE' || other.status === 'CANCELLED' || other.status === 'REJECTED') continue;
      available -= other.quantity - other.filledQuantity;
    }
    return Math.max(0, available);
  }

  private requiredMargin(record: OrderRecord, state: MarketState): Paise {
    const price = record.pricePaise > 0 ? record.pricePaise : state.ltpPaise > 0 ? state.ltpPaise : record.triggerPaise;
    const value = mul(price, record.quantity);
    if (record.product === 'CNC') return record.side === 'BUY' ? value : 0;
    return Math.round(value / 5);
  }

  /** Opening cash minus what positions use (CNC at full value, MIS at 20 %). */
  availableMargin(userId: string): Paise {
    return this.options.openingCashPaise - this.utilisedMargin(userId);
  }

  private utilisedMargin(userId: string): Paise {
    let used = 0;
    for (const position of this.account(userId).positions.values()) {
      const net = position.buyQuantity - position.sellQuantity;
      if (net === 0) continue;
      const average = net > 0 ? position.buyValuePaise / position.buyQuantity : position.sellValuePaise / position.sellQuantity;
      const value = Math.abs(net) * average;
      used += Math.round(position.product === 'CNC' ? value : value / 5);
    }
    return used;
  }

  /** The protection price of a market order: ltp ± protection %, on the tick grid, inside the band. */
  private protectionPrice(record: OrderRecord, state: MarketState): Paise {
    const ltp = state.ltpPaise;
    const percent = record.marketProtection > 0 ? record.marketProtection : autoProtectionPercent(ltp);
    const tick = Math.max(1, state.instrument.tickSizePaise);
    const band = priceBand(state.instrument);
    if (record.side === 'BUY') return Math.min(band.upperPaise, roundToTick(Math.floor((ltp * (100 + percent)) / 100), tick, 'down'));
    return Math.max(band.lowerPaise, roundToTick(Math.ceil((ltp * (100 - percent)) / 100), tick, 'up'));
  }

  private execute(record: OrderRecord, state: MarketState, now: number): void {
    const marketLike = record.orderType === 'MARKET' || record.orderType === 'SL-M';
    const limitPaise = marketLike ? this.protectionPrice(record, state) : record.pricePaise;
    const open = record.quantity - record.filledQuantity;
    const { fills, remaining } = state.book.match({ orderId: record.orderId, side: record.side, limitPaise, quantity: open });
    this.applyFills(fills, now);
    if (remaining === 0) return;
    if (marketLike) {
      this.cancelRemainder(
        record,
        now,
        `Your order could not be fully executed within the market protection price of ${rupees(limitPaise).toFixed(2)}; the remaining quantity was cancelled.`,
      );
    } else if (record.validity === 'IOC') {
      this.cancelRemainder(record, now, 'IOC order: unfilled quantity cancelled.');
    } else {
      state.book.rest(record.orderId, record.side, record.pricePaise, remaining);
    }
  }

  private cancelRemainder(record: OrderRecord, now: number, message: string): void {
    record.cancelledQuantity = record.quantity - record.filledQuantity;
    record.statusMessage = message;
    this.transition(record, 'CANCELLED', now, true);
  }

  private applyFills(fills: readonly BookFill[], now: number): void {
    for (const fill of fills) {
      const record = this.orderOwner.get(fill.orderId);
      if (record === undefined) continue;
      record.filledQuantity += fill.quantity;
      record.filledValuePaise += fill.quantity * fill.pricePaise;
      this.tradeSequence += 1;
      const account = this.account(record.userId);
      account.trades.push({ tradeId: String(10_000_000 + this.tradeSequence), order: record, quantity: fill.quantity, pricePaise: fill.pricePaise, atMs: now });
      const key = `${record.symbol}:${record.product}`;
      let position = account.positions.get(key);
      if (position === undefined) {
        position = {
          symbol: record.symbol,
          exchange: record.exchange,
          token: record.token,
          product: record.product,
          buyQuantity: 0,
          buyValuePaise: 0,
          sellQuantity: 0,
          sellValuePaise: 0,
        };
        account.positions.set(key, position);
      }
      if (record.side === 'BUY') {
        position.buyQuantity += fill.quantity;
        position.buyValuePaise += fill.quantity * fill.pricePaise;
      } else {
        position.sellQuantity += fill.quantity;
        position.sellValuePaise += fill.quantity * fill.pricePaise;
      }
      const complete = record.filledQuantity === record.quantity;
      if (complete) this.transition(record, 'COMPLETE', now, true);
      else {
        record.updatedAtMs = now;
        this.pushHistory(record);
        this.emit(record, 'UPDATE');
      }
    }
  }

  private checkTriggers(state: MarketState): void {
    for (const orderId of [...state.triggerPending]) {
      const record = this.orderOwner.get(orderId);
      if (record === undefined || record.status !== 'TRIGGER PENDING') {
        state.triggerPending.delete(orderId);
        continue;
      }
      const hit = record.side === 'BUY' ? state.ltpPaise >= record.triggerPaise : state.ltpPaise <= record.triggerPaise;
      if (!hit) continue;
      state.triggerPending.delete(orderId);
      const now = state.exchangeMs;
      this.transition(record, 'OPEN', now, true);
      this.execute(record, state, now);
    }
  }

  /** Modifies an OPEN or TRIGGER PENDING order. Price change or quantity increase loses time priority. */
  modifyOrder(userId: string, variety: string, orderId: string, p: ReadonlyMap<string, string>): string {
    const record = this.ownedOrder(userId, orderId);
    if (record.variety !== variety) throw inputError('Invalid `variety` for this order.');
    if (record.status !== 'OPEN' && record.status !== 'TRIGGER PENDING') {
      throw inputError(`Order cannot be modified as it is in ${record.status} state.`);
    }
    const state = this.byToken.get(record.token)!;
    const quantity = p.has('quantity') && p.get('quantity') !== '' ? Number(p.get('quantity')) : record.quantity;
    if (!Number.isSafeInteger(quantity) || quantity <= record.filledQuantity) throw inputError('Invalid `quantity`: it must exceed the filled quantity.');
    const orderType = (p.get('order_type') || record.orderType) as OrderType;
    if (!ORDER_TYPES.includes(orderType)) throw inputError('Invalid `order_type`.');
    const validity = (p.get('validity') || record.validity) as Validity;
    if (!VALIDITIES.includes(validity)) throw inputError('Invalid `validity`.');
    const price = optionalPrice(p, 'price') ?? record.pricePaise;
    const trigger = optionalPrice(p, 'trigger_price') ?? record.triggerPaise;
    const tick = state.instrument.tickSizePaise;
    const band = priceBand(state.instrument);
    for (const [name, value] of [
      ['price', orderType === 'LIMIT' || orderType === 'SL' ? price : 0],
      ['trigger price', orderType === 'SL' || orderType === 'SL-M' ? trigger : 0],
    ] as const) {
      if (value === 0) continue;
      if (value % tick !== 0)
        throw inputError(`Tick size for this script is ${rupees(tick).toFixed(2)}. Kindly enter ${name} in the multiple of tick size for this script.`);
      if (value < band.lowerPaise || value > band.upperPaise)
        throw inputError(`Your ${name} is outside the daily range of ${rupees(band.lowerPaise).toFixed(2)} to ${rupees(band.upperPaise).toFixed(2)}.`);
    }
    const now = this.options.nowMs();
    state.book.remove(record.orderId);
    this.transition(record, 'MODIFY VALIDATION PENDING', now, false);
    this.transition(record, 'MODIFY PENDING', now, false);
    record.quantity = quantity;
    record.orderType = orderType;
    record.validity = validity;
    record.pricePaise = orderType === 'LIMIT' || orderType === 'SL' ? price : 0;
    record.triggerPaise = orderType === 'SL' || orderType === 'SL-M' ? trigger : 0;
    if (p.has('disclosed_quantity')) record.disclosedQuantity = Number(p.get('disclosed_quantity')) || 0;
    this.transition(record, 'MODIFIED', now, false);
    this.emit(record, 'UPDATE');
    if (orderType === 'SL' || orderType === 'SL-M') {
      if (record.status !== 'TRIGGER PENDING') this.transition(record, 'TRIGGER PENDING', now, false);
      state.triggerPending.add(record.orderId);
      this.checkTriggers(state);
    } else {
      state.triggerPending.delete(record.orderId);
      this.transition(record, 'OPEN', now, false);
      this.execute(record, state, now);
    }
    return record.orderId;
  }

  /** Cancels an OPEN or TRIGGER PENDING order. */
  cancelOrder(userId: string, variety: string, orderId: string): string {
    const record = this.ownedOrder(userId, orderId);
    if (record.variety !== variety) throw inputError('Invalid `variety` for this order.');
    if (record.status !== 'OPEN' && record.status !== 'TRIGGER PENDING') {
      throw inputError(`Order cannot be cancelled as it is in ${record.status} state.`);
    }
    const state = this.byToken.get(record.token)!;
    state.book.remove(record.orderId);
    state.triggerPending.delete(record.orderId);
    const now = this.options.nowMs();
    this.transition(record, 'CANCEL PENDING', now, false);
    record.cancelledQuantity = record.quantity - record.filledQuantity;
    record.statusMessage = null;
    this.transition(record, 'CANCELLED', now, true);
    return record.orderId;
  }

  private ownedOrder(userId: string, orderId: string): OrderRecord {
    const record = this.account(userId).orders.get(orderId);
    if (record === undefined) throw new KiteApiError(400, 'InputException', `Order ${orderId} was not found.`);
    return record;
  }

  private transition(record: OrderRecord, status: OrderStatus, now: number, postback: boolean): void {
    record.status = status;
    record.updatedAtMs = now;
    this.pushHistory(record);
    if (postback) this.emit(record, status);
  }

  private pushHistory(record: OrderRecord): void {
    record.history.push(this.orderJson(record));
  }

  private emit(record: OrderRecord, postbackStatus: string): void {
    const payload = this.orderJson(record);
    payload['status'] = postbackStatus === 'UPDATE' ? 'UPDATE' : record.status;
    payload['user_id'] = record.userId;
    payload['unfilled_quantity'] = record.quantity - record.filledQuantity - record.cancelledQuantity;
    this.options.onOrderUpdate(record.userId, payload);
  }

  /** Kite's order object. */
  orderJson(record: OrderRecord): KiteJson {
    const pending = record.status === 'COMPLETE' || record.status === 'CANCELLED' || record.status === 'REJECTED' ? 0 : record.quantity - record.filledQuantity;
    return {
      placed_by: record.userId,
      order_id: record.orderId,
      exchange_order_id: record.exchangeOrderId,
      parent_order_id: null,
      status: record.status,
      status_message: record.statusMessage,
      status_message_raw: record.statusMessage,
      order_timestamp: kiteTimestamp(record.updatedAtMs),
      exchange_update_timestamp: record.exchangeOrderId === null ? null : kiteTimestamp(record.updatedAtMs),
      exchange_timestamp: record.exchangeOrderId === null ? null : kiteTimestamp(record.placedAtMs),
      variety: record.variety,
      modified: record.history.some((h) => h['status'] === 'MODIFIED'),
      exchange: record.exchange,
      tradingsymbol: record.symbol,
      instrument_token: record.token,
      order_type: record.orderType,
      transaction_type: record.side,
      validity: record.validity,
      validity_ttl: 0,
      product: record.product,
      quantity: record.quantity,
      disclosed_quantity: record.disclosedQuantity,
      price: rupees(record.pricePaise),
      trigger_price: rupees(record.triggerPaise),
      average_price: record.filledQuantity === 0 ? 0 : rupees(record.filledValuePaise / record.filledQuantity),
      filled_quantity: record.filledQuantity,
      pending_quantity: pending,
      cancelled_quantity: record.cancelledQuantity,
      market_protection: record.marketProtection,
      meta: {},
      tag: record.tag,
      tags: record.tag === null ? [] : [record.tag],
      guid: `sim-${record.orderId}`,
    };
  }

  /** `GET /orders`: the user's orders, latest state each, in placement order. */
  orders(userId: string): KiteJson[] {
    return [...this.account(userId).orders.values()].map((r) => this.orderJson(r));
  }

  /** `GET /orders/:id`: one entry per state. */
  orderHistory(userId: string, orderId: string): KiteJson[] {
    return this.ownedOrder(userId, orderId).history.map((h) => ({ ...h }));
  }

  /** `GET /trades` or `GET /orders/:id/trades`. */
  trades(userId: string, orderId?: string): KiteJson[] {
    if (orderId !== undefined) this.ownedOrder(userId, orderId);
    return this.account(userId)
      .trades.filter((t) => orderId === undefined || t.order.orderId === orderId)
      .map((t) => ({
        trade_id: t.tradeId,
        order_id: t.order.orderId,
        exchange_order_id: t.order.exchangeOrderId,
        tradingsymbol: t.order.symbol,
        exchange: t.order.exchange,
        instrument_token: t.order.token,
        transaction_type: t.order.side,
        product: t.order.product,
        average_price: rupees(t.pricePaise),
        quantity: t.quantity,
        fill_timestamp: kiteTimestamp(t.atMs),
        exchange_timestamp: kiteTimestamp(t.atMs),
        order_timestamp: kiteTimestamp(t.atMs),
      }));
  }

  /** `GET /portfolio/positions`. */
  positions(userId: string): { net: KiteJson[]; day: KiteJson[] } {
    const rows = [...this.account(userId).positions.values()].map((p) => {
      const state = this.byToken.get(p.token);
      const last = state?.ltpPaise ?? 0;
      const close = state?.closePaise ?? 0;
      const net = p.buyQuantity - p.sellQuantity;
      const pnlPaise = p.sellValuePaise - p.buyValuePaise + net * last;
      const average = net > 0 ? p.buyValuePaise / p.buyQuantity : net < 0 ? p.sellValuePaise / p.sellQuantity : 0;
      const buyPrice = p.buyQuantity > 0 ? p.buyValuePaise / p.buyQuantity : 0;
      const sellPrice = p.sellQuantity > 0 ? p.sellValuePaise / p.sellQuantity : 0;
      const closed = Math.min(p.buyQuantity, p.sellQuantity);
      const realisedPaise = closed * (sellPrice - buyPrice);
      return {
        tradingsymbol: p.symbol,
        exchange: p.exchange,
        instrument_token: p.token,
        product: p.product,
        quantity: net,
        overnight_quantity: 0,
        multiplier: 1,
        average_price: rupees(average),
        close_price: rupees(close),
        last_price: rupees(last),
        value: rupees(p.sellValuePaise - p.buyValuePaise),
        pnl: rupees(pnlPaise),
        m2m: rupees(pnlPaise),
        unrealised: rupees(pnlPaise - realisedPaise),
        realised: rupees(realisedPaise),
        buy_quantity: p.buyQuantity,
        buy_price: rupees(buyPrice),
        buy_value: rupees(p.buyValuePaise),
        buy_m2m: rupees(p.buyValuePaise),
        sell_quantity: p.sellQuantity,
        sell_price: rupees(sellPrice),
        sell_value: rupees(p.sellValuePaise),
        sell_m2m: rupees(p.sellValuePaise),
        day_buy_quantity: p.buyQuantity,
        day_buy_price: rupees(buyPrice),
        day_buy_value: rupees(p.buyValuePaise),
        day_sell_quantity: p.sellQuantity,
        day_sell_price: rupees(sellPrice),
        day_sell_value: rupees(p.sellValuePaise),
      };
    });
    return { net: rows, day: rows.map((r) => ({ ...r })) };
  }

  /** `GET /user/margins` equity segment. */
  equityMargins(userId: string): KiteJson {
    const used = this.utilisedMargin(userId);
    const opening = this.options.openingCashPaise;
    return {
      enabled: true,
      net: rupees(opening - used),
      available: {
        adhoc_margin: 0,
        cash: rupees(opening),
        opening_balance: rupees(opening),
        live_balance: rupees(opening - used),
        collateral: 0,
        intraday_payin: 0,
      },
      utilised: utilisedMargins(rupees(used)),
    };
  }
}

function padDepth(levels: readonly DepthLevel[]): DepthLevel[] {
  const out = levels.slice(0, 5);
  while (out.length < 5) out.push({ pricePaise: 0, quantity: 0, orders: 0 });
  return out;
}

function depthJson(level: DepthLevel): KiteJson {
  return { price: rupees(level.pricePaise), quantity: level.quantity, orders: level.orders };
}

function optionalPrice(p: ReadonlyMap<string, string>, name: string): Paise | undefined {
  const text = p.get(name);
  if (text === undefined || text === '') return undefined;
  try {
    const paise = parseRupees(text);
    if (paise < 0) throw inputError(`Invalid \`${name}\`.`);
    return paise === 0 ? undefined : paise;
  } catch (error) {
    if (error instanceof KiteApiError) throw error;
    throw inputError(`Invalid \`${name}\`.`);
  }
}

/** Automatic market protection by price (kite-reference: unconfirmed tiers): 2 % to ₹100, 1 % to ₹500, else 0.5 %. */
function autoProtectionPercent(ltpPaise: Paise): number {
  if (ltpPaise <= 100_00) return 2;
  if (ltpPaise <= 500_00) return 1;
  return 0.5;
}

/** The `utilised` block of a Kite margins segment: only debits are simulated, the rest is 0. */
export function utilisedMargins(debits: number): KiteJson {
  return {
    debits,
    exposure: 0,
    m2m_realised: 0,
    m2m_unrealised: 0,
    option_premium: 0,
    payout: 0,
    span: 0,
    holding_sales: 0,
    turnover: 0,
    liquid_collateral: 0,
    stock_collateral: 0,
    delivery: 0,
  };
}
