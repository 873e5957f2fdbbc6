/**
 * Time in Indian Standard Time. IST is UTC+05:30 all year (no daylight saving), so the
 * conversions are plain integer offsets. All instants are epoch milliseconds.
 */

export const IST_OFFSET_MS = 5.5 * 3600 * 1000;
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A clock. The live runtime uses wall time; backtests and tests use a simulated one. */
export interface Clock {
  nowMs(): number;
}

/** Minutes after IST midnight for an instant: 09:15 → 555. */
export function istMinuteOfDay(epochMs: number): number {
  const local = epochMs + IST_OFFSET_MS;
  return Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS);
}

/** Epoch ms of IST midnight that starts the IST day containing `epochMs`. */
export function istDayStartMs(epochMs: number): number {
  const local = epochMs + IST_OFFSET_MS;
  return local - (((local % DAY_MS) + DAY_MS) % DAY_MS) - IST_OFFSET_MS;
}

/** The IST calendar date of an instant as "YYYY-MM-DD". */
export function istDate(epochMs: number): string {
  return new Date(epochMs + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Epoch ms for an IST wall time on an IST date ("2026-05-20", 9, 15). */
export function istTimeMs(date: string, hour: number, minute: number, second = 0): number {
  return Date.parse(`${date}T00:00:00Z`) - IST_OFFSET_MS + ((hour * 60 + minute) * 60 + second) * 1000;
}

/** NSE normal market: 09:15–15:30 IST. */
export const NSE_OPEN_MINUTE = 9 * 60 + 15;
export const NSE_CLOSE_MINUTE = 15 * 60 + 30;
/** Zerodha squares off MIS positions from about 15:20 IST. */
export const MIS_SQUARE_OFF_MINUTE = 15 * 60 + 20;

/**
 * True during 09:15–15:30 IST on a weekday, ignoring holidays and special sessions: use
 * `isMarketOpenAt` of `calendar.ts` (the NSE trading calendar) to know whether the market is open.
 */
export function isNseSessionOpen(epochMs: number): boolean {
  const weekday = new Date(epochMs + IST_OFFSET_MS).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  const minute = istMinuteOfDay(epochMs);
  return minute >= NSE_OPEN_MINUTE && minute < NSE_CLOSE_MINUTE;
}
