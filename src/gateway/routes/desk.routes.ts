/**
 * The desk's history: candles from the time-series store at the timeframe asked for, with the
 * portfolio's fills on them as one marker per candle and side; the order book of a symbol; and
 * live performance analytics per portfolio, strategy and symbol, from the durable fills.
 */
import { Type, type Static } from 'typebox';
import { aggregateBars } from '../../model/bar-aggregate.js';
import { performanceReport, type PerformanceFigures } from '../../model/analytics.js';
import { BAR_INTERVALS, type Bar, type BarInterval } from '../../model/market.js';
import type { Fill } from '../../model/fill.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';
import { API_ERRORS, routeGroup } from './declare-routes.js';

/** Every desk route can answer 404 (no such symbol or portfolio) and 503 (no database behind the gateway). */
const DESK_ERRORS = [...API_ERRORS, 404, 503] as const;
const marketRoute = routeGroup('market', DESK_ERRORS);
const portfoliosRoute = routeGroup('portfolios', DESK_ERRORS);

/** What the desk routes read from the database (`deskSources` in `src/persistence/desk-queries.ts`). */
export interface DeskSources {
  /** One symbol's stored bars (`1m`: `bars_1m`, `1h`: `bars_1h`) in `[fromMs, toMs)`, oldest first. */
  bars(symbol: string, interval: '1m' | '1h', fromMs: number, toMs: number): Promise<Bar[]>;
  /** A portfolio's fills in `[fromMs, toMs)`, oldest first. */
  fills(portfolioId: string, fromMs?: number, toMs?: number): Promise<Fill[]>;
}

/** Candles a request may return at most (the range is cut to the latest ones). */
export const MAX_CANDLES = 2_000;
/** Candles when no `from` is given. */
const DEFAULT_CANDLES = 500;

const TIMEFRAMES = ['1m', '5m', '15m', '1h', '1d'] as const;
const Timeframe = Type.Enum([...TIMEFRAMES], { description: 'candle length' });

const BarsQuery = Type.Object({
  symbol: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Z0-9&_.-]+$' }),
  timeframe: Type.Optional(Timeframe),
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms, inclusive (default: 500 candles before `to`)' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'epoch ms, exclusive (default: now on the market clock, plus one candle)' })),
  portfolioId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'whose fills to mark (default: the first portfolio)' })),
});

const Candle = Type.Object({
  startMs: Type.Integer(),
  openPaise: Type.Integer(),
  highPaise: Type.Integer(),
  lowPaise: Type.Integer(),
  closePaise: Type.Integer(),
  volume: Type.Integer(),
  tickCount: Type.Integer(),
});

const Marker = Type.Object({
  startMs: Type.Integer({ description: 'the candle the fills fall in' }),
  side: Type.Enum(['BUY', 'SELL']),
  quantity: Type.Integer({ description: 'summed over the fills of this side in the candle' }),
  fills: Type.Integer(),
  averagePricePaise: Type.Integer({ description: 'quantity-weighted, rounded to the paisa' }),
});

const BarsResponse = Type.Object({
  symbol: Type.String(),
  timeframe: Timeframe,
  fromMs: Type.Integer(),
  toMs: Type.Integer(),
  source: Type.Enum(['bars_1m', 'bars_1h']),
  candles: Type.Array(Candle),
  markers: Type.Array(Marker),
  storedThroughMs: Type.Union([Type.Integer(), Type.Null()], {
    description: 'end of the last stored bar read (exclusive): later minutes are not in the store yet',
  }),
  truncated: Type.Boolean({ description: `true when the range held more than ${MAX_CANDLES} candles (the latest are returned)` }),
});

const DepthLevel = Type.Object({ pricePaise: Type.Integer(), quantity: Type.Integer(), orders: Type.Integer() });
const DepthResponse = Type.Object({
  symbol: Type.String(),
  atMs: Type.Union([Type.Integer(), Type.Null()]),
  levels: Type.Integer({ description: 'levels each side the feed gives: 5 in Kite full mode, 1 (best bid/ask) for the synthetic market, 0 without quotes' }),
  buy: Type.Array(DepthLevel),
  sell: Type.Array(DepthLevel),
});

