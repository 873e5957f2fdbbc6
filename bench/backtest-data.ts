/**
 * A year of 5-minute bars for many symbols, composed deterministically in memory from the
 * real 5-minute sessions of ../shared/data/nse-5min (10 symbols × 22 sessions), for the
 * backtest benchmark's 50 symbols × 1 year target. Nothing is written to disk.
 *
 * Symbol k of n reuses the sessions of real symbol k mod 10 (`INFY`, then `INFY-2`, …),
 * on a calendar of weekdays: each day takes one of that symbol's real sessions (every block
 * of 22 days is a seeded shuffle, different per symbol), its bars rescaled so that the day
 * opens at the previous day's close (exact integer paise: mulDivRound, then the tick grid).
 * Intraday shapes, ranges and volumes are real; the path across days is a new walk.
 */
import { type BacktestData } from '../src/backtest/backtest.js';
import { istDate, istTimeMs, mulDivRound, roundToTick, type Bar } from '../src/model/index.js';
import { Random, replayDataFromBars } from '../src/streams/index.js';

const FIVE_MINUTES_MS = 300_000;

/** `count` weekdays (IST dates) from `first` on. */
export function weekdays(first: string, count: number): string[] {
  const out: string[] = [];
  for (let ms = Date.parse(`${first}T00:00:00Z`); out.length < count; ms += 86_400_000) {
    const day = new Date(ms).getUTCDay();
    if (day !== 0 && day !== 6) out.push(new Date(ms).toISOString().slice(0, 10));
  }
  return out;
}

/** Composes `symbols` × `sessions` of 5-minute bars from real 5-minute data (see the module comment). */
export function composeFiveMinuteYear(base: BacktestData, symbols: number, sessions: number, firstDate = '2025-06-02'): BacktestData {
  if (base.interval !== '5m') throw new Error(`the base data must be 5-minute bars, got ${base.interval}`);
  const sources = base.instruments.map((instrument) => {
    const byDay = new Map<string, Bar[]>();
    for (const bar of base.bars.get(instrument.symbol) ?? []) {
      const date = istDate(bar.startMs);
      const list = byDay.get(date) ?? [];
      list.push(bar);
      byDay.set(date, list);
    }
    return { instrument, days: [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, bars]) => ({ date, bars })) };
  });
  if (sources.length === 0) throw new Error('no base data to compose from');
  const calendar = weekdays(firstDate, sessions);
  const series = new Map<string, Bar[]>();
  for (let k = 0; k < symbols; k += 1) {
    const source = sources[k % sources.length]!;
    const variant = Math.floor(k / sources.length);
    const symbol = variant === 0 ? source.instrument.symbol : `${source.instrument.symbol}-${variant + 1}`;
    const tick = source.instrument.tickSizePaise;
    const rng = new Random(1_000 + k);
    let order: number[] = [];
    let levelPaise = source.days[0]!.bars[0]!.openPaise;
    const bars: Bar[] = [];
    for (const date of calendar) {
      if (order.length === 0) {
        order = source.days.map((_, index) => index);
        for (let i = order.length - 1; i > 0; i -= 1) {
          const j = rng.int(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      const day = source.days[order.pop()!]!;
      const openPaise = day.bars[0]!.openPaise;
      const sessionOpenMs = istTimeMs(day.date, 9, 15);
      const scale = (price: number): number => Math.max(tick, roundToTick(mulDivRound(price, levelPaise, openPaise), tick));
      for (const bar of day.bars) {
        const slot = Math.round((bar.startMs - sessionOpenMs) / FIVE_MINUTES_MS);
        bars.push({
          type: 'bar',
          symbol,
          interval: '5m',
          startMs: istTimeMs(date, 9, 15) + slot * FIVE_MINUTES_MS,
          openPaise: scale(bar.openPaise),
          highPaise: scale(bar.highPaise),
          lowPaise: scale(bar.lowPaise),
          closePaise: scale(bar.closePaise),
          volume: bar.volume,
          tickCount: 0,
        });
      }
      levelPaise = bars[bars.length - 1]!.closePaise;
    }
    series.set(symbol, bars);
  }
  return replayDataFromBars(series, '5m');
}
