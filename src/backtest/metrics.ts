/**
 * Performance metrics of a backtest. Money stays in integer paise (sums, drawdowns,
 * attribution); statistics (returns, CAGR, Sharpe, Sortino) are floats, rounded to six
 * decimals so the JSON is tidy and the bytes stable.
 *
 * Conventions: daily returns are taken from the end-of-IST-day equity, starting from the
 * initial cash; annualisation uses the number of NSE trading days a year from the trading
 * calendar (`tradingDaysPerYear` of `src/model/calendar.ts`: the mean over the calendar years
 * the equity series spans, e.g. 248 for 2024), not a constant 252; CAGR too (years = days /
 * that number); the risk-free rate is zero; Sharpe uses the sample standard deviation, Sortino the downside
 * deviation √(Σ min(r, 0)² / n).
 */
import {
  applyFill,
  divRound,
  emptyPosition,
  mul,
  mulDivRound,
  signedQuantity,
  tradingDaysPerYear,
  unrealisedPaise,
  markPosition,
  type Fill,
  type Paise,
  type Position,
} from '../model/index.js';

/** Equity at the end of one IST day (the portfolio after the day's last tick). */
export interface DailyEquity {
  /** IST date, YYYY-MM-DD. */
  readonly date: string;
  readonly equityPaise: Paise;
}

/** One round trip: a position in a symbol and product from flat back to flat (or to a flip). */
export interface RoundTrip {
  readonly symbol: string;
  readonly product: string;
  readonly direction: 'LONG' | 'SHORT';
  readonly openedAtMs: number;
  readonly closedAtMs: number;
  /** Largest absolute quantity held during the trip. */
  readonly maxQuantity: number;
  /** Realised P&L before charges. */
  readonly grossPnlPaise: Paise;
  readonly chargesPaise: Paise;
  /** gross − charges. */
  readonly netPnlPaise: Paise;
}

export interface Attribution {
  readonly realisedPaise: Paise;
  readonly unrealisedPaise: Paise;
  readonly chargesPaise: Paise;
  /** realised + unrealised − charges. */
  readonly netPnlPaise: Paise;
  readonly fills: number;
  readonly tradedValuePaise: Paise;
}

export interface MonthlyReturn {
  /** YYYY-MM. */
  readonly month: string;
  readonly startEquityPaise: Paise;
  readonly endEquityPaise: Paise;
  readonly returnPct: number;
}

export interface BacktestMetrics {
  readonly days: number;
  /** NSE trading days a year used to annualise (from the trading calendar, over the span of the equity series). */
  readonly tradingDaysPerYear: number;
  readonly startEquityPaise: Paise;
  readonly endEquityPaise: Paise;
  readonly totalReturnPct: number | null;
  readonly cagrPct: number | null;
  readonly sharpe: number | null;
  readonly sortino: number | null;
  readonly maxDrawdownPaise: Paise;
  readonly maxDrawdownPct: number;
  /** Peak and trough dates of the largest drawdown in paise (null without one). */
  readonly maxDrawdownPeakDate: string | null;
  readonly maxDrawdownTroughDate: string | null;
  readonly trades: number;
  readonly roundTrips: number;
  readonly openRoundTrips: number;
  readonly wins: number;
  readonly losses: number;
  readonly winRatePct: number | null;
  readonly averageWinPaise: Paise;
  readonly averageLossPaise: Paise;
  readonly turnoverPaise: Paise;
  /** Traded value ÷ initial cash. */
  readonly turnoverRatio: number;
  readonly chargesPaise: Paise;
  readonly monthlyReturns: readonly MonthlyReturn[];
  readonly byStrategy: Readonly<Record<string, Attribution>>;
  readonly bySymbol: Readonly<Record<string, Attribution>>;
}

const round6 = (x: number): number => {
  const r = Math.round(x * 1e6) / 1e6;
  return Object.is(r, -0) ? 0 : r;
};
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? round6(x) : null);