const Figures = Type.Object({
  realisedPaise: Type.Integer(),
  unrealisedPaise: Type.Integer(),
  chargesPaise: Type.Integer(),
  netPnlPaise: Type.Integer(),
  turnoverPaise: Type.Integer(),
  fills: Type.Integer(),
  roundTrips: Type.Integer(),
  wins: Type.Integer(),
  winRate: Type.Union([Type.Number(), Type.Null()]),
  sharpe: Type.Union([Type.Number(), Type.Null()], { description: 'of daily net P&L, annualised (√252); null below two days' }),
  sortino: Type.Union([Type.Number(), Type.Null()]),
  maxDrawdownPaise: Type.Integer(),
  grossExposurePaise: Type.Integer(),
  netExposurePaise: Type.Integer(),
});
const Period = Type.Object({ period: Type.String(), netPnlPaise: Type.Integer(), fills: Type.Integer() });
const AnalyticsQuery = Type.Object({
  portfolioId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'default: the first portfolio' })),
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'fills executed at or after (epoch ms)' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'fills executed before (epoch ms)' })),
});
const AnalyticsResponse = Type.Object({
  portfolioId: Type.String(),
  atMs: Type.Integer({ description: 'market time of the marks' }),
  total: Figures,
  byStrategy: Type.Record(Type.String(), Figures),
  bySymbol: Type.Record(Type.String(), Figures),
  calendar: Type.Object({ daily: Type.Array(Period), weekly: Type.Array(Period), monthly: Type.Array(Period) }),
  equity: Type.Array(Type.Object({ atMs: Type.Integer(), equityPaise: Type.Integer() }), {
    description: 'initial cash + cumulative net P&L after each fill; the last point marks open positions now',
  }),
  initialCashPaise: Type.Integer(),
});

function unavailable(): ApiError {
  return new ApiError(503, 'unavailable', 'no database behind this gateway: history needs the time-series store and the trades table');
}

/** Marks of fills per candle and side, so two fills in one candle never draw two overlapping arrows. */
function markersOf(fills: readonly Fill[], symbol: string, timeframe: BarInterval, candles: readonly Static<typeof Candle>[]): Static<typeof Marker>[] {
  if (candles.length === 0) return [];
  const sizeMs = BAR_INTERVALS[timeframe] * 1000;
  const starts = candles.map((candle) => candle.startMs);
  const out = new Map<string, { startMs: number; side: 'BUY' | 'SELL'; quantity: number; fills: number; value: number }>();
  for (const fill of fills) {
    if (fill.symbol !== symbol) continue;
    // the candle holding the fill: the last one starting at or before it (candles have gaps between sessions)
    let low = 0;
    let high = starts.length - 1;
    if (fill.atMs < starts[0]! || fill.atMs >= starts[high]! + sizeMs) continue;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= fill.atMs) low = mid;
      else high = mid - 1;
    }
    const startMs = starts[low]!;
    const key = `${startMs}:${fill.side}`;
    const entry = out.get(key) ?? { startMs, side: fill.side, quantity: 0, fills: 0, value: 0 };
    entry.quantity += fill.quantity;
    entry.fills += 1;
    entry.value += fill.quantity * fill.pricePaise;
    out.set(key, entry);
  }
  return [...out.values()]
    .sort((a, b) => a.startMs - b.startMs || (a.side < b.side ? -1 : 1))
    .map(({ value, ...entry }) => ({ ...entry, averagePricePaise: Math.round(value / entry.quantity) }));
}

