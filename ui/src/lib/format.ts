/**
 * Display formatting. Money is integer paise and stays integer: rupees come from the
 * model's exact `formatInr`; percentages are computed in integer basis points.
 */
import { divRound, formatInr, mul, type Paise } from '../../../src/model/money.js';

const dash = '—';

/** ₹1,23,456.78 (en-IN grouping); a dash when unknown. */
export function rupees(paise: Paise | null | undefined): string {
  return paise === null || paise === undefined ? dash : formatInr(paise);
}

/** Signed rupees for P&L: +₹1,234.00 / -₹56.10 / ₹0.00. */
export function signedRupees(paise: Paise | null | undefined): string {
  if (paise === null || paise === undefined) return dash;
  return paise > 0 ? `+${formatInr(paise)}` : formatInr(paise);
}

/** Tone of a signed figure, for colour (never the only carrier: the sign is in the text). */
export function tone(value: number | null | undefined): 'up' | 'down' | 'flat' {
  if (value === null || value === undefined || value === 0) return 'flat';
  return value > 0 ? 'up' : 'down';
}

const integerFormat = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });

/** A count or quantity with en-IN grouping: 12,34,567. */
export function quantity(value: number | null | undefined): string {
  return value === null || value === undefined ? dash : integerFormat.format(value);
}

/** Change of a price against a reference, in basis points, exact (integer arithmetic). */
export function changeBasisPoints(pricePaise: Paise, referencePaise: Paise): number {
  if (referencePaise === 0) return 0;
  return divRound(mul(pricePaise - referencePaise, 10_000), referencePaise);
}

/** Basis points as a signed percentage with two decimals: 123 → "+1.23%". */
export function percentFromBasisPoints(basisPoints: number): string {
  const negative = basisPoints < 0;
  const abs = Math.abs(basisPoints);
  const whole = Math.floor(abs / 100);
  const fraction = abs - whole * 100;
  const sign = negative ? '-' : basisPoints > 0 ? '+' : '';
  return `${sign}${whole}.${fraction < 10 ? '0' : ''}${fraction}%`;
}

/**
 * Parses a rupee amount typed by a person ("1,234.5", "₹ 99") into paise without floats.
 * Returns undefined when it is not a plain positive amount with at most two decimals.
 */
export function parseRupeesToPaise(text: string): Paise | undefined {
  const cleaned = text.replace(/[₹,\s]/g, '');
  const match = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(cleaned);
  if (!match) return undefined;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  const paise = whole * 100 + fraction;
  return Number.isSafeInteger(paise) ? paise : undefined;
}

/** Paise as an editable rupee string for an input: 123450 → "1234.50". */
export function paiseToInput(paise: Paise): string {
  const whole = Math.floor(paise / 100);
  const fraction = paise - whole * 100;
  return `${whole}.${fraction < 10 ? '0' : ''}${fraction}`;
}

const timeFormat = new Intl.DateTimeFormat('en-IN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: 'Asia/Kolkata' });
const dateTimeFormat = new Intl.DateTimeFormat('en-IN', {
  day: '2-digit',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
  timeZone: 'Asia/Kolkata',
});

/** 14:03:27 (IST). */
export function clock(epochMs: number | null | undefined): string {
  return epochMs === null || epochMs === undefined ? dash : timeFormat.format(epochMs);
}

/** 03 Mar, 14:03:27 (IST). */
export function dateTime(epochMs: number | null | undefined): string {
  return epochMs === null || epochMs === undefined ? dash : dateTimeFormat.format(epochMs);
}

/** "4 s ago", "3 min ago". */
export function ago(epochMs: number | null | undefined, nowMs: number): string {
  if (epochMs === null || epochMs === undefined) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - epochMs) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}

/** Microseconds for people: 850 µs, 1.2 ms, 3.4 s. */
export function duration(us: number): string {
  if (us < 1_000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1_000).toFixed(1)} ms`;
  return `${(us / 1_000_000).toFixed(1)} s`;
}
