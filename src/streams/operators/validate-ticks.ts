import { defer, filter, map, type OperatorFunction } from 'rxjs';
import { isOnTick, priceBand, type Instrument } from '../../model/instrument.js';
import type { DepthLevel, Tick } from '../../model/market.js';
import { rupeesToPaise, type Paise } from '../../model/money.js';
import { istDayStartMs } from '../../model/time.js';
import { BatchCollector } from '../batch-collector.js';

/** Why a candidate tick was dropped. Stable codes, safe to count and alert on. */
export type TickRejectionReason =
  /** Not a plain object (null, a number, an array, …). */
  | 'not-an-object'
  /** Unknown symbol or token, neither given, or a token that does not match the symbol. */
  | 'unknown-instrument'
  /** Last price is not a positive integer number of paise. */
  | 'invalid-price'
  /** Last price is not a multiple of the instrument's tick size. */
  | 'off-tick-grid'
  /** Last price is outside the instrument's daily price band. */
  | 'outside-price-band'
  /** Last quantity or cumulative volume is not a non-negative integer. */
  | 'invalid-quantity'
  /** Cumulative volume fell within the same IST day. */
  | 'volume-backwards'
  /** Exchange timestamp is missing or not a finite number. */
  | 'invalid-timestamp'
  /** Exchange timestamp is earlier than the symbol's latest by more than the tolerance. */
  | 'timestamp-backwards'
  /** Bid, ask or depth is malformed (negative, fractional, off the grid). */
  | 'invalid-quote';

/** Every {@link TickRejectionReason}, for tables and counters. */
export const TICK_REJECTION_REASONS: readonly TickRejectionReason[] = [
  'not-an-object',
  'unknown-instrument',
  'invalid-price',
  'off-tick-grid',
  'outside-price-band',
  'invalid-quantity',
  'volume-backwards',
  'invalid-timestamp',
  'timestamp-backwards',
  'invalid-quote',
];

/** A dropped candidate with the reason. */
export interface TickRejection {
  readonly reason: TickRejectionReason;
  /** Human-readable detail: the offending value and the rule. */
  readonly detail: string;
  /** The symbol, when it could be resolved. */
  readonly symbol?: string;
  readonly candidate: unknown;
}

/** Running counts of a validator; pass one in to read them from outside the stream. */
export interface TickValidationStats {
  accepted: number;
  rejected: number;
  readonly byReason: Record<TickRejectionReason, number>;
}

/** Zeroed {@link TickValidationStats}. */
export function createTickValidationStats(): TickValidationStats {
  const byReason = {} as Record<TickRejectionReason, number>;
  for (const reason of TICK_REJECTION_REASONS) byReason[reason] = 0;
  return { accepted: 0, rejected: 0, byReason };
}

/** Options of {@link validateTicks}. */
export interface ValidateTicksOptions {
  readonly instruments: readonly Instrument[];
  /** Called once per dropped candidate. If it throws, the stream errors with that error. */
  readonly onRejected: (rejection: TickRejection) => void;
  /** Counters to update (default: a private set). */
  readonly stats?: TickValidationStats;
  /** How far a symbol's exchange time may go backwards before a tick is rejected. Default 1,000 ms. */
  readonly timestampToleranceMs?: number;
  /** Stamps `receivedMonoMs` on ticks that lack it, once per batch. Default `performance.now`. */
  readonly monotonicNow?: () => number;
}

/** A tick as a source may offer it: the symbol may be missing (Kite sends tokens only). */
export type TickCandidate = Omit<Tick, 'type' | 'symbol'> & { readonly type?: 'tick'; readonly symbol?: string };

