/**
 * A self-contained HTML report of a backtest: inline CSS, inline SVG charts drawn here, no
 * scripts, fonts or other outside resources. The bytes depend only on the result (no run
 * timestamps), so two runs give the same file.
 */
import {
  AUTO_SQUARE_OFF_REASON,
  formatInr,
  istDate,
  orderAveragePricePaise,
  paiseToRupeesForDisplay,
  paiseToRupeeString,
  type Fill,
  type Paise,
} from '../model/index.js';
import type { Bar } from '../model/market.js';
import type { BacktestResult } from './backtest.js';
import { drawdowns, type Attribution, type DailyEquity } from './metrics.js';
import { rejectionCounts, summariseRejections, type RejectedRow } from '../streams/sources/rejections.js';

/** Rejected rows shown by name in the report (every one is in result.json). */
export const REPORT_REJECTED_ROWS = 50;

/** The trades table stops here; the full list is in result.json. */
export const REPORT_TRADE_ROWS = 2000;

const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (x: number | null, digits = 2): string => (x === null ? '–' : `${x.toFixed(digits)}%`);
const num = (x: number | null, digits = 2): string => (x === null ? '–' : x.toFixed(digits));
const inr = (paise: Paise): string => esc(formatInr(paise));
const signClass = (x: number): string => (x > 0 ? 'pos' : x < 0 ? 'neg' : '');
const istTime = (ms: number): string => new Date(ms + 5.5 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');

const WIDTH = 1000;
const PAD = { left: 90, right: 16, top: 14, bottom: 28 };

/** Round axis values (steps of 1, 2 or 5 × 10^k) covering `[lo, hi]`: about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((factor) => factor * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let value = Math.ceil(lo / step) * step; value <= hi + step * 1e-9; value += step) ticks.push(Math.abs(value) < step * 1e-9 ? 0 : value);
  return ticks;
}

/** A line/area chart of one daily series as inline SVG. */
function lineChart(
  title: string,
  dates: readonly string[],
  values: readonly number[],
  options: { readonly height: number; readonly area?: boolean; readonly format: (v: number) => string; readonly colour: string },
): string {
  const h = options.height;
  if (values.length === 0) return `<p class="note">${esc(title)}: no data.</p>`;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (options.area) hi = Math.max(hi, 0);
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const x = (i: number): number => PAD.left + (values.length === 1 ? plotW / 2 : (i * plotW) / (values.length - 1));
  const y = (v: number): number => PAD.top + ((hi - v) * plotH) / (hi - lo);
  const f = (n: number): string => n.toFixed(1);
  const points = values.map((v, i) => `${f(x(i))},${f(y(v))}`).join(' ');
  const parts: string[] = [`<svg viewBox="0 0 ${WIDTH} ${h}" width="100%" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">`];
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="#131a22" stroke="#243040"/>`);
  for (const v of niceTicks(lo, hi, 4)) {
    const yy = f(y(v));
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${yy}" y2="${yy}" stroke="#1e2732"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" class="axis">${esc(options.format(v))}</text>`);
  }
  const ticks = Math.min(6, dates.length);
  for (let k = 0; k < ticks; k += 1) {
    const i = ticks === 1 ? 0 : Math.round((k * (dates.length - 1)) / (ticks - 1));
    const anchor = ticks > 1 && k === 0 ? 'start' : ticks > 1 && k === ticks - 1 ? 'end' : 'middle';
    parts.push(`<text x="${f(x(i))}" y="${h - 8}" text-anchor="${anchor}" class="axis">${esc(dates[i] ?? '')}</text>`);
  }
  if (options.area) {
    parts.push(
      `<polygon points="${f(x(0))},${f(y(0))} ${points} ${f(x(values.length - 1))},${f(y(0))}" fill="${options.colour}" fill-opacity="0.25" stroke="none"/>`,
    );
  }
  parts.push(`<polyline points="${points}" fill="none" stroke="${options.colour}" stroke-width="1.5"/>`);
  parts.push('</svg>');
  return `<h3>${esc(title)}</h3>\n${parts.join('\n')}`;
}

/** Points a price chart draws at most (closes are sampled evenly beyond it). */
const PRICE_POINTS = 1_000;

/**
 * The price of one symbol (bar closes, sampled to at most {@link PRICE_POINTS}) with its fills as
 * markers: one per drawn point and side (buys ▲ below the line, sells ▼ above), so markers never
 * pile up; the text says how many fills and units each stands for.
 */
