/**
 * Historical candles from Kite (`getHistoricalData`): a long range is cut into requests no
 * longer than Kite's per-interval maximum (kite-reference §7), sent through a client-side
 * limiter (3 requests a second, queued, never dropped), and the candles converted exactly into
 * paise. Dates go to Kite as IST wall-clock strings, whatever the process time zone.
 */
import { KiteConnect } from 'kiteconnect';
import type { Connect } from 'kiteconnect/types/connect.js';
import { paiseToRupeeString, parseRupees, type Paise } from '../../model/money.js';
import { mapKiteError } from './errors.js';
import { QueueingRateLimiter, type QueueLimits } from './rate-limiter.js';

/** Kite's candle intervals. */
export type KiteInterval = 'minute' | '3minute' | '5minute' | '10minute' | '15minute' | '30minute' | '60minute' | 'day';

/** Most days one request may span, per interval (Kite staff answer, kite-reference §7). */
export const KITE_MAX_DAYS: Readonly<Record<KiteInterval, number>> = {
  minute: 60,
  '3minute': 100,
  '5minute': 100,
  '10minute': 100,
  '15minute': 200,
  '30minute': 200,
  '60minute': 400,
  day: 2000,
};

/** Kite's historical-data limit. */
export const KITE_HISTORICAL_LIMITS: QueueLimits = { perSecond: 3, perMinute: 180, marginMs: 50, countFrom: 'completion' };

export function isKiteInterval(value: string): value is KiteInterval {
  return Object.hasOwn(KITE_MAX_DAYS, value);
}

/** One candle, prices in paise. */
export interface Candle {
  /** Start of the candle, epoch ms. */
  readonly atMs: number;
  readonly openPaise: Paise;
  readonly highPaise: Paise;
  readonly lowPaise: Paise;
  readonly closePaise: Paise;
  readonly volume: number;
  readonly oi?: number;
}

/** `[fromMs, toMs]` (both inclusive, to the second) cut into requests of at most the interval's maximum span. */
export function historyChunks(interval: KiteInterval, fromMs: number, toMs: number): { fromMs: number; toMs: number }[] {
  if (!(toMs >= fromMs)) throw new RangeError('the end of the range is before its start');
  const span = KITE_MAX_DAYS[interval] * 86_400_000;
  const chunks: { fromMs: number; toMs: number }[] = [];
  for (let start = fromMs; start <= toMs; start += span) chunks.push({ fromMs: start, toMs: Math.min(toMs, start + span - 1000) });
  return chunks;
}

const IST_OFFSET_MS = 330 * 60_000;