interface SymbolState {
  readonly instrument: Instrument;
  readonly lowerPaise: Paise;
  readonly upperPaise: Paise;
  lastTimeMs: number;
  lastVolume: number;
  dayStartMs: number;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The stateful core of {@link validateTicks}: checks candidates one by one against the
 * instruments and each symbol's history, and builds fresh normalised ticks. Never throws
 * for bad data (only if `onRejected` does).
 */
export class TickValidator {
  readonly stats: TickValidationStats;
  private readonly bySymbol = new Map<string, SymbolState>();
  private readonly byToken = new Map<number, SymbolState>();
  private readonly toleranceMs: number;
  private readonly onRejected: (rejection: TickRejection) => void;
  private readonly monotonicNow: () => number;
  /** Where `validate` collects a batch's valid ticks. */
  private readonly valid = new BatchCollector<Tick>();

  constructor(options: ValidateTicksOptions) {
    for (const instrument of options.instruments) {
      const band = priceBand(instrument);
      const state: SymbolState = {
        instrument,
        lowerPaise: band.lowerPaise,
        upperPaise: band.upperPaise,
        lastTimeMs: Number.NEGATIVE_INFINITY,
        lastVolume: -1,
        dayStartMs: Number.NaN,
      };
      this.bySymbol.set(instrument.symbol, state);
      this.byToken.set(instrument.token, state);
    }
    this.stats = options.stats ?? createTickValidationStats();
    this.toleranceMs = options.timestampToleranceMs ?? 1000;
    this.onRejected = options.onRejected;
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
  }

  /** Valid candidates of a batch as normalised ticks, in order; the rest are reported. */
  validate(batch: readonly unknown[]): Tick[] {
    let receivedMonoMs: number | undefined;
    for (const candidate of batch) {
      const tick = this.check(candidate);
      if (tick === undefined) continue;
      if (tick.receivedMonoMs === undefined) tick.receivedMonoMs = receivedMonoMs ??= this.monotonicNow();
      this.valid.push(tick);
    }
    return this.valid.take();
  }

  private reject(reason: TickRejectionReason, detail: string, candidate: unknown, symbol?: string): undefined {
    this.stats.rejected += 1;
    this.stats.byReason[reason] += 1;
    this.onRejected(symbol === undefined ? { reason, detail, candidate } : { reason, detail, symbol, candidate });
    return undefined;
  }

  private check(candidate: unknown): Writable<Tick> | undefined {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      return this.reject('not-an-object', `expected a tick object, got ${describe(candidate)}`, candidate);
    }
    const c = candidate as Record<string, unknown>;
    const symbolField = c['symbol'];
    const tokenField = c['token'];
    let state: SymbolState | undefined;
    if (typeof symbolField === 'string') {
      state = this.bySymbol.get(symbolField);
      if (state === undefined) return this.reject('unknown-instrument', `unknown symbol "${symbolField}"`, candidate);
      if (tokenField !== undefined && tokenField !== state.instrument.token) {
        return this.reject(
          'unknown-instrument',
          `token ${describe(tokenField)} does not match ${symbolField} (${state.instrument.token})`,
          candidate,
          symbolField,
        );
      }
    } else if (typeof tokenField === 'number') {
      state = this.byToken.get(tokenField);
      if (state === undefined) return this.reject('unknown-instrument', `unknown token ${tokenField}`, candidate);
    } else {
      return this.reject('unknown-instrument', 'neither a symbol nor a token', candidate);
    }
    const instrument = state.instrument;
    const symbol = instrument.symbol;
    const tickSize = instrument.tickSizePaise;

