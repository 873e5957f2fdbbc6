/** Session-time helpers for intraday strategies (IST, from the model's time helpers). */
import { BAR_INTERVALS, istDate, istMinuteOfDay, MIS_SQUARE_OFF_MINUTE, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, type Bar } from '../../model/index.js';
import { StrategyConfigError, type ConfigField, type StrategyContext } from '../api.js';
import { moveTo } from './orders.js';

/** Parses an IST wall time "HH:MM" into minutes after midnight; names the field when it does not fit. */
export function parseSessionTime(field: string, text: string): number {
  const match = /^(\d{2}):(\d{2})$/.exec(text);
  if (!match) throw new StrategyConfigError(field, 'must be an IST time such as "14:30"');
  const minute = Number(match[1]) * 60 + Number(match[2]);
  if (Number(match[2]) > 59 || minute < NSE_OPEN_MINUTE || minute > NSE_CLOSE_MINUTE) {
    throw new StrategyConfigError(field, 'must be a time inside the session, 09:15 to 15:30 IST');
  }
  return minute;
}

/** A `lastEntryTime` field: no new entries after this IST time (read it with {@link parseSessionTime}). */
export function lastEntryTimeField(defaultTime: string) {
  return { name: 'lastEntryTime', type: 'string', description: 'No new entries after (IST, HH:MM)', default: defaultTime } as const satisfies ConfigField;
}

/** An `exitTime` field: flat from this IST time, before the 15:20 square-off (check it with {@link checkBeforeSquareOff}). */
export function exitTimeField(defaultTime = '15:15') {
  return {
    name: 'exitTime',
    type: 'string',
    description: 'Flat from this time (IST, HH:MM, before 15:20)',
    default: defaultTime,
  } as const satisfies ConfigField;
}

/** Checks that an exit time leaves MIS positions flat before the broker's 15:20 square-off. */
export function checkBeforeSquareOff(field: string, minute: number): void {
  if (minute >= MIS_SQUARE_OFF_MINUTE) throw new StrategyConfigError(field, 'must be before 15:20 IST (MIS square-off)');
}

/** The session times of an intraday strategy's configuration, in minutes after midnight IST. */
export interface SessionTimes {
  /** From `firstEntryTime`; the open (09:15) for a strategy without one. */
  readonly firstEntry: number;
  readonly lastEntry: number;
  readonly exit: number;
}

/**
 * Reads an intraday strategy's `firstEntryTime` (when it has one), `lastEntryTime` and
 * `exitTime` ({@link lastEntryTimeField}, {@link exitTimeField}) and checks them, naming the
 * first field that does not fit: each a session time, the exit before the 15:20 square-off,
 * the first entry not after the last, the last entry before the exit.
 */
export function checkSessionTimes(config: { readonly firstEntryTime?: string; readonly lastEntryTime: string; readonly exitTime: string }): SessionTimes {
  const firstEntry = config.firstEntryTime === undefined ? NSE_OPEN_MINUTE : parseSessionTime('firstEntryTime', config.firstEntryTime);
  const lastEntry = parseSessionTime('lastEntryTime', config.lastEntryTime);
  const exit = parseSessionTime('exitTime', config.exitTime);
  checkBeforeSquareOff('exitTime', exit);
  if (firstEntry > lastEntry) throw new StrategyConfigError('firstEntryTime', 'must not be after lastEntryTime');
  if (lastEntry >= exit) throw new StrategyConfigError('lastEntryTime', 'must be before exitTime');
  return { firstEntry, lastEntry, exit };
}

/** Length of a bar in minutes. */
export function barMinutes(bar: Bar): number {
  return BAR_INTERVALS[bar.interval] / 60;
}

/**
 * IST minute of day at which a bar closes (a 15:10 five-minute bar closes at 15:15). A
 * strategy hears of a bar when it closes, so this is "now" for decisions taken on it.
 */
export function barEndMinute(bar: Bar): number {
  return istMinuteOfDay(bar.startMs) + barMinutes(bar);
}

/** "HH:MM" for minutes after midnight. */
export function formatMinute(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/**
 * The state of `bar.symbol` for the IST session of `bar`, for a strategy that starts every
 * day afresh: the one in `states` while it is of the same date; on a new date `fresh(date)`,
 * stored in `states`, and a position left from an earlier session (a data gap) closed at
 * once (MIS, with the reason "<name>: position left from an earlier session").
 */
export function sessionState<S extends { readonly date: string }>(
  states: Record<string, S>,
  bar: Bar,
  ctx: StrategyContext<unknown>,
  name: string,
  fresh: (date: string) => S,
): S {
  const date = istDate(bar.startMs);
  const state = states[bar.symbol];
  if (state !== undefined && state.date === date) return state;
  const started = fresh(date);
  states[bar.symbol] = started;
  moveTo(ctx, bar.symbol, 0, { product: 'MIS', reason: `${name}: position left from an earlier session` });
  return started;
}

/**
 * From `exitTime` (a bar that closes at or after it) flattens `bar.symbol` (MIS, with the
 * reason "<name>: flat by HH:MM IST") and says so: the strategy takes no other decision on
 * that bar. On every bar from then on: nothing while flat or while the exit is working,
 * again if it was refused.
 */
export function flatFromExitTime(ctx: StrategyContext<unknown>, bar: Bar, exitTime: string, name: string): boolean {
  const exitMinute = parseSessionTime('exitTime', exitTime);
  if (barEndMinute(bar) < exitMinute) return false;
  moveTo(ctx, bar.symbol, 0, { product: 'MIS', reason: `${name}: flat by ${formatMinute(exitMinute)} IST` });
  return true;
}