/** `YYYY-MM-DD HH:mm:ss` in IST. */
export function istDateTime(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** A rupee number from Kite → exact paise (Kite prices have at most 2 decimals; float noise rounds away); undefined unless a positive number. */
function paise(rupees: unknown): Paise | undefined {
  if (typeof rupees !== 'number' || !Number.isFinite(rupees) || rupees <= 0) return undefined;
  return parseRupees(rupees.toFixed(2));
}

/** A candle Kite sent that was left out: its place in the answer (1-based), its time when readable, and why. */
export interface RejectedCandle {
  readonly index: number;
  readonly atMs: number | undefined;
  readonly reason: string;
}

/** One candle row of Kite's answer as a {@link Candle}, or why it cannot be one. */
export function checkCandle(row: {
  readonly date?: unknown;
  readonly open?: unknown;
  readonly high?: unknown;
  readonly low?: unknown;
  readonly close?: unknown;
  readonly volume?: unknown;
  readonly oi?: unknown;
}): Candle | string {
  const atMs = row.date instanceof Date ? row.date.getTime() : Number.NaN;
  if (!Number.isFinite(atMs)) return `time not recognised: ${String(row.date)}`;
  const prices: Paise[] = [];
  for (const name of ['open', 'high', 'low', 'close'] as const) {
    const value = paise(row[name]);
    if (value === undefined) return `${name} must be a positive rupee amount, got ${String(row[name])}`;
    prices.push(value);
  }
  const [openPaise, highPaise, lowPaise, closePaise] = prices as [Paise, Paise, Paise, Paise];
  if (highPaise < Math.max(openPaise, closePaise, lowPaise))
    return `high ${highPaise} is below max(open, low, close) ${Math.max(openPaise, closePaise, lowPaise)} (paise)`;
  if (lowPaise > Math.min(openPaise, closePaise)) return `low ${lowPaise} is above min(open, close) ${Math.min(openPaise, closePaise)} (paise)`;
  const volume = row.volume;
  if (typeof volume !== 'number' || !Number.isSafeInteger(volume) || volume < 0) return `volume must be a non-negative integer, got ${String(volume)}`;
  return { atMs, openPaise, highPaise, lowPaise, closePaise, volume, ...(typeof row.oi === 'number' && row.oi > 0 ? { oi: row.oi } : {}) };
}

/** Options of {@link KiteHistory}. */
export interface KiteHistoryOptions {
  readonly apiKey: string;
  readonly accessToken: string;
  readonly root?: string;
  readonly timeoutMs?: number;
  /** Default Kite's 3 requests a second. */
  readonly limits?: QueueLimits;
  /** Attempts per request on network errors / 429 (default 4), backoff doubling from `retryBaseMs` (default 500). */
  readonly attempts?: number;
  readonly retryBaseMs?: number;
}

/** Progress of a fetch: requests done of the total, candles so far. */
export interface HistoryProgress {
  readonly symbol: string;
  readonly done: number;
  readonly total: number;
  readonly candles: number;
}

/** Downloads candles, chunked and rate limited. */
export class KiteHistory {
  readonly client: Connect;
  private readonly limiter: QueueingRateLimiter;
  /** Requests sent (including retries). */
  requests = 0;

  constructor(private readonly options: KiteHistoryOptions) {
    this.client = new KiteConnect({
      api_key: options.apiKey,
      access_token: options.accessToken,
      ...(options.root === undefined ? {} : { root: options.root }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    this.limiter = new QueueingRateLimiter(options.limits ?? KITE_HISTORICAL_LIMITS);
  }

  /**
   * The candles of one instrument over `[fromMs, toMs]`, oldest first, no duplicates. A
   * candle that is not one (bad time, a price that is not positive, high below low, a
   * negative or fractional volume) is left out and told to `onRejected`.
   */
  async candles(
    token: number,
    interval: KiteInterval,
    fromMs: number,
    toMs: number,
    onChunk?: (done: number, total: number, candles: number) => void,
    onRejected?: (rejection: RejectedCandle) => void,
  ): Promise<Candle[]> {
    const chunks = historyChunks(interval, fromMs, toMs);
    const byTime = new Map<number, Candle>();
    let done = 0;
    let index = 0;
    for (const chunk of chunks) {
      const rows = await this.request(token, interval, chunk.fromMs, chunk.toMs);
      for (const row of rows) {
        index += 1;
        const candle = checkCandle(row);
        if (typeof candle === 'string') {
          const atMs = row.date instanceof Date ? row.date.getTime() : Number.NaN;
          onRejected?.({ index, atMs: Number.isFinite(atMs) ? atMs : undefined, reason: candle });
          continue;
        }
        byTime.set(candle.atMs, candle);
      }
      done += 1;
      onChunk?.(done, chunks.length, byTime.size);
    }
    return [...byTime.values()].sort((a, b) => a.atMs - b.atMs);
  }

  private async request(token: number, interval: KiteInterval, fromMs: number, toMs: number) {
    const attempts = this.options.attempts ?? 4;
    let delayMs = this.options.retryBaseMs ?? 500;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.limiter.run(() => {
          this.requests += 1;
          return this.client.getHistoricalData(token, interval, istDateTime(fromMs), istDateTime(toMs), false, false);
        });
      } catch (raw) {
        const error = mapKiteError(raw);
        if (!error.retryable || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs *= 2;
      }
    }
  }
}

/** Candles as a CSV in the shared data layout (Kite candles, `nse-daily/`): `timestamp,open,high,low,close,volume,oi`, IST, rupees. */
export function candlesCsv(candles: readonly Candle[]): string {
  const lines = ['timestamp,open,high,low,close,volume,oi'];
  for (const c of candles) {
    lines.push(
      [
        `${istDateTime(c.atMs)}+05:30`,
        paiseToRupeeString(c.openPaise),
        paiseToRupeeString(c.highPaise),
        paiseToRupeeString(c.lowPaise),
        paiseToRupeeString(c.closePaise),
        String(c.volume),
        String(c.oi ?? 0),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
