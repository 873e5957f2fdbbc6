/**
 * The NSE trading calendar: which IST dates the normal market (09:15–15:30 IST) opens,
 * which are trading holidays, and the special sessions (Muhurat trading, Saturday or
 * Sunday budget sessions, the 2024 disaster-recovery live sessions). Pure: the facts come
 * from `calendar/nse-holidays.json` (2016–2026, with its sources; see docs/calendar.md), checked
 * when this module loads.
 *
 * Rules:
 * - A date is a **trading day** when the normal market runs: a weekday that is not a listed
 *   holiday, or a listed special session of kind `budget` or `special` (held in normal
 *   hours, even on a Saturday or Sunday). A Muhurat session alone does not make a trading
 *   day: it is a one-hour evening ritual on a holiday or weekend.
 * - Outside the years the file covers (before 2016, after 2026) only weekends close the
 *   market: `covers(date)` says whether the answer rests on the published list.
 * Dates are IST calendar dates as "YYYY-MM-DD".
 */
import rawCalendar from './calendar/nse-holidays.json' with { type: 'json' };
import { DAY_MS, IST_OFFSET_MS, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, MINUTE_MS, istDate } from './time.js';

/** A weekday on which the NSE capital market is closed. */
export interface NseHoliday {
  readonly date: string;
  readonly name: string;
  /** The circular (or circulars) the date comes from. */
  readonly source: string;
}

/** One trading window of a day, IST minutes after midnight, [open, close). */
export interface SessionWindow {
  readonly openMinute: number;
  readonly closeMinute: number;
}

/** A session outside the ordinary calendar. */
export interface SpecialSession {
  readonly date: string;
  readonly kind: 'muhurat' | 'budget' | 'special';
  readonly name: string;
  /** Empty when the timings are not recorded. */
  readonly windows: readonly SessionWindow[];
  readonly note: string;
}

/** The trading session of a date, as epoch ms. */
export interface SessionTimes {
  readonly date: string;
  readonly openMs: number;
  readonly closeMs: number;
}

/** Why a date has no normal market. */
export type ClosedReason =
  { readonly kind: 'weekend'; readonly date: string } | { readonly kind: 'holiday'; readonly date: string; readonly holiday: NseHoliday };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const HHMM = /^(\d{2}):(\d{2})$/;

function checkDate(date: string, where: string): string {
  const match = DATE.exec(date);
  if (!match || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date)
    throw new Error(`NSE calendar: ${where}: "${date}" is not a YYYY-MM-DD date`);
  return date;
}

