import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  calendarCovers,
  closedReason,
  describeClosure,
  hasSession,
  isMarketOpenAt,
  isTradingDay,
  nextTradingDay,
  nseHoliday,
  nseHolidaysBetween,
  previousTradingDay,
  sessionTimes,
  specialSession,
  specialSessions,
  tradingDaysBetween,
  tradingDaysInYear,
  tradingDaysPerYear,
} from '../../src/model/calendar.js';

const DAILY = resolve(process.cwd(), '../shared/data/nse-daily');
const FIVE_MINUTE = resolve(process.cwd(), '../shared/data/nse-5min');

/** Every IST date with a row in any file of the folder, read here straight from the text (not through the replay code). */
function sessionDates(dir: string, dateOf: (line: string) => string | undefined): Set<string> {
  const dates = new Set<string>();
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.csv'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      const date = dateOf(line);
      if (date !== undefined) dates.add(date);
    }
  }
  return dates;
}

/** Calendar days from..to, with their weekday (UTC arithmetic on the date itself). */
function* days(from: string, to: string): Generator<{ date: string; weekday: number }> {
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += 86_400_000) {
    yield { date: new Date(ms).toISOString().slice(0, 10), weekday: new Date(ms).getUTCDay() };
  }
}

describe('NSE calendar against five years of real daily candles (2020-10-01 .. 2025-09-30)', () => {
  const data = sessionDates(DAILY, (line) => (/^\d{4}-\d{2}-\d{2} /.test(line) ? line.slice(0, 10) : undefined));

  it('lists every weekday without a session as a holiday, and no other weekday in the span', () => {
    const missing = [...days('2020-10-01', '2025-09-30')].filter((day) => day.weekday >= 1 && day.weekday <= 5 && !data.has(day.date)).map((day) => day.date);
    expect(missing).toHaveLength(69);
    expect(missing.filter((date) => nseHoliday(date) === undefined)).toEqual([]);
    // the calendar's holidays in the span are those 69 and the three Diwali Laxmi Pujan holidays with a Muhurat session (and a candle)
    const listed = nseHolidaysBetween('2020-10-01', '2025-09-30').map((holiday) => holiday.date);
    expect(listed.filter((date) => !missing.includes(date))).toEqual(['2021-11-04', '2022-10-24', '2024-11-01']);
    for (const date of ['2021-11-04', '2022-10-24', '2024-11-01']) expect(specialSession(date)?.kind).toBe('muhurat');
  });

  it('has a session on every date of the data, and no candle falls on a holiday without a listed special session', () => {
    expect(data.size).toBe(1241);
    expect([...data].filter((date) => !hasSession(date))).toEqual([]);
    expect([...data].filter((date) => nseHoliday(date) !== undefined && specialSession(date) === undefined)).toEqual([]);
    // the weekend candles are all listed special sessions
    const weekend = [...data].filter((date) => [0, 6].includes(new Date(`${date}T00:00:00Z`).getUTCDay())).sort();
    expect(weekend).toEqual(['2020-11-14', '2023-11-12', '2024-01-20', '2024-03-02', '2024-05-18', '2025-02-01']);
    expect(weekend.map((date) => specialSession(date)?.kind)).toEqual(['muhurat', 'muhurat', 'special', 'special', 'special', 'budget']);
  });

  it('counts the same trading days as the data (the data also has five Muhurat candles)', () => {
    const muhurat = [...data].filter((date) => specialSession(date)?.kind === 'muhurat');
    expect(muhurat.sort()).toEqual(['2020-11-14', '2021-11-04', '2022-10-24', '2023-11-12', '2024-11-01']);
    expect(tradingDaysBetween('2020-10-01', '2025-09-30')).toBe(data.size - muhurat.length);
  });
});