    const ltp = c['ltpPaise'];
    if (typeof ltp !== 'number' || !Number.isSafeInteger(ltp) || ltp <= 0) {
      return this.reject('invalid-price', `last price must be a positive integer of paise, got ${describe(ltp)}`, candidate, symbol);
    }
    if (!isOnTick(ltp, tickSize)) return this.reject('off-tick-grid', `last price ${ltp} is not a multiple of the tick ${tickSize}`, candidate, symbol);
    if (ltp < state.lowerPaise || ltp > state.upperPaise) {
      return this.reject('outside-price-band', `last price ${ltp} is outside the band ${state.lowerPaise}..${state.upperPaise}`, candidate, symbol);
    }
    const lastQuantity = c['lastQuantity'];
    const volume = c['volume'];
    if (!isCount(lastQuantity))
      return this.reject('invalid-quantity', `last quantity must be a non-negative integer, got ${describe(lastQuantity)}`, candidate, symbol);
    if (!isCount(volume)) return this.reject('invalid-quantity', `volume must be a non-negative integer, got ${describe(volume)}`, candidate, symbol);
    const time = c['exchangeTimeMs'];
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      return this.reject('invalid-timestamp', `exchange time must be a finite number of ms, got ${describe(time)}`, candidate, symbol);
    }

    const tick: Writable<Tick> = { type: 'tick', symbol, token: instrument.token, ltpPaise: ltp, lastQuantity, volume, exchangeTimeMs: time };
    const quoteProblem = copyQuotes(c, tick, tickSize);
    if (quoteProblem !== undefined) return this.reject('invalid-quote', quoteProblem, candidate, symbol);
    const received = c['receivedMonoMs'];
    if (typeof received === 'number' && Number.isFinite(received)) tick.receivedMonoMs = received;

    if (time < state.lastTimeMs - this.toleranceMs) {
      return this.reject(
        'timestamp-backwards',
        `exchange time ${time} is ${state.lastTimeMs - time} ms before the latest ${state.lastTimeMs}`,
        candidate,
        symbol,
      );
    }
    let dayStartMs = state.dayStartMs;
    if (volume < state.lastVolume) {
      dayStartMs = istDayStartMs(time);
      if (dayStartMs === state.dayStartMs) {
        return this.reject('volume-backwards', `cumulative volume ${volume} is below the previous ${state.lastVolume}`, candidate, symbol);
      }
    } else if (Number.isNaN(dayStartMs) || time >= dayStartMs + 86_400_000 || time < dayStartMs) {
      dayStartMs = istDayStartMs(time);
    }
    state.dayStartMs = dayStartMs;
    state.lastVolume = volume;
    if (time > state.lastTimeMs) state.lastTimeMs = time;
    this.stats.accepted += 1;
    return tick;
  }
}

/**
 * Validates raw candidate ticks from any source: each input batch of unknowns becomes a
 * batch of valid, normalised ticks (fresh objects, unknown fields dropped, the symbol
 * resolved from the token when missing). Invalid candidates are counted, reported through
 * `onRejected` with a {@link TickRejectionReason}, and dropped: bad data never errors the
 * stream. Empty output batches are not emitted. State (last time and volume per symbol)
 * is per subscription.
 */
export function validateTicks(options: ValidateTicksOptions): OperatorFunction<readonly unknown[], Tick[]> {
  return (source) =>
    defer(() => {
      const validator = new TickValidator(options);
      return source.pipe(
        map((batch) => validator.validate(batch)),
        filter((ticks) => ticks.length > 0),
      );
    });
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  }
}

/** Copies bid/ask/depth onto the tick when valid; returns a problem otherwise. A price of 0 means "no quote". */
function copyQuotes(c: Record<string, unknown>, tick: Writable<Tick>, tickSize: Paise): string | undefined {
  const bid = c['bidPaise'];
  const ask = c['askPaise'];
  const bidQuantity = c['bidQuantity'];
  const askQuantity = c['askQuantity'];
  if (bid !== undefined) {
    if (!isCount(bid) || !isOnTick(bid, tickSize)) return `bid must be a non-negative integer of paise on the tick grid, got ${describe(bid)}`;
    if (bid > 0) tick.bidPaise = bid;
  }
  if (ask !== undefined) {
    if (!isCount(ask) || !isOnTick(ask, tickSize)) return `ask must be a non-negative integer of paise on the tick grid, got ${describe(ask)}`;
    if (ask > 0) tick.askPaise = ask;
  }
  if (bidQuantity !== undefined) {
    if (!isCount(bidQuantity)) return `bid quantity must be a non-negative integer, got ${describe(bidQuantity)}`;
    tick.bidQuantity = bidQuantity;
  }
  if (askQuantity !== undefined) {
    if (!isCount(askQuantity)) return `ask quantity must be a non-negative integer, got ${describe(askQuantity)}`;
    tick.askQuantity = askQuantity;
  }
  const depth = c['depth'];
  if (depth !== undefined) {
    if (typeof depth !== 'object' || depth === null) return 'depth must be an object with buy and sell levels';
    const { buy, sell } = depth as { buy?: unknown; sell?: unknown };
    if (!isDepthSide(buy) || !isDepthSide(sell)) return 'depth levels must be {pricePaise, quantity, orders} of non-negative integers';
    tick.depth = { buy, sell };
  }
  return undefined;
}

