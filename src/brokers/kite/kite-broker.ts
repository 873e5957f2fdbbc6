/**
 * Troupe's Kite adapter around the official `kiteconnect` client: session, instruments,
 * orders (tag = client order id, unknown outcomes resolved by tag, never re-sent), a
 * queueing order rate limiter, retries only for idempotent reads, and a clean halt on
 * session expiry.
 */
import { KiteConnect } from 'kiteconnect';
import type { Connect, Trade as KiteTrade } from 'kiteconnect/types/connect.js';
import type { Instrument } from '../../model/instrument.js';
import { paiseToRupeeString, parseRupees, type Paise } from '../../model/money.js';
import type { OrderTerms } from '../../model/order.js';
import { KiteNetworkError, KiteSessionExpiredError, mapKiteError } from './errors.js';
import { orderView, type KiteOrderView, type KiteTradeView } from './order-view.js';
import { KITE_ORDER_LIMITS, KITE_OTHER_LIMITS, KITE_QUOTE_LIMITS, QueueingRateLimiter, type QueueLimits } from './rate-limiter.js';

/** Options of {@link KiteBroker}. */
export interface KiteBrokerOptions {
  readonly apiKey: string;
  /** REST root; default Kite's. Point it at the simulator's `url`. */
  readonly root?: string;
  readonly accessToken?: string;
  /** Client timeout per call, ms (kiteconnect default 7000). */
  readonly timeoutMs?: number;
  readonly orderLimits?: QueueLimits;
  /** Client-side limit of every other call (default Kite's 10/s). */
  readonly otherLimits?: QueueLimits;
  /** Client-side limit of quote calls (`/quote`, `/quote/ohlc`, `/quote/ltp`; default Kite's 1/s): a bucket of their own at Kite. */
  readonly quoteLimits?: QueueLimits;
  /** Attempts for idempotent reads on network errors (default 3), backoff doubling from `retryBaseMs` (default 200). */
  readonly readAttempts?: number;
  readonly retryBaseMs?: number;
  /** Default freeze quantity (the dump does not carry it). */
  readonly freezeQuantity?: number;
}

/** What Troupe asks Kite to place. */
export type KiteOrderRequest = OrderTerms & { readonly clientOrderId: string };

/** The Kite broker adapter. */
export class KiteBroker {
  /** The raw client (for calls the adapter does not wrap). */
  readonly client: Connect;
  private readonly orderLimiter: QueueingRateLimiter;
  private readonly otherLimiter: QueueingRateLimiter;
  private readonly quoteLimiter: QueueingRateLimiter;
  private haltedBy: KiteSessionExpiredError | undefined;

