import { Observable, asyncScheduler, type SchedulerLike } from 'rxjs';
import { nseEquity, priceBand, syntheticToken, type Instrument } from '../../model/instrument.js';
import type { Tick } from '../../model/market.js';
import { isTradingDay, nextTradingDay } from '../../model/calendar.js';
import { MINUTE_MS, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, istDate, istTimeMs } from '../../model/time.js';
import { Random } from '../random.js';
import { pumpBatches } from './pump.js';

/**
 * Real NSE symbols with a rough reference price in rupees, used for the first symbols of a
 * synthetic market. Chosen to cover every NSE tick-size tier (≤ ₹250 up to > ₹20,000).
 */
const KNOWN_SYMBOLS: ReadonlyArray<readonly [symbol: string, rupees: number]> = [
  ['RELIANCE', 1400],
  ['TCS', 3100],
  ['HDFCBANK', 980],
  ['INFY', 1500],
  ['ICICIBANK', 1400],
  ['HINDUNILVR', 2400],
  ['ITC', 410],
  ['SBIN', 850],
  ['BHARTIARTL', 1950],
  ['KOTAKBANK', 2100],
  ['LT', 3800],
  ['AXISBANK', 1200],
  ['BAJFINANCE', 1000],
  ['ASIANPAINT', 2400],
  ['MARUTI', 15500],
  ['HCLTECH', 1500],
  ['SUNPHARMA', 1650],
  ['TITAN', 3500],
  ['ULTRACEMCO', 12000],
  ['WIPRO', 250],
  ['NESTLEIND', 1200],
  ['ONGC', 240],
  ['NTPC', 340],
  ['POWERGRID', 290],
  ['M&M', 3500],
  ['TATAMOTORS', 680],
  ['TATASTEEL', 170],
  ['JSWSTEEL', 1100],
  ['ADANIENT', 2400],
  ['ADANIPORTS', 1400],
  ['COALINDIA', 390],
  ['BAJAJFINSV', 2000],
  ['TECHM', 1500],
  ['HDFCLIFE', 760],
  ['SBILIFE', 1800],
  ['GRASIM', 2800],
  ['DRREDDY', 1250],
  ['CIPLA', 1500],
  ['BRITANNIA', 5800],
  ['EICHERMOT', 6800],
  ['DIVISLAB', 6200],
  ['APOLLOHOSP', 7500],
  ['HEROMOTOCO', 5200],
  ['BPCL', 340],
  ['INDUSINDBK', 750],
  ['TATACONSUM', 1100],
  ['BAJAJ-AUTO', 8800],
  ['HINDALCO', 750],
  ['PAGEIND', 45000],
  ['TRENT', 4800],
];
const KNOWN_PRICE_RUPEES = new Map(KNOWN_SYMBOLS);

/** Default first session of a synthetic market (a Monday). */
export const SYNTHETIC_DEFAULT_START_DATE = '2026-01-05';

const SESSION_MINUTES = NSE_CLOSE_MINUTE - NSE_OPEN_MINUTE; // 375
const SESSION_MS = SESSION_MINUTES * MINUTE_MS;

/** Regimes of the per-symbol Markov chain (indexes into the tables below; 1 = trending up, 2 = trending down). */
const RANGING = 0;
const HIGH_VOLATILITY = 3;
/** Names of the regimes, indexed like {@link SyntheticMarket.regimeOf}'s result. */
export const SYNTHETIC_REGIMES = ['ranging', 'trending-up', 'trending-down', 'high-volatility'] as const;
/** A regime of the synthetic random walk. */
export type SyntheticRegime = (typeof SYNTHETIC_REGIMES)[number];