export function deskRoutes(app: GatewayInstance, ctx: GatewayContext, sources: DeskSources | undefined): Promise<void> {
  const { runtime } = ctx;
  const firstPortfolio = (): string => runtime.description.portfolioIds[0] ?? 'paper';
  const symbols = new Set(runtime.description.instruments.map((instrument) => instrument.symbol));

  app.get(
    '/api/v1/bars',
    marketRoute('viewer', {
      summary:
        "Candles of a symbol from the time-series store (1m, 5m, 15m, 1h from bars_1m; 1d from bars_1h; buckets from 09:15 IST), with the portfolio's fills as one marker per candle and side",
      querystring: BarsQuery,
      response: { 200: BarsResponse },
    }),
    async (request) => {
      if (!sources) throw unavailable();
      const query = request.query;
      const timeframe: BarInterval = query.timeframe ?? '1m';
      if (!symbols.has(query.symbol)) throw new ApiError(404, 'not-found', `no instrument "${query.symbol}" in this market`);
      const portfolioId = query.portfolioId ?? firstPortfolio();
      await ctx.authorizePortfolio(request, portfolioId, 'read', 'bars.read', query.symbol);
      const sizeMs = BAR_INTERVALS[timeframe] * 1000;
      const toMs = query.to ?? runtime.marketNowMs() + sizeMs;
      const fromMs = query.from ?? toMs - DEFAULT_CANDLES * sizeMs * (timeframe === '1d' ? 1 : 4);
      if (fromMs >= toMs)
        throw new ApiError(400, 'invalid-request', `from (${fromMs}) must be before to (${toMs})`, [
          { in: 'querystring', path: '/from', message: 'must be before to' },
        ]);
      const source = timeframe === '1d' ? 'bars_1h' : 'bars_1m';
      const stored = await sources.bars(query.symbol, source === 'bars_1h' ? '1h' : '1m', fromMs, toMs);
      const all = timeframe === '1m' ? stored : aggregateBars(stored, timeframe);
      const truncated = all.length > MAX_CANDLES;
      const candles = (truncated ? all.slice(-MAX_CANDLES) : all).map(({ startMs, openPaise, highPaise, lowPaise, closePaise, volume, tickCount }) => ({
        startMs,
        openPaise,
        highPaise,
        lowPaise,
        closePaise,
        volume,
        tickCount,
      }));
      const fills = candles.length === 0 ? [] : await sources.fills(portfolioId, candles[0]!.startMs, candles.at(-1)!.startMs + sizeMs);
      const lastStored = stored.at(-1);
      const storedThroughMs = lastStored ? lastStored.startMs + BAR_INTERVALS[lastStored.interval] * 1000 : null;
      return {
        symbol: query.symbol,
        timeframe,
        fromMs,
        toMs,
        source,
        candles,
        markers: markersOf(fills, query.symbol, timeframe, candles),
        storedThroughMs,
        truncated,
      };
    },
  );

  app.get(
    '/api/v1/market/depth/:symbol',
    marketRoute('viewer', {
      summary: 'The order book of a symbol as the feed gives it (five levels in Kite full mode; best bid and ask otherwise)',
      params: Type.Object({ symbol: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Z0-9&_.-]+$' }) }),
      response: { 200: DepthResponse },
    }),
    (request) => {
      const symbol = request.params.symbol;
      if (!symbols.has(symbol)) throw new ApiError(404, 'not-found', `no instrument "${symbol}" in this market`);
      const book = runtime.depth(symbol);
      return Promise.resolve({
        symbol,
        atMs: book?.atMs ?? null,
        levels: book ? Math.max(book.buy.length, book.sell.length) : 0,
        buy: [...(book?.buy ?? [])],
        sell: [...(book?.sell ?? [])],
      });
    },
  );

  app.get(
    '/api/v1/analytics',
    portfoliosRoute('viewer', {
      summary:
        'Performance of a portfolio from its durable fills, in total and per strategy and symbol: realised, unrealised and net P&L, charges, turnover, win rate, Sharpe, Sortino, max drawdown, exposure; daily/weekly/monthly P&L; the equity curve',
      querystring: AnalyticsQuery,
      response: { 200: AnalyticsResponse },
    }),
    async (request) => {
      if (!sources) throw unavailable();
      const portfolioId = request.query.portfolioId ?? firstPortfolio();
      const state = runtime.portfolios().find((reading) => reading.state.portfolioId === portfolioId)?.state;
      if (!state) throw new ApiError(404, 'not-found', `no portfolio "${portfolioId}"`);
      await ctx.authorizePortfolio(request, portfolioId, 'read', 'analytics.read', portfolioId);
      const fills = await sources.fills(portfolioId, request.query.from, request.query.to);
      const nowMs = runtime.marketNowMs();
      const lastPrices = new Map(runtime.quotes().map((quote) => [quote.symbol, quote.ltpPaise]));
      const report = performanceReport(fills, (symbol) => lastPrices.get(symbol), nowMs);
      const initialCashPaise = state.initialCashPaise;
      const plain = (figures: PerformanceFigures): PerformanceFigures => figures;
      return {
        portfolioId,
        atMs: nowMs,
        total: plain(report.total),
        byStrategy: report.byStrategy,
        bySymbol: report.bySymbol,
        calendar: { daily: [...report.calendar.daily], weekly: [...report.calendar.weekly], monthly: [...report.calendar.monthly] },
        equity: report.curve.map((point) => ({ atMs: point.atMs, equityPaise: initialCashPaise + point.netPnlPaise })),
        initialCashPaise,
      };
    },
  );
  return Promise.resolve();
}