/** Daily simple returns of the equity series, the first one against `startPaise`. */
export function dailyReturns(startPaise: Paise, equity: readonly DailyEquity[]): number[] {
  const returns: number[] = [];
  let previous = startPaise;
  for (const day of equity) {
    returns.push(previous === 0 ? 0 : day.equityPaise / previous - 1);
    previous = day.equityPaise;
  }
  return returns;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Annualised Sharpe ratio over `daysPerYear` trading days (risk-free 0, sample standard deviation); null when undefined. */
export function sharpeRatio(returns: readonly number[], daysPerYear: number): number | null {
  if (returns.length < 2) return null;
  const m = mean(returns);
  const variance = returns.reduce((sum, r) => sum + (r - m) ** 2, 0) / (returns.length - 1);
  if (variance <= 0) return null;
  return finiteOrNull((m / Math.sqrt(variance)) * Math.sqrt(daysPerYear));
}

/** Annualised Sortino ratio over `daysPerYear` trading days (target 0, downside deviation over all days); null without down days. */
export function sortinoRatio(returns: readonly number[], daysPerYear: number): number | null {
  if (returns.length < 2) return null;
  const downside = Math.sqrt(returns.reduce((sum, r) => sum + Math.min(r, 0) ** 2, 0) / returns.length);
  if (downside <= 0) return null;
  return finiteOrNull((mean(returns) / downside) * Math.sqrt(daysPerYear));
}

/** CAGR in % over `days` trading days, `daysPerYear` to a year; null when undefined. */
export function cagrPct(startPaise: Paise, endPaise: Paise, days: number, daysPerYear: number): number | null {
  if (days <= 0 || startPaise <= 0 || endPaise <= 0) return null;
  return finiteOrNull(((endPaise / startPaise) ** (daysPerYear / days) - 1) * 100);
}

export interface Drawdown {
  readonly date: string;
  /** Peak-to-date minus equity, ≥ 0. */
  readonly drawdownPaise: Paise;
  readonly drawdownPct: number;
}

/** Drawdown per day against the running peak (the initial cash counts as the first peak). */
export function drawdowns(startPaise: Paise, equity: readonly DailyEquity[]): Drawdown[] {
  let peak = startPaise;
  return equity.map((day) => {
    peak = Math.max(peak, day.equityPaise);
    const drawdownPaise = peak - day.equityPaise;
    return { date: day.date, drawdownPaise, drawdownPct: peak > 0 ? round6((drawdownPaise / peak) * 100) : 0 };
  });
}

/** Round trips per symbol and product, in fill order; trips still open at the end are counted apart. */
export function roundTrips(fills: readonly Fill[]): { readonly closed: RoundTrip[]; readonly open: number } {
  interface Trip {
    position: Position;
    openedAtMs: number;
    maxQuantity: number;
    chargesPaise: Paise;
  }
  const open = new Map<string, Trip>();
  const closed: RoundTrip[] = [];
  for (const fill of fills) {
    const key = `${fill.symbol}:${fill.product}`;
    let remaining = fill.quantity;
    let trip = open.get(key);
    if (trip && Math.sign(signedQuantity(fill)) !== Math.sign(trip.position.netQuantity)) {
      const closing = Math.min(remaining, Math.abs(trip.position.netQuantity));
      const closingCharges = mulDivRound(fill.chargesPaise, closing, fill.quantity);
      trip.position = applyFill(trip.position, { ...fill, quantity: closing, chargesPaise: closingCharges });
      trip.chargesPaise += closingCharges;
      remaining -= closing;
      if (trip.position.netQuantity === 0) {
        const gross = trip.position.realisedPaise;
        closed.push({
          symbol: fill.symbol,
          product: fill.product,
          direction: fill.side === 'SELL' ? 'LONG' : 'SHORT',
          openedAtMs: trip.openedAtMs,
          closedAtMs: fill.atMs,
          maxQuantity: trip.maxQuantity,
          grossPnlPaise: gross,
          chargesPaise: trip.chargesPaise,
          netPnlPaise: gross - trip.chargesPaise,
        });
        open.delete(key);
        trip = undefined;
      }
      if (remaining === 0) continue;
      const restCharges = fill.chargesPaise - closingCharges;
      const rest = { ...fill, quantity: remaining, chargesPaise: restCharges };
      if (trip) {
        // a partial close cannot leave a remainder; kept for safety
        trip.position = applyFill(trip.position, rest);
        continue;
      }
      const position = applyFill(emptyPosition(fill.symbol, fill.product), rest);
      open.set(key, { position, openedAtMs: fill.atMs, maxQuantity: remaining, chargesPaise: restCharges });
      continue;
    }
    if (!trip) {
      trip = { position: emptyPosition(fill.symbol, fill.product), openedAtMs: fill.atMs, maxQuantity: 0, chargesPaise: 0 };
      open.set(key, trip);
    }
    trip.position = applyFill(trip.position, fill);
    trip.chargesPaise += fill.chargesPaise;
    trip.maxQuantity = Math.max(trip.maxQuantity, Math.abs(trip.position.netQuantity));
  }
  return { closed, open: open.size };
}

function emptyAttribution(): { -readonly [K in keyof Attribution]: Attribution[K] } {
  return { realisedPaise: 0, unrealisedPaise: 0, chargesPaise: 0, netPnlPaise: 0, fills: 0, tradedValuePaise: 0 };
}

function sortedRecord<T>(map: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** P&L by symbol, from the final positions (all products of a symbol together). */
export function attributionBySymbol(positions: readonly Position[], fills: readonly Fill[]): Record<string, Attribution> {
  const out = new Map<string, ReturnType<typeof emptyAttribution>>();
  const get = (symbol: string) => {
    let a = out.get(symbol);
    if (!a) out.set(symbol, (a = emptyAttribution()));
    return a;
  };
  for (const position of positions) {
    const a = get(position.symbol);
    a.realisedPaise += position.realisedPaise;
    a.unrealisedPaise += unrealisedPaise(position);
    a.chargesPaise += position.chargesPaise;
    a.tradedValuePaise += position.buyValuePaise + position.sellValuePaise;
  }
  for (const fill of fills) get(fill.symbol).fills += 1;
  for (const a of out.values()) a.netPnlPaise = a.realisedPaise + a.unrealisedPaise - a.chargesPaise;
  return sortedRecord(out);
}

/**
 * P&L by strategy: each strategy's fills are replayed into its own positions, marked at the
 * final last price of the portfolio's position in that symbol and product.
 */
export function attributionByStrategy(positions: readonly Position[], fills: readonly Fill[]): Record<string, Attribution> {
  const lastPrice = new Map(positions.map((p) => [`${p.symbol}:${p.product}`, p.lastPricePaise]));
  const books = new Map<string, Map<string, Position>>();
  const out = new Map<string, ReturnType<typeof emptyAttribution>>();
  for (const fill of fills) {
    let book = books.get(fill.strategyId);
    if (!book) books.set(fill.strategyId, (book = new Map<string, Position>()));
    const key = `${fill.symbol}:${fill.product}`;
    book.set(key, applyFill(book.get(key) ?? emptyPosition(fill.symbol, fill.product), fill));
    let a = out.get(fill.strategyId);
    if (!a) out.set(fill.strategyId, (a = emptyAttribution()));
    a.fills += 1;
    a.tradedValuePaise += mul(fill.quantity, fill.pricePaise);
  }
  for (const [strategyId, book] of books) {
    const a = out.get(strategyId)!;
    for (const [key, position] of book) {
      const marked = markPosition(position, lastPrice.get(key) ?? position.lastPricePaise);
      a.realisedPaise += marked.realisedPaise;
      a.unrealisedPaise += unrealisedPaise(marked);
      a.chargesPaise += marked.chargesPaise;
    }
    a.netPnlPaise = a.realisedPaise + a.unrealisedPaise - a.chargesPaise;
  }
  return sortedRecord(out);
}

/** Monthly returns from the end-of-day equity (each month against the previous month's end, the first against the initial cash). */
export function monthlyReturns(startPaise: Paise, equity: readonly DailyEquity[]): MonthlyReturn[] {
  const months: MonthlyReturn[] = [];
  let start = startPaise;
  for (let i = 0; i < equity.length; i += 1) {
    const day = equity[i]!;
    const month = day.date.slice(0, 7);
    const next = equity[i + 1];
    if (next !== undefined && next.date.slice(0, 7) === month) continue;
    months.push({ month, startEquityPaise: start, endEquityPaise: day.equityPaise, returnPct: start > 0 ? round6((day.equityPaise / start - 1) * 100) : 0 });
    start = day.equityPaise;
  }
  return months;
}

export interface MetricsInput {
  readonly initialCashPaise: Paise;
  readonly equity: readonly DailyEquity[];
  readonly fills: readonly Fill[];
  readonly positions: readonly Position[];
}

export function computeMetrics(input: MetricsInput): BacktestMetrics {
  const { initialCashPaise: start, equity, fills, positions } = input;
  const end = equity.at(-1)?.equityPaise ?? start;
  const returns = dailyReturns(start, equity);
  const dd = drawdowns(start, equity);
  let maxDd: Drawdown | undefined;
  let maxDdPct = 0;
  for (const d of dd) {
    if (d.drawdownPaise > (maxDd?.drawdownPaise ?? 0)) maxDd = d;
    maxDdPct = Math.max(maxDdPct, d.drawdownPct);
  }
  let peakDate: string | null = null;
  if (maxDd) {
    let peak = start;
    for (const day of equity) {
      if (day.date > maxDd.date) break;
      if (day.equityPaise >= peak) {
        peak = day.equityPaise;
        peakDate = day.date;
      }
    }
  }
  const trips = roundTrips(fills);
  const wins = trips.closed.filter((t) => t.netPnlPaise > 0);
  const losses = trips.closed.filter((t) => t.netPnlPaise <= 0);
  const sum = (xs: readonly RoundTrip[]) => xs.reduce((total, t) => total + t.netPnlPaise, 0);
  const turnover = fills.reduce((total, f) => total + mul(f.quantity, f.pricePaise), 0);
  const first = equity[0];
  const last = equity.at(-1);
  const daysPerYear = first && last ? tradingDaysPerYear(first.date, last.date) : tradingDaysPerYear('2016-01-01', '2026-12-31');
  return {
    days: equity.length,
    tradingDaysPerYear: round6(daysPerYear),
    startEquityPaise: start,
    endEquityPaise: end,
    totalReturnPct: start > 0 ? round6((end / start - 1) * 100) : null,
    cagrPct: cagrPct(start, end, equity.length, daysPerYear),
    sharpe: sharpeRatio(returns, daysPerYear),
    sortino: sortinoRatio(returns, daysPerYear),
    maxDrawdownPaise: maxDd?.drawdownPaise ?? 0,
    maxDrawdownPct: maxDdPct,
    maxDrawdownPeakDate: maxDd ? peakDate : null,
    maxDrawdownTroughDate: maxDd?.date ?? null,
    trades: fills.length,
    roundTrips: trips.closed.length,
    openRoundTrips: trips.open,
    wins: wins.length,
    losses: losses.length,
    winRatePct: trips.closed.length === 0 ? null : round6((wins.length / trips.closed.length) * 100),
    averageWinPaise: wins.length === 0 ? 0 : divRound(sum(wins), wins.length),
    averageLossPaise: losses.length === 0 ? 0 : divRound(sum(losses), losses.length),
    turnoverPaise: turnover,
    turnoverRatio: start > 0 ? round6(turnover / start) : 0,
    chargesPaise: fills.reduce((total, f) => total + f.chargesPaise, 0),
    monthlyReturns: monthlyReturns(start, equity),
    byStrategy: attributionByStrategy(positions, fills),
    bySymbol: attributionBySymbol(positions, fills),
  };
}