/** Volatility of log-price per √second in the base regime: about 1.8 % per session. */
const BASE_SIGMA_PER_SQRT_SEC = 0.00012;
const REGIME_SIGMA = [0.7, 1, 1, 2.5];
/** Log-price drift per second: ±2 % over a session while trending. */
const TREND_DRIFT_PER_SEC = 0.02 / (SESSION_MS / 1000);
const REGIME_DRIFT = [0, TREND_DRIFT_PER_SEC, -TREND_DRIFT_PER_SEC, 0];
/** Mean regime durations, simulated ms. */
const REGIME_MEAN_MS = [40 * MINUTE_MS, 25 * MINUTE_MS, 25 * MINUTE_MS, 10 * MINUTE_MS];
/** Cumulative transition probabilities, row = from, column = to (the diagonal is 0: a switch always changes regime). */
const REGIME_TRANSITIONS_CUMULATIVE = [
  [0, 0.35, 0.7, 1],
  [0.6, 0.6, 0.75, 1],
  [0.6, 0.75, 0.75, 1],
  [0.5, 0.75, 1, 1],
];
/** While ranging, the price is pulled to where the range started (half-life ≈ 7 minutes). */
const RANGE_PULL_PER_SEC = 1 / 600;
/** Always a weak pull to the reference price (half-life ≈ 3 sessions) so the price stays well inside its band. */
const REFERENCE_PULL_PER_SEC = Math.LN2 / ((3 * SESSION_MS) / 1000);
/** Overnight gap, standard deviation of log-price. */
const OVERNIGHT_GAP_SIGMA = 0.006;
/** Typical value of one trade, in paise (₹40,000). */
const TYPICAL_TRADE_VALUE_PAISE = 40_000_00;

/**
 * Intraday activity by minute of the session (09:15 = 0): a U shape with a burst at the
 * open and a smaller one into the close, normalised to mean 1.
 */
const ACTIVITY_BY_MINUTE: Float64Array = (() => {
  const table = new Float64Array(SESSION_MINUTES);
  let sum = 0;
  for (let m = 0; m < SESSION_MINUTES; m += 1) {
    const value = 0.55 + 2.2 * Math.exp(-m / 20) + 1.4 * Math.exp(-(SESSION_MINUTES - 1 - m) / 25);
    table[m] = value;
    sum += value;
  }
  for (let m = 0; m < SESSION_MINUTES; m += 1) table[m] = table[m]! / (sum / SESSION_MINUTES);
  return table;
})();
const INVERSE_ACTIVITY = ACTIVITY_BY_MINUTE.map((a) => 1 / a);
const SQRT_ACTIVITY = ACTIVITY_BY_MINUTE.map((a) => Math.sqrt(a));

/** Options of {@link createSyntheticMarket}. */
export interface SyntheticMarketOptions {
  /** How many symbols (real NSE names for the first 50, then SYM051, SYM052, …), or the names themselves. */
  readonly symbols: number | readonly string[];
  /** Same seed and options → the same ticks, run after run. */
  readonly seed: number;
  /** First session, an IST date `YYYY-MM-DD`; a weekend or NSE holiday moves to the next trading day. Default {@link SYNTHETIC_DEFAULT_START_DATE}. */
  readonly startDate?: string;
  /** Mean trade prints per symbol per second of session time (the intraday profile varies it). Default 2. */
  readonly ticksPerSymbolPerSecond?: number;
}

/**
 * A simulated NSE cash market. Stateful: every call consumes the market, so give one
 * market to one consumer (share the Observable if several need it).
 */
export interface SyntheticMarket {
  readonly instruments: readonly Instrument[];
  /** Generates the next `maxTicks` ticks in global time order: all symbols, advancing simulated time. */
  nextBatch(maxTicks: number): Tick[];
  /**
   * Generates the ticks whose session time is below `tradingTimeMs` (see {@link tradingTimeMs}),
   * at most `maxTicks` of them. Used for wall-clock pacing.
   */
  nextBatchUntil(tradingTimeMs: number, maxTicks: number): Tick[];
  /** Exchange time (epoch ms) of the next tick to be generated. */
  readonly simulatedTimeMs: number;
  /**
   * How far the market has been generated, in session time since the first open (closed
   * hours do not count), ms: the time passed to the last {@link nextBatchUntil} that ran out
   * of time, else the last tick's. Starts at 0 (09:15:00.000 of the first session).
   */
  readonly tradingTimeMs: number;
  /** The current regime of a symbol's random walk (for demos and tests). */
  regimeOf(symbol: string): SyntheticRegime;
}

