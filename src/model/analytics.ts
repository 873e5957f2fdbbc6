/**
 * Performance analytics from fills and marks (`GET /api/v1/analytics`, the desk's Performance
 * page). Pure: the caller reads the fills (the `trades` table) and the latest prices.
 *
 * - **Realised / unrealised P&L**: average cost per symbol and product (`applyFill`, the
 *   portfolio's own accounting); realised is before charges, unrealised is open quantity × mark − cost.
 * - **Net P&L** = realised + unrealised − charges. **Turnover**: Σ quantity × price of the fills.
 * - **Round trips**: a position from flat back to flat (a flip closes one and opens the next);
 *   it wins when its realised P&L minus the charges of its fills is above zero. Win rate = wins / round trips.
 * - **Daily P&L** (IST days): realised − charges booked that day; the last day also carries the
 *   open positions' unrealised P&L. Weeks (from Monday) and months add the days up.
 * - **Sharpe / Sortino**: of the daily net P&L, mean / standard deviation (Sortino: downside
 *   deviation, days below zero against a target of zero), annualised × √252; null below two days
 *   (or with no spread). Scale-free: a ratio of paise to paise, so no capital needs assuming.
 * - **Max drawdown**: the largest fall of cumulative net P&L from a previous peak, over the
 *   points after each fill and the present (marks), in paise.
 * - **Exposure**: Σ |open quantity| × mark now (gross) and Σ signed (net), in paise.
 */
import { applyFill, emptyPosition, type Position } from './position.js';
import type { Fill } from './fill.js';
import { mul, type Paise } from './money.js';
import { istDate } from './time.js';
import { addDays, weekdayOf } from './calendar.js';

/** The figures of one group of fills (a portfolio, a strategy or a symbol). */
export interface PerformanceFigures {
  readonly realisedPaise: Paise;
  readonly unrealisedPaise: Paise;
  readonly chargesPaise: Paise;
  readonly netPnlPaise: Paise;
  readonly turnoverPaise: Paise;
  readonly fills: number;
  readonly roundTrips: number;
  readonly wins: number;
  /** wins / round trips; null without a round trip. */
  readonly winRate: number | null;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly maxDrawdownPaise: Paise;
  readonly grossExposurePaise: Paise;
  readonly netExposurePaise: Paise;
}

/** One IST day, week (its Monday) or month (`YYYY-MM`) of net P&L. */
export interface PnlPeriod {
  readonly period: string;
  readonly netPnlPaise: Paise;
  readonly fills: number;
}

export interface PerformanceReport {
  readonly total: PerformanceFigures;
  readonly byStrategy: Readonly<Record<string, PerformanceFigures>>;
  readonly bySymbol: Readonly<Record<string, PerformanceFigures>>;
  readonly calendar: { readonly daily: readonly PnlPeriod[]; readonly weekly: readonly PnlPeriod[]; readonly monthly: readonly PnlPeriod[] };
  /** Cumulative net P&L after each fill (realised − charges; the last point, at `nowMs`, marks the open positions). */
  readonly curve: readonly { readonly atMs: number; readonly netPnlPaise: Paise }[];
}

const TRADING_DAYS_PER_YEAR = 252;

interface Book {
  positions: Map<string, Position>;
  /** Charges of the open round trip per position key. */
  tripCharges: Map<string, number>;
  tripRealisedStart: Map<string, number>;
  realised: number;
  charges: number;
  turnover: number;
  fills: number;
  roundTrips: number;
  wins: number;
  daily: Map<string, { net: number; fills: number }>;
  curve: { atMs: number; netPnlPaise: number }[];
}

function newBook(): Book {
  return {
    positions: new Map(),
    tripCharges: new Map(),
    tripRealisedStart: new Map(),
    realised: 0,
    charges: 0,
    turnover: 0,
    fills: 0,
    roundTrips: 0,
    wins: 0,
    daily: new Map(),
    curve: [],
  };
}

function book(target: Book, fill: Fill): void {
  const key = `${fill.symbol}\u0000${fill.product}`;
  const before = target.positions.get(key) ?? emptyPosition(fill.symbol, fill.product);
  const after = applyFill(before, fill);
  target.positions.set(key, after);
  const realisedDelta = after.realisedPaise - before.realisedPaise;
  target.realised += realisedDelta;
  target.charges += fill.chargesPaise;
  target.turnover += mul(fill.quantity, fill.pricePaise);
  target.fills += 1;
  const day = istDate(fill.atMs);
  const entry = target.daily.get(day) ?? { net: 0, fills: 0 };
  entry.net += realisedDelta - fill.chargesPaise;
  entry.fills += 1;
  target.daily.set(day, entry);
  target.curve.push({ atMs: fill.atMs, netPnlPaise: target.realised - target.charges });
  // round trips: charges of a flip's fill go to the trip it closes
  if (before.netQuantity === 0) {
    target.tripRealisedStart.set(key, before.realisedPaise);
    target.tripCharges.set(key, 0);
  }
  target.tripCharges.set(key, (target.tripCharges.get(key) ?? 0) + fill.chargesPaise);
  const closed = after.netQuantity === 0 || Math.sign(after.netQuantity) !== Math.sign(before.netQuantity);
  if (before.netQuantity !== 0 && closed) {
    const tripNet = after.realisedPaise - (target.tripRealisedStart.get(key) ?? 0) - (target.tripCharges.get(key) ?? 0);
    target.roundTrips += 1;
    if (tripNet > 0) target.wins += 1;
    target.tripRealisedStart.set(key, after.realisedPaise);
    target.tripCharges.set(key, 0);
  }
}

