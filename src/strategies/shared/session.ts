/** Session-time helpers for intraday strategies (IST, from the model's time helpers). */
import { BAR_INTERVALS, istMinuteOfDay, MIS_SQUARE_OFF_MINUTE, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, type Bar } from '../../model/index.js';
import { StrategyConfigError } from '../api.js';

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

/** Checks that an exit time leaves MIS positions flat before the broker's 15:20 square-off. */
export function checkBeforeSquareOff(field: string, minute: number): void {
  if (minute >= MIS_SQUARE_OFF_MINUTE) throw new StrategyConfigError(field, 'must be before 15:20 IST (MIS square-off)');
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