/**
 * Creates a seeded synthetic market: a regime-switching random walk per symbol (ranging,
 * trending up or down, high volatility; switching by a Markov chain), a U-shaped intraday
 * activity profile, NSE tick sizes, prices inside each instrument's daily band, bid/ask
 * around the last price, cumulative volume per session, and exchange timestamps only in
 * 09:15–15:30 IST on NSE trading days (after 15:30 the clock jumps to the next trading day's
 * 09:15: weekends and the holidays of the NSE calendar, `src/model/calendar.ts`, have no session).
 *
 * The price band stays referenced to the instrument's reference price for the whole run
 * (so the returned instruments remain valid); the walk is gently pulled towards it and
 * reflected at the band's edges.
 */
export function createSyntheticMarket(options: SyntheticMarketOptions): SyntheticMarket {
  return new SyntheticMarketImpl(options);
}

class SyntheticMarketImpl implements SyntheticMarket {
  readonly instruments: readonly Instrument[];
  private readonly random: Random;
  private readonly count: number;
  private readonly symbolNames: readonly string[];
  private readonly tokens: Int32Array;
  private readonly indexBySymbol: Map<string, number>;
  private readonly tickSize: Float64Array;
  private readonly lowerBand: Float64Array;
  private readonly upperBand: Float64Array;
  private readonly logLower: Float64Array;
  private readonly logUpper: Float64Array;
  private readonly logReference: Float64Array;
  private readonly logPrice: Float64Array;
  private readonly rangeAnchor: Float64Array;
  private readonly volatility: Float64Array;
  private readonly meanQuantity: Float64Array;
  private readonly lastTimeMs: Float64Array;
  private readonly regime: Uint8Array;
  private readonly regimeEndMs: Float64Array;
  private readonly cumulativeVolume: Float64Array;
  /** Mean ms between two prints of the whole market at activity 1. */
  private readonly baseGapMs: number;
  private openMs: number;
  private closeMs: number;
  private sessionIndex = 0;
  private nextTimeMs: number;
  private generatedThroughTradingMs = 0;

  constructor(options: SyntheticMarketOptions) {
    const rate = options.ticksPerSymbolPerSecond ?? 2;
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`ticksPerSymbolPerSecond must be positive, got ${rate}`);
    this.random = new Random(options.seed);
    const names = typeof options.symbols === 'number' ? defaultSymbolNames(options.symbols) : [...options.symbols];
    if (names.length === 0) throw new RangeError('a synthetic market needs at least one symbol');
    if (new Set(names).size !== names.length) throw new RangeError('symbol names must be unique');
    this.symbolNames = names;
    const n = names.length;
    this.count = n;
    this.tokens = new Int32Array(n);
    this.indexBySymbol = new Map(names.map((s, i) => [s, i]));
    this.tickSize = new Float64Array(n);
    this.lowerBand = new Float64Array(n);
    this.upperBand = new Float64Array(n);
    this.logLower = new Float64Array(n);
    this.logUpper = new Float64Array(n);
    this.logReference = new Float64Array(n);
    this.logPrice = new Float64Array(n);
    this.rangeAnchor = new Float64Array(n);
    this.volatility = new Float64Array(n);
    this.meanQuantity = new Float64Array(n);
    this.lastTimeMs = new Float64Array(n);
    this.regime = new Uint8Array(n);
    this.regimeEndMs = new Float64Array(n);
    this.cumulativeVolume = new Float64Array(n);

    this.openMs = firstSessionOpenMs(options.startDate ?? SYNTHETIC_DEFAULT_START_DATE);
    this.closeMs = this.openMs + SESSION_MS;