export function priceChart(
  symbol: string,
  bars: readonly Bar[],
  fills: readonly { readonly atMs: number; readonly side: string; readonly quantity: number }[],
): string {
  if (bars.length === 0) return `<p class="note">${esc(symbol)}: no bars.</p>`;
  const stride = Math.ceil(bars.length / PRICE_POINTS);
  const sampled = bars.filter((_, index) => index % stride === 0 || index === bars.length - 1);
  const values = sampled.map((bar) => paiseToRupeesForDisplay(bar.closePaise));
  const h = 280;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const margin = (hi - lo) * 0.08 || 1;
  lo -= margin;
  hi += margin;
  const x = (i: number): number => PAD.left + (sampled.length === 1 ? plotW / 2 : (i * plotW) / (sampled.length - 1));
  const y = (v: number): number => PAD.top + ((hi - v) * plotH) / (hi - lo);
  const f = (n: number): string => n.toFixed(1);
  const parts: string[] = [
    `<svg viewBox="0 0 ${WIDTH} ${h}" width="100%" role="img" aria-label="${esc(symbol)} price with fills" xmlns="http://www.w3.org/2000/svg">`,
  ];
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="#131a22" stroke="#243040"/>`);
  for (const v of niceTicks(lo, hi, 5)) {
    const yy = f(y(v));
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${yy}" y2="${yy}" stroke="#1e2732"/>`);
    parts.push(
      `<text x="${PAD.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" class="axis">${esc(v.toLocaleString('en-IN', { maximumFractionDigits: 2 }))}</text>`,
    );
  }
  const ticks = Math.min(6, sampled.length);
  for (let k = 0; k < ticks; k += 1) {
    const i = ticks === 1 ? 0 : Math.round((k * (sampled.length - 1)) / (ticks - 1));
    const anchor = ticks > 1 && k === 0 ? 'start' : ticks > 1 && k === ticks - 1 ? 'end' : 'middle';
    parts.push(`<text x="${f(x(i))}" y="${h - 8}" text-anchor="${anchor}" class="axis">${esc(istDate(sampled[i]!.startMs))}</text>`);
  }
  parts.push(`<polyline points="${values.map((v, i) => `${f(x(i))},${f(y(v))}`).join(' ')}" fill="none" stroke="#4da3ff" stroke-width="1.2"/>`);
  // each fill to the drawn point at or before it, then one marker per point and side
  const groups = new Map<string, { index: number; buy: boolean; fills: number; quantity: number }>();
  for (const fill of fills) {
    let low = 0;
    let high = sampled.length - 1;
    if (fill.atMs < sampled[0]!.startMs) continue;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (sampled[mid]!.startMs <= fill.atMs) low = mid;
      else high = mid - 1;
    }
    const buy = fill.side === 'BUY';
    const key = `${low}:${buy ? 'B' : 'S'}`;
    const group = groups.get(key) ?? { index: low, buy, fills: 0, quantity: 0 };
    group.fills += 1;
    group.quantity += fill.quantity;
    groups.set(key, group);
  }
  for (const group of [...groups.values()].sort((a, b) => a.index - b.index || Number(a.buy) - Number(b.buy))) {
    const cx = x(group.index);
    const cy = y(values[group.index]!);
    const path = group.buy ? `M${f(cx)},${f(cy + 6)} l5,9 l-10,0 z` : `M${f(cx)},${f(cy - 6)} l5,-9 l-10,0 z`;
    parts.push(
      `<path d="${path}" fill="${group.buy ? '#3fb97a' : '#f0645c'}"><title>${group.buy ? 'Bought' : 'Sold'} ${group.quantity} in ${group.fills} fill${group.fills === 1 ? '' : 's'}</title></path>`,
    );
  }
  parts.push('</svg>');
  return `<h3>${esc(symbol)}: close and fills (▲ buys, ▼ sells)</h3>\n${parts.join('\n')}`;
}

/** Price charts of the (at most three) symbols with the most fills. */
function priceSection(result: BacktestResult, bars: ReadonlyMap<string, readonly Bar[]> | undefined): string {
  if (bars === undefined) return '';
  const counts = new Map<string, number>();
  for (const fill of result.fills) counts.set(fill.symbol, (counts.get(fill.symbol) ?? 0) + 1);
  const symbols = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 3)
    .map(([symbol]) => symbol);
  if (symbols.length === 0) return '';
  return [
    '<h2>Prices and trades</h2>',
    `<p class="note">The ${symbols.length} most traded symbol${symbols.length === 1 ? '' : 's'}; a marker stands for every fill of its side at that point of the line (hover for the count).</p>`,
    ...symbols.map((symbol) =>
      priceChart(
        symbol,
        bars.get(symbol) ?? [],
        result.fills.filter((fill) => fill.symbol === symbol),
      ),
    ),
  ].join('\n');
}