function ratio(values: readonly number[], downsideOnly: boolean): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const deviations = downsideOnly ? values.map((value) => Math.min(0, value)) : values.map((value) => value - mean);
  const variance = deviations.reduce((sum, value) => sum + value * value, 0) / (downsideOnly ? values.length : values.length - 1);
  if (!(variance > 0)) return null;
  return (mean / Math.sqrt(variance)) * Math.sqrt(TRADING_DAYS_PER_YEAR);
}

function figures(
  target: Book,
  markOf: (symbol: string) => number | undefined,
  nowMs: number,
): { figures: PerformanceFigures; daily: PnlPeriod[]; curve: { atMs: number; netPnlPaise: number }[] } {
  let unrealised = 0;
  let gross = 0;
  let net = 0;
  for (const position of target.positions.values()) {
    if (position.netQuantity === 0) continue;
    const mark = markOf(position.symbol) ?? position.lastPricePaise;
    unrealised += mul(position.netQuantity, mark) - position.costPaise;
    gross += mul(Math.abs(position.netQuantity), mark);
    net += mul(position.netQuantity, mark);
  }
  const days = [...target.daily.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, entry]) => ({ period, netPnlPaise: entry.net, fills: entry.fills }));
  const last = days.at(-1);
  if (last && unrealised !== 0) days[days.length - 1] = { ...last, netPnlPaise: last.netPnlPaise + unrealised };
  const curve = [...target.curve];
  if (curve.length > 0) curve.push({ atMs: Math.max(nowMs, curve.at(-1)!.atMs), netPnlPaise: target.realised - target.charges + unrealised });
  let peak = 0;
  let drawdown = 0;
  for (const point of curve) {
    peak = Math.max(peak, point.netPnlPaise);
    drawdown = Math.max(drawdown, peak - point.netPnlPaise);
  }
  const dailyNet = days.map((day) => day.netPnlPaise);
  return {
    figures: {
      realisedPaise: target.realised,
      unrealisedPaise: unrealised,
      chargesPaise: target.charges,
      netPnlPaise: target.realised + unrealised - target.charges,
      turnoverPaise: target.turnover,
      fills: target.fills,
      roundTrips: target.roundTrips,
      wins: target.wins,
      winRate: target.roundTrips === 0 ? null : target.wins / target.roundTrips,
      sharpe: ratio(dailyNet, false),
      sortino: ratio(dailyNet, true),
      maxDrawdownPaise: drawdown,
      grossExposurePaise: gross,
      netExposurePaise: net,
    },
    daily: days,
    curve,
  };
}

/** The Monday of an IST date's week. */
function weekOf(date: string): string {
  return addDays(date, -((weekdayOf(date) + 6) % 7));
}

function rollUp(days: readonly PnlPeriod[], periodOf: (date: string) => string): PnlPeriod[] {
  const out = new Map<string, { net: number; fills: number }>();
  for (const day of days) {
    const key = periodOf(day.period);
    const entry = out.get(key) ?? { net: 0, fills: 0 };
    entry.net += day.netPnlPaise;
    entry.fills += day.fills;
    out.set(key, entry);
  }
  return [...out.entries()].map(([period, entry]) => ({ period, netPnlPaise: entry.net, fills: entry.fills }));
}

/**
 * The report of a portfolio's fills (oldest first), marked at `markOf(symbol)` (the position's
 * last fill price when there is no mark).
 */
export function performanceReport(fills: readonly Fill[], markOf: (symbol: string) => number | undefined, nowMs: number): PerformanceReport {
  const total = newBook();
  const strategies = new Map<string, Book>();
  const symbols = new Map<string, Book>();
  for (const fill of fills) {
    book(total, fill);
    const strategy = strategies.get(fill.strategyId) ?? newBook();
    strategies.set(fill.strategyId, strategy);
    book(strategy, fill);
    const symbol = symbols.get(fill.symbol) ?? newBook();
    symbols.set(fill.symbol, symbol);
    book(symbol, fill);
  }
  const whole = figures(total, markOf, nowMs);
  const map = (books: Map<string, Book>): Record<string, PerformanceFigures> =>
    Object.fromEntries([...books.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, value]) => [key, figures(value, markOf, nowMs).figures]));
  return {
    total: whole.figures,
    byStrategy: map(strategies),
    bySymbol: map(symbols),
    calendar: { daily: whole.daily, weekly: rollUp(whole.daily, weekOf), monthly: rollUp(whole.daily, (date) => date.slice(0, 7)) },
    curve: whole.curve,
  };
}