    const instruments: Instrument[] = [];
    for (let i = 0; i < n; i += 1) {
      const symbol = names[i]!;
      const knownRupees = KNOWN_PRICE_RUPEES.get(symbol);
      // Unknown names: log-uniform between ₹50 and ₹5,000, in whole rupees.
      const rupees = knownRupees ?? Math.round(50 * Math.exp(this.random.next() * Math.log(100)));
      const instrument = nseEquity(symbol, syntheticToken(i), rupees * 100);
      instruments.push(instrument);
      const band = priceBand(instrument);
      this.tokens[i] = instrument.token;
      this.tickSize[i] = instrument.tickSizePaise;
      this.lowerBand[i] = band.lowerPaise;
      this.upperBand[i] = band.upperPaise;
      this.logLower[i] = Math.log(band.lowerPaise);
      this.logUpper[i] = Math.log(band.upperPaise);
      this.logReference[i] = Math.log(instrument.referencePricePaise);
      this.logPrice[i] = this.logReference[i]!;
      this.rangeAnchor[i] = this.logReference[i]!;
      this.volatility[i] = BASE_SIGMA_PER_SQRT_SEC * (0.7 + 0.8 * this.random.next());
      this.meanQuantity[i] = Math.max(1, TYPICAL_TRADE_VALUE_PAISE / instrument.referencePricePaise);
      this.lastTimeMs[i] = this.openMs;
      const firstRegime = this.random.int(4);
      this.regime[i] = firstRegime;
      this.regimeEndMs[i] = this.openMs + REGIME_MEAN_MS[firstRegime]! * this.random.exponential();
    }
    this.instruments = instruments;
    this.baseGapMs = 1000 / (n * rate);
    this.nextTimeMs = this.openMs;
    this.nextTimeMs = this.drawNextTime(this.openMs);
  }

  get simulatedTimeMs(): number {
    return Math.floor(this.nextTimeMs);
  }

  get tradingTimeMs(): number {
    return this.generatedThroughTradingMs;
  }

  regimeOf(symbol: string): SyntheticRegime {
    const index = this.indexBySymbol.get(symbol);
    if (index === undefined) throw new RangeError(`unknown symbol ${symbol}`);
    return SYNTHETIC_REGIMES[this.regime[index]!]!;
  }

  nextBatch(maxTicks: number): Tick[] {
    return this.generate(maxTicks, Number.POSITIVE_INFINITY);
  }

  nextBatchUntil(tradingTimeMs: number, maxTicks: number): Tick[] {
    return this.generate(maxTicks, tradingTimeMs);
  }

  private generate(maxTicks: number, untilTradingMs: number): Tick[] {
    const out: Tick[] = [];
    const random = this.random;
    for (let produced = 0; produced < maxTicks; produced += 1) {
      const t = this.nextTimeMs;
      const tradingMs = this.sessionIndex * SESSION_MS + (t - this.openMs);
      if (tradingMs >= untilTradingMs) {
        if (untilTradingMs > this.generatedThroughTradingMs) this.generatedThroughTradingMs = untilTradingMs;
        break;
      }
      this.generatedThroughTradingMs = tradingMs;
      const i = random.int(this.count);
      const minute = Math.floor((t - this.openMs) / MINUTE_MS);

      if (t >= this.regimeEndMs[i]!) this.switchRegime(i, t);
      const regime = this.regime[i]!;
      let dtSec = (t - this.lastTimeMs[i]!) / 1000;
      if (dtSec > 60) dtSec = 60;
      this.lastTimeMs[i] = t;

      let logPrice = this.logPrice[i]!;
      let drift = REGIME_DRIFT[regime]! - REFERENCE_PULL_PER_SEC * (logPrice - this.logReference[i]!);
      if (regime === RANGING) drift -= RANGE_PULL_PER_SEC * (logPrice - this.rangeAnchor[i]!);
      const sigma = this.volatility[i]! * REGIME_SIGMA[regime]! * SQRT_ACTIVITY[minute]!;
      logPrice += drift * dtSec + sigma * Math.sqrt(dtSec) * random.normal();
      // Reflect at the band's edges.
      if (logPrice > this.logUpper[i]!) logPrice = 2 * this.logUpper[i]! - logPrice;
      if (logPrice < this.logLower[i]!) logPrice = 2 * this.logLower[i]! - logPrice;
      this.logPrice[i] = logPrice;

      const tick = this.tickSize[i]!;
      const lower = this.lowerBand[i]!;
      const upper = this.upperBand[i]!;
      let ltp = Math.round(Math.exp(logPrice) / tick) * tick;
      if (ltp < lower) ltp = lower;
      else if (ltp > upper) ltp = upper;

      const bits = random.nextUint32();
      const spread = (bits & 3) === 0 ? 2 * tick : tick; // one tick wide, sometimes two
      let bid: number;
      let ask: number;
      if ((bits & 4) === 0) {
        ask = ltp; // buyer-initiated: traded at the ask
        bid = ltp - spread;
        if (bid < lower) {
          bid = ltp;
          ask = ltp + spread;
        }
      } else {
        bid = ltp; // seller-initiated: traded at the bid
        ask = ltp + spread;
        if (ask > upper) {
          ask = ltp;
          bid = ltp - spread;
        }
      }
      const meanQuantity = this.meanQuantity[i]!;
      const quantity = 1 + Math.floor(meanQuantity * random.exponential());
      const volume = this.cumulativeVolume[i]! + quantity;
      this.cumulativeVolume[i] = volume;
      out.push({
        type: 'tick',
        symbol: this.symbolNames[i]!,
        token: this.tokens[i]!,
        ltpPaise: ltp,
        lastQuantity: quantity,
        volume,
        bidPaise: bid,
        askPaise: ask,
        bidQuantity: 1 + Math.floor(meanQuantity * 4 * (((bits >>> 8) & 0xfff) / 4096 + 0.25)),
        askQuantity: 1 + Math.floor(meanQuantity * 4 * (((bits >>> 20) & 0xfff) / 4096 + 0.25)),
        exchangeTimeMs: Math.floor(t),
      });
      this.nextTimeMs = this.drawNextTime(t);
    }
    return out;
  }

  /** Time of the next print of the whole market; rolls to the next session after 15:30. */
  private drawNextTime(t: number): number {
    const minute = Math.floor((t - this.openMs) / MINUTE_MS);
    const next = t + this.baseGapMs * INVERSE_ACTIVITY[minute]! * this.random.exponential();
    if (next < this.closeMs) return next;
    this.startNextSession();
    return this.openMs + this.baseGapMs * INVERSE_ACTIVITY[0]! * this.random.exponential();
  }

  private startNextSession(): void {
    this.openMs = nextSessionOpenMs(this.openMs);
    this.closeMs = this.openMs + SESSION_MS;
    this.sessionIndex += 1;
    for (let i = 0; i < this.count; i += 1) {
      this.cumulativeVolume[i] = 0;
      this.lastTimeMs[i] = this.openMs;
      let logPrice = this.logPrice[i]! + OVERNIGHT_GAP_SIGMA * this.random.normal();
      if (logPrice > this.logUpper[i]!) logPrice = 2 * this.logUpper[i]! - logPrice;
      if (logPrice < this.logLower[i]!) logPrice = 2 * this.logLower[i]! - logPrice;
      this.logPrice[i] = logPrice;
      this.rangeAnchor[i] = logPrice;
      // Regimes carry over the night, but their clocks restart at the open.
      this.regimeEndMs[i] = this.openMs + REGIME_MEAN_MS[this.regime[i]!]! * this.random.exponential();
    }
  }

  private switchRegime(i: number, t: number): void {
    const row = REGIME_TRANSITIONS_CUMULATIVE[this.regime[i]!]!;
    const u = this.random.next();
    let next = HIGH_VOLATILITY;
    for (let r = RANGING; r <= HIGH_VOLATILITY; r += 1) {
      if (u < row[r]!) {
        next = r;
        break;
      }
    }
    this.regime[i] = next;
    this.regimeEndMs[i] = t + REGIME_MEAN_MS[next]! * this.random.exponential();
    if (next === RANGING) this.rangeAnchor[i] = this.logPrice[i]!;
  }
}