function minuteOf(text: string, where: string): number {
  const match = HHMM.exec(text);
  if (!match) throw new Error(`NSE calendar: ${where}: "${text}" is not HH:MM`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** 0 = Sunday … 6 = Saturday, for an IST date. */
export function weekdayOf(date: string): number {
  return new Date(`${checkDate(date, 'weekdayOf')}T00:00:00Z`).getUTCDay();
}

function isWeekend(date: string): boolean {
  const day = weekdayOf(date);
  return day === 0 || day === 6;
}

/** The date `days` calendar days after `date`. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

const SPECIAL_KINDS: ReadonlySet<string> = new Set(['muhurat', 'budget', 'special']);
function isSpecialKind(kind: string): kind is SpecialSession['kind'] {
  return SPECIAL_KINDS.has(kind);
}

interface Loaded {
  readonly source: string;
  readonly firstYear: number;
  readonly lastYear: number;
  readonly holidays: ReadonlyMap<string, NseHoliday>;
  readonly specials: ReadonlyMap<string, SpecialSession>;
}

/** Reads and checks the JSON: dates valid, in their year, weekdays, unique; sessions well formed. */
function load(): Loaded {
  const holidays = new Map<string, NseHoliday>();
  for (const year of rawCalendar.years) {
    for (const entry of year.holidays) {
      const date = checkDate(entry.date, `holiday of ${year.year}`);
      if (Number(date.slice(0, 4)) !== year.year) throw new Error(`NSE calendar: ${date} is listed under ${year.year}`);
      if (isWeekend(date)) throw new Error(`NSE calendar: holiday ${date} falls on a weekend (list only weekday closures)`);
      if (holidays.has(date)) throw new Error(`NSE calendar: holiday ${date} is listed twice`);
      holidays.set(date, { date, name: entry.name, source: year.source });
    }
  }
  const specials = new Map<string, SpecialSession>();
  for (const entry of rawCalendar.specialSessions) {
    const date = checkDate(entry.date, 'special session');
    if (!isSpecialKind(entry.kind)) throw new Error(`NSE calendar: special session ${date} has unknown kind "${entry.kind}"`);
    const windows = entry.sessions.map((window) => ({ openMinute: minuteOf(window.open, date), closeMinute: minuteOf(window.close, date) }));
    for (const window of windows)
      if (!(window.openMinute < window.closeMinute)) throw new Error(`NSE calendar: special session ${date} closes before it opens`);
    if (specials.has(date)) throw new Error(`NSE calendar: special session ${date} is listed twice`);
    specials.set(date, { date, kind: entry.kind, name: entry.name, windows, note: entry.note });
  }
  return { source: rawCalendar.source, firstYear: rawCalendar.firstYear, lastYear: rawCalendar.lastYear, holidays, specials };
}

const CALENDAR = load();

/** Where the calendar's facts come from (named in the data file). */
export const NSE_CALENDAR_SOURCE: string = CALENDAR.source;
/** The years the holiday list covers, inclusive. */
export const NSE_CALENDAR_YEARS: { readonly first: number; readonly last: number } = { first: CALENDAR.firstYear, last: CALENDAR.lastYear };

/** True when the date's year is one the published list covers. */
export function calendarCovers(date: string): boolean {
  const year = Number(checkDate(date, 'calendarCovers').slice(0, 4));
  return year >= CALENDAR.firstYear && year <= CALENDAR.lastYear;
}

/** The listed holiday on a date (weekday closures only), if any. */
export function nseHoliday(date: string): NseHoliday | undefined {
  return CALENDAR.holidays.get(checkDate(date, 'nseHoliday'));
}

/** Every listed holiday in [from, to] (inclusive), in date order. */
export function nseHolidaysBetween(from: string, to: string): NseHoliday[] {
  return [...CALENDAR.holidays.values()].filter((holiday) => holiday.date >= from && holiday.date <= to).sort((a, b) => (a.date < b.date ? -1 : 1));
}

/** The special session on a date, if any. */
export function specialSession(date: string): SpecialSession | undefined {
  return CALENDAR.specials.get(checkDate(date, 'specialSession'));
}

/** Every listed special session, in date order. */
export function specialSessions(): SpecialSession[] {
  return [...CALENDAR.specials.values()].sort((a, b) => (a.date < b.date ? -1 : 1));
}

/** True when the normal market runs on the date (see the module notes). */
export function isTradingDay(date: string): boolean {
  const special = specialSession(date);
  if (special !== undefined && special.kind !== 'muhurat') return true;
  return !isWeekend(date) && nseHoliday(date) === undefined;
}

/** True when any session is held on the date: a trading day, or a listed special session (Muhurat included). */
export function hasSession(date: string): boolean {
  return isTradingDay(date) || specialSession(date) !== undefined;
}

/** Why the normal market is closed on a date, or undefined on a trading day. */
export function closedReason(date: string): ClosedReason | undefined {
  if (isTradingDay(date)) return undefined;
  const holiday = nseHoliday(date);
  return holiday ? { kind: 'holiday', date, holiday } : { kind: 'weekend', date };
}

/** The first trading day strictly after `date`. */
export function nextTradingDay(date: string): string {
  let day = addDays(checkDate(date, 'nextTradingDay'), 1);
  while (!isTradingDay(day)) day = addDays(day, 1);
  return day;
}

/** The last trading day strictly before `date`. */
export function previousTradingDay(date: string): string {
  let day = addDays(checkDate(date, 'previousTradingDay'), -1);
  while (!isTradingDay(day)) day = addDays(day, -1);
  return day;
}

/** The number of trading days in [from, to], both ends included (0 when to < from). */
export function tradingDaysBetween(from: string, to: string): number {
  checkDate(from, 'tradingDaysBetween');
  checkDate(to, 'tradingDaysBetween');
  let count = 0;
  for (let day = from; day <= to; day = addDays(day, 1)) if (isTradingDay(day)) count += 1;
  return count;
}

/** The number of trading days in a calendar year. */
export function tradingDaysInYear(year: number): number {
  return tradingDaysBetween(`${year}-01-01`, `${year}-12-31`);
}

/**
 * NSE trading days per year for annualising figures over [from, to]: the mean of
 * {@link tradingDaysInYear} over the calendar years of the span that the list covers, or
 * over every covered year when the span lies outside them.
 */
export function tradingDaysPerYear(from: string, to: string): number {
  const first = Number(checkDate(from, 'tradingDaysPerYear').slice(0, 4));
  const last = Number(checkDate(to, 'tradingDaysPerYear').slice(0, 4));
  let years: number[] = [];
  for (let year = Math.max(first, CALENDAR.firstYear); year <= Math.min(last, CALENDAR.lastYear); year += 1) years.push(year);
  if (years.length === 0) years = Array.from({ length: CALENDAR.lastYear - CALENDAR.firstYear + 1 }, (_, k) => CALENDAR.firstYear + k);
  return years.reduce((sum, year) => sum + tradingDaysInYear(year), 0) / years.length;
}

const REGULAR_WINDOWS: readonly SessionWindow[] = [{ openMinute: NSE_OPEN_MINUTE, closeMinute: NSE_CLOSE_MINUTE }];

/** The trading windows of a date (IST minutes): 09:15–15:30 on a trading day, a special session's own windows, none when closed. */
export function sessionWindows(date: string): readonly SessionWindow[] {
  const special = specialSession(date);
  if (special !== undefined) return special.windows;
  return isTradingDay(date) ? REGULAR_WINDOWS : [];
}

function istMs(date: string, minute: number): number {
  return Date.parse(`${date}T00:00:00Z`) - IST_OFFSET_MS + minute * MINUTE_MS;
}

/** The session's first open and last close on a date as epoch ms, or undefined when no session is held. */
export function sessionTimes(date: string): SessionTimes | undefined {
  const windows = sessionWindows(date);
  const first = windows[0];
  const last = windows[windows.length - 1];
  if (first === undefined || last === undefined) return undefined;
  return { date, openMs: istMs(date, first.openMinute), closeMs: istMs(date, last.closeMinute) };
}

/**
 * The IST day {@link isMarketOpenAt} and {@link closedReasonAt} last judged, with what they need of
 * it: risk asks on every intent and the paper broker on every tick, and a date's string, regular
 * expressions and `Date`s cost more than the rest of an intent's checks. The calendar never
 * changes while the process runs, so a day's answer holds for all of that day.
 */
let memoDay = Number.NaN;
let memoDayStartMs = 0;
let memoWindows: readonly SessionWindow[] = [];
let memoClosed: ClosedReason | undefined;

function memoDayOf(epochMs: number): void {
  const day = Math.floor((epochMs + IST_OFFSET_MS) / DAY_MS);
  if (day === memoDay) return;
  const date = istDate(epochMs);
  memoWindows = sessionWindows(date);
  memoDayStartMs = istMs(date, 0);
  memoClosed = closedReason(date);
  memoDay = day;
}

/** True when a session (regular or special) is open at the instant. */
export function isMarketOpenAt(epochMs: number): boolean {
  memoDayOf(epochMs);
  const minute = Math.floor((epochMs - memoDayStartMs) / MINUTE_MS);
  for (const window of memoWindows) if (minute >= window.openMinute && minute < window.closeMinute) return true;
  return false;
}

/** {@link closedReason} of the IST date of an instant. */
export function closedReasonAt(epochMs: number): ClosedReason | undefined {
  memoDayOf(epochMs);
  return memoClosed;
}

/** A person-readable reason the market is closed on a date: "NSE is closed on 2024-11-01 (Diwali Laxmi Pujan)". */
export function describeClosure(reason: ClosedReason): string {
  return reason.kind === 'holiday' ? `NSE is closed on ${reason.date} (${reason.holiday.name})` : `NSE is closed on ${reason.date} (weekend)`;
}