describe('NSE calendar against the 5-minute and 1-minute data', () => {
  it('matches the 22 sessions of 2026-05-20 .. 2026-06-19 (Bakri Id on 2026-05-28)', () => {
    // UTC timestamps; every bar starts after 03:45 UTC, so the UTC date is the IST date
    const data = sessionDates(FIVE_MINUTE, (line) => (/^\d{4}-\d{2}-\d{2} /.test(line) ? line.slice(0, 10) : undefined));
    expect(data.size).toBe(22);
    expect(tradingDaysBetween('2026-05-20', '2026-06-19')).toBe(22);
    for (const date of data) expect(isTradingDay(date)).toBe(true);
    expect(nseHoliday('2026-05-28')?.name).toBe('Bakri Id');
  });

  it('2016-09-30 is a trading day', () => {
    expect(isTradingDay('2016-09-30')).toBe(true);
  });
});

describe('NSE calendar queries', () => {
  it('steps over weekends and holidays', () => {
    expect(nextTradingDay('2024-10-31')).toBe('2024-11-04'); // Fri 1 Nov Diwali (Muhurat only), weekend
    expect(nextTradingDay('2025-03-28')).toBe('2025-04-01'); // weekend, Mon 31 Mar Id-ul-Fitr
    expect(previousTradingDay('2024-01-23')).toBe('2024-01-20'); // Mon 22 Jan holiday, Saturday 20 Jan special session
    expect(nextTradingDay('2025-01-31')).toBe('2025-02-01'); // budget Saturday
    expect(tradingDaysBetween('2024-11-01', '2024-11-01')).toBe(0);
    expect(tradingDaysBetween('2024-11-04', '2024-11-08')).toBe(5);
    expect(tradingDaysBetween('2024-11-08', '2024-11-04')).toBe(0);
  });

  it('counts the trading days of a year: weekdays, less weekday holidays, plus normal-hours special sessions', () => {
    const weekdays = (year: number): number => [...days(`${year}-01-01`, `${year}-12-31`)].filter((day) => day.weekday >= 1 && day.weekday <= 5).length;
    expect(tradingDaysInYear(2021)).toBe(weekdays(2021) - 14);
    expect(tradingDaysInYear(2024)).toBe(weekdays(2024) - 17 + 3); // 20 Jan, 2 Mar, 18 May
    expect(tradingDaysInYear(2025)).toBe(weekdays(2025) - 14 + 1); // 1 Feb budget
    expect(tradingDaysPerYear('2021-01-01', '2021-12-31')).toBe(weekdays(2021) - 14);
  });

  it('names the holiday and gives session times in IST', () => {
    const reason = closedReason('2024-11-01');
    expect(reason && describeClosure(reason)).toBe('NSE is closed on 2024-11-01 (Diwali Laxmi Pujan)');
    expect(closedReason('2024-11-02')?.kind).toBe('weekend');
    expect(closedReason('2024-11-04')).toBeUndefined();
    expect(sessionTimes('2024-11-04')).toEqual({ date: '2024-11-04', openMs: Date.parse('2024-11-04T03:45:00Z'), closeMs: Date.parse('2024-11-04T10:00:00Z') });
    expect(sessionTimes('2024-11-01')).toEqual({ date: '2024-11-01', openMs: Date.parse('2024-11-01T12:30:00Z'), closeMs: Date.parse('2024-11-01T13:30:00Z') }); // Muhurat 18:00-19:00
    expect(sessionTimes('2024-11-02')).toBeUndefined();
    expect(isMarketOpenAt(Date.parse('2024-03-02T04:00:00Z'))).toBe(true); // 09:30 IST, DR session day
    expect(isMarketOpenAt(Date.parse('2024-03-02T05:00:00Z'))).toBe(false); // 10:30 IST, between the two windows
    expect(isMarketOpenAt(Date.parse('2024-11-01T05:00:00Z'))).toBe(false);
  });

  it('lists the budget-day sessions and covers 2016..2026 only', () => {
    expect(
      specialSessions()
        .filter((session) => session.kind === 'budget')
        .map((session) => session.date),
    ).toEqual(['2020-02-01', '2025-02-01', '2026-02-01']);
    expect(calendarCovers('2016-01-01')).toBe(true);
    expect(calendarCovers('2026-12-31')).toBe(true);
    expect(calendarCovers('2027-01-01')).toBe(false);
    expect(isTradingDay('2027-01-26')).toBe(true); // not listed: only weekends close an uncovered year
  });
});