/** Default names: 50 real NSE symbols, then SYM051, SYM052, … */
export function defaultSymbolNames(count: number): string[] {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`symbol count must be a positive integer, got ${count}`);
  const names: string[] = [];
  for (let i = 0; i < count; i += 1) {
    names.push(KNOWN_SYMBOLS[i]?.[0] ?? `SYM${String(i + 1).padStart(3, '0')}`);
  }
  return names;
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function firstSessionOpenMs(date: string): number {
  if (!DATE_PATTERN.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) {
    throw new RangeError(`startDate must be YYYY-MM-DD, got "${date}"`);
  }
  return istTimeMs(isTradingDay(date) ? date : nextTradingDay(date), 9, 15);
}

/** 09:15 IST of the NSE trading day after the one opening at `openMs` (weekends and holidays skipped: `src/model/calendar.ts`). */
function nextSessionOpenMs(openMs: number): number {
  return istTimeMs(nextTradingDay(istDate(openMs)), 9, 15);
}

/** How {@link syntheticTicks$} paces the market. */
export type SyntheticTicksMode =
  | {
      readonly mode: 'realtime';
      /** Session time per wall time: 1 = wall clock, 60 = a minute per second. Default 1. */
      readonly speed?: number;
      /** Drives the pacing; default `asyncScheduler`. */
      readonly scheduler?: SchedulerLike;
      /** How often a batch is cut, scheduler ms. Default 50. */
      readonly periodMs?: number;
      /** Largest batch; a longer stretch is cut into several batches. Default 10,000. */
      readonly maxBatchSize?: number;
    }
  | {
      readonly mode: 'max';
      readonly batchSize: number;
      /** Schedules the next batch; default `setImmediate` (one batch per event-loop turn). */
      readonly scheduler?: SchedulerLike;
    };

