/**
 * A small NSE market written by the tests themselves, in the three layouts of `../shared/data`
 * (Kite daily candles, the three-header 5-minute layout with Close first and UTC times, the 1-minute
 * layout with a space after each comma and a few rows out of order). The golden backtests run on
 * it, so their bytes depend only on this file and the code under test, never on which market data
 * a machine happens to hold.
 *
 * Prices are a seeded random walk in whole ticks of ₹0.05 (integer paise throughout), so every
 * machine writes the same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTradingDay } from '../../src/model/calendar.js';
import { seededRandom } from '../../src/ml/seeded-random.js';

/** Symbols and a starting price in paise, across the tick-size tiers the data files cover. */
const SYMBOLS: readonly (readonly [string, number])[] = [
  ['RELIANCE', 140_000],
  ['TCS', 310_000],
  ['HDFCBANK', 98_000],
  ['INFY', 150_000],
  ['ITC', 41_000],
  ['SBIN', 85_000],
];

interface Bar {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** One bar from the previous close: a drift of whole ticks, wicks of whole ticks, never below ₹1. */
function nextBar(random: () => number, previousClose: number, stepTicks: number): Bar {
  const tick = 5;
  const move = (span: number) => Math.round((random() * 2 - 1) * span) * tick;
  const open = Math.max(100, previousClose + move(stepTicks / 4));
  const close = Math.max(100, open + move(stepTicks));
  const high = Math.max(open, close) + Math.round(random() * stepTicks * 0.5) * tick;
  const low = Math.max(100, Math.min(open, close) - Math.round(random() * stepTicks * 0.5) * tick);
  return { open, high, low, close, volume: 1_000 + Math.floor(random() * 50_000) };
}

function rupees(paise: number): string {
  return `${Math.floor(paise / 100)}.${String(paise % 100).padStart(2, '0')}`;
}

/** Trading days from `first` on (the NSE calendar), `count` of them. */
function tradingDays(first: string, count: number): string[] {
  const days: string[] = [];
  for (let date = new Date(`${first}T00:00:00Z`); days.length < count; date = new Date(date.getTime() + 86_400_000)) {
    const day = date.toISOString().slice(0, 10);
    if (isTradingDay(day)) days.push(day);
  }
  return days;
}

function session(bars: number, minutesPerBar: number): string[] {
  return Array.from({ length: bars }, (_, index) => {
    const minute = 9 * 60 + 15 + index * minutesPerBar;
    return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  });
}

function writeDaily(dir: string): void {
  const days = tradingDays('2023-01-02', 400);
  SYMBOLS.forEach(([symbol, start], index) => {
    const random = seededRandom(1_000 + index);
    let close = start;
    const lines = ['timestamp,open,high,low,close,volume,oi'];
    for (const day of days) {
      const bar = nextBar(random, close, 40);
      close = bar.close;
      lines.push(`${day} 00:00:00+05:30,${rupees(bar.open)},${rupees(bar.high)},${rupees(bar.low)},${rupees(bar.close)},${bar.volume * 100},0`);
    }
    writeFileSync(join(dir, `${symbol}.csv`), `${lines.join('\n')}\n`);
  });
}

function writeFiveMinute(dir: string): void {
  const days = tradingDays('2025-03-03', 12);
  const times = session(75, 5);
  SYMBOLS.forEach(([symbol, start], index) => {
    const random = seededRandom(2_000 + index);
    let close = start;
    const lines = ['Price,Close,High,Low,Open,Volume', `Ticker,${Array.from({ length: 5 }, () => `${symbol}.NS`).join(',')}`, 'Datetime,,,,,'];
    for (const day of days) {
      times.forEach((time, bar) => {
        const next = nextBar(random, close, 12);
        close = next.close;
        const [hours, minutes] = time.split(':').map(Number);
        const utcMinute = (hours ?? 0) * 60 + (minutes ?? 0) - 330;
        const utc = `${String(Math.floor(utcMinute / 60)).padStart(2, '0')}:${String(utcMinute % 60).padStart(2, '0')}`;
        const volume = bar === 0 ? 0 : next.volume;
        lines.push(`${day} ${utc}:00+00:00,${rupees(next.close)},${rupees(next.high)},${rupees(next.low)},${rupees(next.open)},${volume}`);
      });
    }
    writeFileSync(join(dir, `${symbol}.csv`), `${lines.join('\n')}\n`);
  });
}

function writeOneMinute(dir: string): void {
  const times = session(375, 1);
  SYMBOLS.forEach(([symbol, start], index) => {
    const random = seededRandom(3_000 + index);
    let close = start;
    const rows = times.map((time) => {
      const bar = nextBar(random, close, 16);
      close = bar.close;
      return `2025-03-13 ${time}:00, ${rupees(bar.open)}, ${rupees(bar.high)}, ${rupees(bar.low)}, ${rupees(bar.close)}, ${bar.volume}`;
    });
    // as in the real files, a few adjacent rows out of time order
    for (const at of [40, 41 + index, 200]) {
      const [a, b] = [rows[at], rows[at + 1]];
      if (a !== undefined && b !== undefined) [rows[at], rows[at + 1]] = [b, a];
    }
    writeFileSync(join(dir, `${symbol}.csv`), `${['Date,Open,High,Low,Close,Volume', ...rows].join('\n')}\n`);
  });
}

/** Writes `daily/`, `five-minute/` and `one-minute/` under `root` and returns their paths. */
export function writeGoldenMarket(root: string): { readonly daily: string; readonly fiveMinute: string; readonly oneMinute: string } {
  const daily = join(root, 'daily');
  const fiveMinute = join(root, 'five-minute');
  const oneMinute = join(root, 'one-minute');
  for (const dir of [daily, fiveMinute, oneMinute]) mkdirSync(dir, { recursive: true });
  writeDaily(daily);
  writeFiveMinute(fiveMinute);
  writeOneMinute(oneMinute);
  return { daily, fiveMinute, oneMinute };
}