  constructor(private readonly options: KiteBrokerOptions) {
    this.client = new KiteConnect({
      api_key: options.apiKey,
      ...(options.root === undefined ? {} : { root: options.root }),
      ...(options.accessToken === undefined ? {} : { access_token: options.accessToken }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    this.orderLimiter = new QueueingRateLimiter(options.orderLimits ?? KITE_ORDER_LIMITS);
    this.otherLimiter = new QueueingRateLimiter(options.otherLimits ?? KITE_OTHER_LIMITS);
    this.quoteLimiter = new QueueingRateLimiter(options.quoteLimits ?? KITE_QUOTE_LIMITS);
  }

  /** Goes up with every new access token: a TokenException of a call sent with an older one is not a halt. */
  private sessionGeneration = 0;

  /** Set once a TokenException was seen: every later call fails fast with it. */
  get halted(): KiteSessionExpiredError | undefined {
    return this.haltedBy;
  }

  /** Exchanges a request token for a session; clears a halt. Returns the access token. */
  async createSession(requestToken: string, apiSecret: string): Promise<string> {
    return (await this.createSessionDetails(requestToken, apiSecret)).accessToken;
  }

  /** {@link createSession} with the user and login time. */
  async createSessionDetails(requestToken: string, apiSecret: string): Promise<{ accessToken: string; userId: string; loginTime: Date | undefined }> {
    const session = await this.call(() => this.client.generateSession(requestToken, apiSecret), false, true);
    this.sessionGeneration += 1;
    this.haltedBy = undefined;
    const loginTime: unknown = session.login_time;
    return { accessToken: session.access_token, userId: String(session.user_id), loginTime: loginTime instanceof Date ? loginTime : undefined };
  }

  /** Uses another access token (a new login); clears a halt. */
  useAccessToken(accessToken: string): void {
    this.client.setAccessToken(accessToken);
    this.sessionGeneration += 1;
    this.haltedBy = undefined;
  }

  /** NSE instruments from the dump: empty rows dropped, tick and lot sizes kept. */
  async instruments(): Promise<Instrument[]> {
    const rows = await this.call(() => this.client.getInstruments('NSE'), true);
    const out: Instrument[] = [];
    for (const row of rows) {
      const token = Number(row.instrument_token);
      if (String(row.instrument_token) === '' || !Number.isSafeInteger(token) || row.segment !== 'NSE') continue;
      const tick = Number.isFinite(row.tick_size) && row.tick_size > 0 ? parseRupees(String(row.tick_size)) : 5;
      const last = Number.isFinite(row.last_price) ? parseRupees(String(row.last_price)) : 0;
      out.push({
        symbol: row.tradingsymbol,
        exchange: 'NSE',
        token,
        name: row.name,
        tickSizePaise: tick,
        lotSize: Number.isSafeInteger(row.lot_size) && row.lot_size > 0 ? row.lot_size : 1,
        freezeQuantity: this.options.freezeQuantity ?? 100_000,
        referencePricePaise: last,
        priceBandPercent: 20,
      });
    }
    return out;
  }

  /**
   * Places an order with `tag` = client order id. When the outcome is unknown (network
   * error, timeout, 5xx) the order is looked up by tag; it is never sent twice.
   */
  async placeOrder(request: KiteOrderRequest): Promise<string> {
    const params = {
      exchange: 'NSE' as const,
      tradingsymbol: request.symbol,
      transaction_type: request.side,
      quantity: request.quantity,
      product: request.product,
      order_type: request.orderType,
      validity: request.validity,
      tag: request.clientOrderId,
      ...(request.limitPricePaise === undefined ? {} : { price: Number(paiseToRupeeString(request.limitPricePaise)) }),
      ...(request.triggerPricePaise === undefined ? {} : { trigger_price: Number(paiseToRupeeString(request.triggerPricePaise)) }),
      ...(request.orderType === 'MARKET' || request.orderType === 'SL-M' ? { market_protection: -1 } : {}),
    };
    try {
      // a 429 ("Too many requests") is Kite refusing before processing: the outcome is known, so the
      // order queues again (bounded, with backoff); any other network trouble is resolved by tag
      for (let attempt = 1, delayMs = this.options.retryBaseMs ?? 200; ; attempt += 1, delayMs *= 2) {
        try {
          const result = await this.orderLimiter.run(() => this.call(() => this.client.placeOrder('regular', params), false));
          return result.order_id;
        } catch (error) {
          if (!isRateLimited(error) || attempt >= 4) throw error;
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
      }
    } catch (error) {
      if (!(error instanceof KiteNetworkError)) throw error;
      const found = await this.findByTag(request.clientOrderId);
      if (found !== undefined) return found.brokerOrderId;
      throw new KiteNetworkError(
        `placeOrder ${request.clientOrderId}: outcome unknown and no order carries that tag; not re-sent (${error.message})`,
        error.kiteErrorType,
        false,
      );
    }
  }

  /** Modifies price/quantity/trigger of an open order. */
  async modifyOrder(brokerOrderId: string, change: { quantity?: number; limitPricePaise?: Paise; triggerPricePaise?: Paise }): Promise<void> {
    const params = {
      ...(change.quantity === undefined ? {} : { quantity: change.quantity }),
      ...(change.limitPricePaise === undefined ? {} : { price: Number(paiseToRupeeString(change.limitPricePaise)) }),
      ...(change.triggerPricePaise === undefined ? {} : { trigger_price: Number(paiseToRupeeString(change.triggerPricePaise)) }),
    };
    await this.orderLimiter.run(() => this.call(() => this.client.modifyOrder('regular', brokerOrderId, params), false));
  }

  /** Cancels an open order. */
  async cancelOrder(brokerOrderId: string): Promise<void> {
    await this.orderLimiter.run(() => this.call(() => this.client.cancelOrder('regular', brokerOrderId), false));
  }

  /** The day's orders (idempotent: retried with backoff). */
  async orders(): Promise<KiteOrderView[]> {
    const orders = await this.call(() => this.client.getOrders(), true);
    return orders.map(orderView);
  }

  /**
   * Sets each instrument's reference price (the base of its price band) from Kite's OHLC
   * quote: the previous close, else the last price. The instrument dump carries 0, which
   * would make every tick fall outside the band. Instruments without a quote keep theirs.
   */
  async withReferencePrices(instruments: readonly Instrument[]): Promise<Instrument[]> {
    const out: Instrument[] = [];
    for (let start = 0; start < instruments.length; start += 500) {
      const chunk = instruments.slice(start, start + 500);
      const quotes = await this.call(() => this.client.getOHLC(chunk.map((i) => `NSE:${i.symbol}`)), true, false, this.quoteLimiter);
      for (const instrument of chunk) {
        const quote = quotes[`NSE:${instrument.symbol}`];
        const close = quote?.ohlc?.close;
        const rupees = typeof close === 'number' && close > 0 ? close : quote?.last_price;
        out.push(
          typeof rupees === 'number' && Number.isFinite(rupees) && rupees > 0
            ? { ...instrument, referencePricePaise: parseRupees(String(rupees)) }
            : instrument,
        );
      }
    }
    return out;
  }

  /** The executions of one order (idempotent: retried with backoff). Prices exact in paise. */
  async orderTrades(brokerOrderId: string): Promise<KiteTradeView[]> {
    const trades = await this.call(() => this.client.getOrderTrades(brokerOrderId), true);
    return trades.map(tradeView);
  }

  /** The day's trades of every order (idempotent: retried with backoff). */
  async trades(): Promise<KiteTradeView[]> {
    const trades = await this.call(() => this.client.getTrades(), true);
    return trades.map(tradeView);
  }

  /** Net positions per symbol and product (quantity signed), NSE only. */
  async positions(): Promise<{ symbol: string; product: string; quantity: number }[]> {
    const positions = await this.call(() => this.client.getPositions(), true);
    return (positions.net ?? [])
      .filter((p) => p.exchange === 'NSE')
      .map((p) => ({ symbol: String(p.tradingsymbol), product: String(p.product), quantity: Number(p.quantity) || 0 }));
  }

  /** Holdings (delivery), NSE only. */
  async holdings(): Promise<{ symbol: string; quantity: number }[]> {
    const holdings = await this.call(() => this.client.getHoldings(), true);
    return holdings.filter((h) => h.exchange === 'NSE').map((h) => ({ symbol: String(h.tradingsymbol), quantity: Number(h.quantity) || 0 }));
  }

  /** Finds the order carrying a client order id as tag. */
  async findByTag(clientOrderId: string): Promise<KiteOrderView | undefined> {
    return (await this.orders()).find((o) => o.clientOrderId === clientOrderId);
  }

  private async call<T>(fn: () => Promise<T>, idempotent: boolean, allowWhenHalted = false, limiter = this.otherLimiter): Promise<T> {
    if (this.haltedBy !== undefined && !allowWhenHalted) throw this.haltedBy;
    const attempts = idempotent ? (this.options.readAttempts ?? 3) : 1;
    let delayMs = this.options.retryBaseMs ?? 200;
    let generation = this.sessionGeneration;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return idempotent ? await limiter.run(fn) : await fn();
      } catch (raw) {
        const error = mapKiteError(raw);
        if (error instanceof KiteSessionExpiredError) {
          // sent with the token a new login has replaced since: Kite refused it at the door (nothing
          // was done), so it goes again once with the new token instead of halting the new session
          if (generation !== this.sessionGeneration) {
            generation = this.sessionGeneration;
            attempt -= 1;
            continue;
          }
          this.haltedBy = error;
          throw error;
        }
        if (!error.retryable || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs *= 2;
      }
    }
  }
}

function tradeView(trade: KiteTrade): KiteTradeView {
  return {
    tradeId: String(trade.trade_id),
    brokerOrderId: String(trade.order_id),
    quantity: Number(trade.quantity) || 0,
    pricePaise: Number.isFinite(trade.average_price) ? parseRupees(String(trade.average_price)) : 0,
    atMs: trade.fill_timestamp instanceof Date ? trade.fill_timestamp.getTime() : Number.NaN,
  };
}

/** Kite's rate-limit answer (HTTP 429, NetworkException "Too many requests"): the request was not processed. */
export function isRateLimited(error: unknown): boolean {
  return error instanceof KiteNetworkError && /too many requests/i.test(error.message);
}