function isDepthSide(levels: unknown): levels is readonly DepthLevel[] {
  if (!Array.isArray(levels)) return false;
  for (const level of levels as unknown[]) {
    if (typeof level !== 'object' || level === null) return false;
    const l = level as Record<string, unknown>;
    if (!isCount(l['pricePaise']) || !isCount(l['quantity']) || !isCount(l['orders'])) return false;
  }
  return true;
}

/** A depth level as the kiteconnect client emits it (rupees). */
export interface KiteDepthLevel {
  readonly price: number;
  readonly quantity: number;
  readonly orders: number;
}

/** A tick as the kiteconnect `KiteTicker` emits it: prices in rupees (floats), times as Dates. */
export interface KiteTickerTick {
  readonly instrument_token: number;
  readonly last_price: number;
  readonly last_traded_quantity?: number;
  readonly volume_traded?: number;
  readonly exchange_timestamp?: Date | null;
  readonly last_trade_time?: Date | null;
  readonly depth?: { readonly buy: readonly KiteDepthLevel[]; readonly sell: readonly KiteDepthLevel[] };
}

/**
 * Converts a kiteconnect ticker tick into a candidate for {@link validateTicks}: rupee
 * floats become paise through their shortest decimal form (`rupeesToPaise`), the best
 * depth level gives bid/ask, and the exchange timestamp (else the last trade time) gives
 * `exchangeTimeMs`. Never throws: a non-finite price becomes NaN and a missing time NaN,
 * which validation rejects. LTP-mode ticks carry no volume and come out with 0.
 */
export function normaliseKiteTick(kiteTick: KiteTickerTick): TickCandidate {
  const candidate: Writable<TickCandidate> = {
    token: kiteTick.instrument_token,
    ltpPaise: paiseOf(kiteTick.last_price),
    lastQuantity: kiteTick.last_traded_quantity ?? 0,
    volume: kiteTick.volume_traded ?? 0,
    exchangeTimeMs: kiteTick.exchange_timestamp?.getTime() ?? kiteTick.last_trade_time?.getTime() ?? Number.NaN,
  };
  const depth = kiteTick.depth;
  if (depth !== undefined) {
    const buy = depth.buy.map(depthLevel);
    const sell = depth.sell.map(depthLevel);
    candidate.depth = { buy, sell };
    const bestBid = buy[0];
    const bestAsk = sell[0];
    if (bestBid !== undefined && bestBid.pricePaise > 0) {
      candidate.bidPaise = bestBid.pricePaise;
      candidate.bidQuantity = bestBid.quantity;
    }
    if (bestAsk !== undefined && bestAsk.pricePaise > 0) {
      candidate.askPaise = bestAsk.pricePaise;
      candidate.askQuantity = bestAsk.quantity;
    }
  }
  return candidate;
}

function paiseOf(rupees: number): Paise {
  return Number.isFinite(rupees) ? rupeesToPaise(rupees) : Number.NaN;
}

function depthLevel(level: KiteDepthLevel): DepthLevel {
  return { pricePaise: paiseOf(level.price), quantity: level.quantity, orders: level.orders };
}