/**
 * Tick batches from a synthetic market. `realtime`: every `periodMs` of scheduler time,
 * emits the ticks whose session time has come (closed hours are skipped, so overnight the
 * stream does not pause). `max`: as fast as possible, one batch per turn of the event
 * loop so consumers run between batches. Never completes; unsubscribe to stop.
 */
export function syntheticTicks$(market: SyntheticMarket, mode: SyntheticTicksMode): Observable<readonly Tick[]> {
  if (mode.mode === 'max') {
    if (!Number.isSafeInteger(mode.batchSize) || mode.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${mode.batchSize}`);
    return pumpBatches(() => market.nextBatch(mode.batchSize), mode.scheduler);
  }
  const speed = mode.speed ?? 1;
  const scheduler = mode.scheduler ?? asyncScheduler;
  const periodMs = mode.periodMs ?? 50;
  const maxBatchSize = mode.maxBatchSize ?? 10_000;
  if (!(speed > 0) || !(periodMs > 0) || !(maxBatchSize >= 1)) throw new RangeError('speed, periodMs and maxBatchSize must be positive');
  return new Observable<readonly Tick[]>((subscriber) => {
    const startedAt = scheduler.now();
    const startTradingMs = market.tradingTimeMs;
    return scheduler.schedule(function pace() {
      const target = startTradingMs + (scheduler.now() - startedAt) * speed;
      for (;;) {
        const batch = market.nextBatchUntil(target, maxBatchSize);
        if (batch.length > 0) subscriber.next(batch);
        if (subscriber.closed || batch.length < maxBatchSize) break;
      }
      if (!subscriber.closed) this.schedule(undefined, periodMs);
    }, periodMs);
  });
}