function table(headers: readonly string[], rows: readonly string[][], numericFrom = 1): string {
  const head = headers.map((h, i) => `<th${i >= numericFrom ? ' class="n"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((row) => `<tr>${row.map((cell, i) => (i >= numericFrom ? `<td class="n">${cell}</td>` : `<td>${cell}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function attributionTable(label: string, rows: Readonly<Record<string, Attribution>>): string {
  const entries = Object.entries(rows);
  if (entries.length === 0) return '<p class="note">No fills.</p>';
  return table(
    [label, 'Realised', 'Unrealised', 'Charges', 'Net P&L', 'Fills', 'Traded value'],
    entries.map(([name, a]) => [
      esc(name),
      inr(a.realisedPaise),
      inr(a.unrealisedPaise),
      inr(a.chargesPaise),
      `<span class="${signClass(a.netPnlPaise)}">${inr(a.netPnlPaise)}</span>`,
      String(a.fills),
      inr(a.tradedValuePaise),
    ]),
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function monthlyTable(result: BacktestResult): string {
  const byYear = new Map<string, Map<number, number>>();
  for (const m of result.metrics.monthlyReturns) {
    const year = m.month.slice(0, 4);
    let row = byYear.get(year);
    if (!row) byYear.set(year, (row = new Map<number, number>()));
    row.set(Number(m.month.slice(5, 7)) - 1, m.returnPct);
  }
  if (byYear.size === 0) return '<p class="note">No complete days.</p>';
  // the year's return compounds its months
  const rows = [...byYear.entries()].map(([year, months]) => {
    const cells = MONTHS.map((_, i) => {
      const r = months.get(i);
      return r === undefined ? '' : `<span class="${signClass(r)}">${r.toFixed(2)}</span>`;
    });
    const yearReturn = ([...months.values()].reduce((acc, r) => acc * (1 + r / 100), 1) - 1) * 100;
    return [year, ...cells, `<b class="${signClass(yearReturn)}">${yearReturn.toFixed(2)}</b>`];
  });
  return table(['Year', ...MONTHS, 'Year'], rows);
}

/** What a row of the trades and square-off tables shows: a fill, or an order with its average price and its fills' charges. */
type TradeRow = Pick<Fill, 'atMs' | 'symbol' | 'side' | 'product' | 'quantity' | 'pricePaise' | 'chargesPaise' | 'strategyId'>;

/** The cells of a trade row, in the tables' column order (time, symbol, side, product, quantity, price, charges, strategy). */
function tradeCells(trade: TradeRow): string[] {
  return [
    esc(istTime(trade.atMs)),
    esc(trade.symbol),
    `<span class="${trade.side === 'BUY' ? 'pos' : 'neg'}">${trade.side}</span>`,
    esc(trade.product),
    String(trade.quantity),
    esc(paiseToRupeeString(trade.pricePaise)),
    inr(trade.chargesPaise),
    esc(trade.strategyId),
  ];
}

function tradesTable(result: BacktestResult): string {
  const fills = result.fills;
  const shown = fills.slice(0, REPORT_TRADE_ROWS);
  const rows = shown.map(tradeCells);
  const note =
    fills.length > shown.length
      ? `<p class="note">Showing the first ${shown.length.toLocaleString('en-US')} of ${fills.length.toLocaleString('en-US')} fills; every fill is in result.json.</p>`
      : '';
  if (fills.length === 0) return '<p class="note">No trades.</p>';
  return `${note}\n${table(['Time (IST)', 'Symbol', 'Side', 'Product', 'Qty', 'Price (₹)', 'Charges', 'Strategy'], rows, 4)}`;
}

/** Every file and the first rows the data reader left out; nothing when the data were clean. */
function rejectedSection(rejected: readonly RejectedRow[]): string {
  if (rejected.length === 0) return '';
  const summary = summariseRejections(rejected, REPORT_REJECTED_ROWS);
  const rows = summary.examples.map((r) => [esc(r.file), r.line > 0 ? String(r.line) : 'whole file', esc(r.reason)]);
  const more =
    summary.moreRows > 0
      ? `<p class="note">… and ${summary.moreRows.toLocaleString('en-US')} more rejected rows; every one is in result.json (<code>meta.rejectedRows</code>).</p>`
      : '';
  return [
    `<h2 class="warn">Rejected input: ${esc(rejectionCounts(summary))} left out</h2>`,
    '<p class="note">These files or rows of the data were not replayed (run with <code>--strict</code> to refuse such data).</p>',
    table(['File', 'Line', 'Reason'], rows, 3),
    more,
  ].join('\n');
}

/** The broker's MIS square-off orders (reason `auto-square-off`), one row per order with its fills' charges. */
function squareOffSection(result: BacktestResult): string {
  const sq = result.summary.autoSquareOff;
  const head = `<h2>Auto square-off by the broker (${sq.orders})</h2>`;
  if (sq.orders === 0) return `${head}\n<p class="note">No MIS position was open at the 15:20 IST cut-off: the broker squared off nothing.</p>`;
  const charges = new Map<string, number>();
  for (const fill of result.fills) charges.set(fill.clientOrderId, (charges.get(fill.clientOrderId) ?? 0) + fill.chargesPaise);
  const orders = result.orders.filter((order) => order.reason === AUTO_SQUARE_OFF_REASON);
  const shown = orders.slice(0, REPORT_TRADE_ROWS);
  const rows = shown.map((order) =>
    tradeCells({
      atMs: order.createdAtMs,
      symbol: order.symbol,
      side: order.side,
      product: order.product,
      quantity: order.filledQuantity,
      pricePaise: orderAveragePricePaise(order),
      chargesPaise: charges.get(order.clientOrderId) ?? 0,
      strategyId: order.strategyId,
    }),
  );
  const note = `<p class="note">The broker's safety net (Zerodha's rule, kite-reference §9): MIS positions still open at the intraday cut-off are closed at market in orders of at most 30,000 units, each charged the call-and-trade fee (₹50 + 18% GST) on top of the normal charges. ${sq.orders} orders, ${sq.quantity.toLocaleString('en-US')} units, charges ${inr(sq.chargesPaise)} of which call-and-trade ${inr(sq.callAndTradePaise)}.${orders.length > shown.length ? ` Showing the first ${shown.length.toLocaleString('en-US')}; every order is in result.json.` : ''}</p>`;
  return `${head}\n${note}\n${table(['Time (IST)', 'Symbol', 'Side', 'Product', 'Qty', 'Avg price (₹)', 'Charges', 'Strategy'], rows, 4)}`;
}

/** The desk's dark theme (ui/src/styles.css): the same background, panels, lines and colours. */
const CSS = `
:root{color-scheme:dark}
body{font:14px/1.45 'Inter','Segoe UI',system-ui,-apple-system,sans-serif;color:#d8dee6;background:#0c1016;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #243040;padding-bottom:4px}h3{font-size:15px;margin:16px 0 4px;color:#8593a3}
.sub{color:#8593a3;margin:0 0 12px}.note{color:#8593a3;font-size:13px}code{color:#d8dee6}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px}
.card{border:1px solid #243040;border-radius:8px;padding:8px 10px;background:#131a22}.card .k{color:#8593a3;font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .v{font-size:17px;font-weight:600}
.scroll{max-height:640px;overflow:auto;border:1px solid #243040;border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}th,td{padding:3px 8px;border-bottom:1px solid #1e2732;text-align:left}
th{background:#131a22;color:#8593a3;font-weight:500;position:sticky;top:0}.n{text-align:right;font-variant-numeric:tabular-nums}
.pos{color:#3fb97a}.neg{color:#f0645c}.axis{font-size:11px;fill:#8593a3}.warn{color:#f0645c}
`;

function card(key: string, value: string, cls = ''): string {
  return `<div class="card"><div class="k">${esc(key)}</div><div class="v ${cls}">${value}</div></div>`;
}

/** Extra inputs of the report: the replayed bars (for the price charts; without them there are none). */
export interface ReportInputs {
  readonly bars?: ReadonlyMap<string, readonly Bar[]>;
}

export function renderReport(result: BacktestResult, inputs: ReportInputs = {}): string {
  const { meta, metrics: m, summary: s } = result;
  const equity: readonly DailyEquity[] = result.equity;
  const dates = equity.map((d) => d.date);
  const dd = drawdowns(s.initialCashPaise, equity);
  const span = equity.length > 0 ? `${equity[0]!.date} to ${equity.at(-1)!.date}` : 'no days';
  const cards = [
    card('Net P&L', inr(s.netPnlPaise), signClass(s.netPnlPaise)),
    card('Final equity', inr(s.equityPaise)),
    card('Total return', pct(m.totalReturnPct), signClass(m.totalReturnPct ?? 0)),
    card('CAGR', pct(m.cagrPct), signClass(m.cagrPct ?? 0)),
    card('Sharpe', num(m.sharpe)),
    card('Sortino', num(m.sortino)),
    card('Max drawdown', `${inr(m.maxDrawdownPaise)} (${pct(m.maxDrawdownPct)})`, m.maxDrawdownPaise > 0 ? 'neg' : ''),
    card('Win rate', `${pct(m.winRatePct, 1)} of ${m.roundTrips}`),
    card('Average win', inr(m.averageWinPaise), 'pos'),
    card('Average loss', inr(m.averageLossPaise), 'neg'),
    card('Trades (fills)', String(m.trades)),
    card('Turnover', `${inr(m.turnoverPaise)} (${num(m.turnoverRatio)}×)`),
    card('Charges paid', inr(m.chargesPaise)),
    card('Realised / unrealised', `${inr(s.realisedPaise)} / ${inr(s.unrealisedPaise)}`),
    card('Orders / refused by risk', `${s.orders} / ${s.rejectedIntents}`),
    card('Auto square-off orders', `${s.autoSquareOff.orders} (${inr(s.autoSquareOff.callAndTradePaise)} fees)`, s.autoSquareOff.orders > 0 ? 'neg' : ''),
    card('Days', String(m.days)),
  ].join('\n');
  const firstTick = meta.firstTickMs === null ? '–' : istDate(meta.firstTickMs);
  const lastTick = meta.lastTickMs === null ? '–' : istDate(meta.lastTickMs);
  const html = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Backtest: ${esc(meta.strategy)} on ${meta.symbols.length} symbols</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>Backtest: ${esc(meta.strategy)}</h1>`,
    `<p class="sub">${meta.symbols.length} symbols (${esc(meta.symbols.join(', '))}), ${meta.interval} bars, ${meta.bars.toLocaleString('en-US')} bars / ${meta.ticks.toLocaleString('en-US')} ticks, ${esc(firstTick)} to ${esc(lastTick)} IST; starting cash ${inr(s.initialCashPaise)}.</p>`,
    `<p class="note">Config: <code>${esc(JSON.stringify(meta.config))}</code>. ${esc(meta.note)}</p>`,
    `<p class="note">${esc(meta.fillModel.charAt(0).toUpperCase() + meta.fillModel.slice(1))}</p>`,
    ...(meta.offCalendarBars.count > 0
      ? [
          `<p class="note"><strong>${meta.offCalendarBars.count.toLocaleString('en-US')} bar day(s) on days the NSE was closed</strong> (replayed anyway), e.g. ${meta.offCalendarBars.examples.map((warning) => `${esc(warning.file)}:${warning.line}: ${esc(warning.reason)}`).join('; ')}.</p>`,
        ]
      : []),
    ...(meta.rejectedRows.length > 0 ? [rejectedSection(meta.rejectedRows)] : []),
    '<h2>Summary</h2>',
    `<div class="cards">\n${cards}\n</div>`,
    `<p class="note">Daily figures use end-of-IST-day equity (${esc(span)}). CAGR and ratios annualise over ${m.tradingDaysPerYear.toLocaleString('en-US')} trading days a year (the mean of the NSE calendar's years in the span), risk-free rate 0. Win rate counts closed round trips (flat to flat, net of charges); ${m.openRoundTrips} still open at the end.${m.maxDrawdownPeakDate && m.maxDrawdownTroughDate ? ` Largest drawdown: ${esc(m.maxDrawdownPeakDate)} to ${esc(m.maxDrawdownTroughDate)}.` : ''}</p>`,
    '<h2>Equity and drawdown</h2>',
    lineChart(
      'Equity (₹, end of day)',
      dates,
      equity.map((d) => paiseToRupeesForDisplay(d.equityPaise)),
      { height: 300, colour: '#4da3ff', format: (v) => Math.round(v).toLocaleString('en-IN') },
    ),
    lineChart(
      'Drawdown (%)',
      dates,
      dd.map((d) => -d.drawdownPct),
      { height: 180, area: true, colour: '#f0645c', format: (v) => `${v.toFixed(2)}%` },
    ),
    priceSection(result, inputs.bars),
    '<h2>Monthly returns (%)</h2>',
    monthlyTable(result),
    '<h2>Attribution by strategy</h2>',
    attributionTable('Strategy', m.byStrategy),
    '<h2>Attribution by symbol</h2>',
    attributionTable('Symbol', m.bySymbol),
    squareOffSection(result),
    `<h2>Trades (${m.trades})</h2>`,
    `<div class="scroll">${tradesTable(result)}</div>`,
    '</body>',
    '</html>',
    '',
  ];
  return html.join('\n');
}
