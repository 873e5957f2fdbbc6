import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defer, type Observable, type SchedulerLike } from 'rxjs';
import { nseEquity, nseTickSizePaise, priceBand, roundToTick, syntheticToken, type Instrument } from '../../model/instrument.js';
import { BAR_INTERVALS, type Bar, type BarInterval, type Tick } from '../../model/market.js';
import { parseRupees, type Paise } from '../../model/money.js';
import { closedReason, describeClosure, hasSession } from '../../model/calendar.js';
import { DAY_MS, IST_OFFSET_MS, MINUTE_MS, NSE_CLOSE_MINUTE, NSE_OPEN_MINUTE, istDate, istDayStartMs } from '../../model/time.js';
import { pumpBatches } from './pump.js';
import type { RejectedRow } from './rejections.js';

/** The bar-file layouts Troupe reads (see ../shared/data/README.md). */
export type BarsFileLayout =
  /** Kite historical candles: `timestamp,open,high,low,close,volume,oi`, timestamps with offset (IST). */
  | 'kite-candles'
  /** Three header lines (`Price,Close,High,Low,Open,Volume` / `Ticker,…` / `Datetime,,,,,`), UTC timestamps. */
  | 'price-ticker-datetime'
  /** `Date, Open, High, Low, Close, Volume` with naive IST timestamps; rows may be out of order. */
  | 'date-ohlcv';

export type { RejectedRow } from './rejections.js';

/**
 * A bar kept although the NSE held no session on its IST date (a trading holiday, or a
 * weekend without a listed special session: `src/model/calendar.ts`). Such bars are replayed
 * (the data may know of a session the calendar does not) but counted and reported.
 */
export interface CalendarWarning {
  readonly file: string;
  /** 1-based line number in the file (0 when the bars did not come from a file). */
  readonly line: number;
  readonly symbol: string;
  /** IST date of the bar, YYYY-MM-DD. */
  readonly date: string;
  readonly reason: string;
}

/** The warning for a bar on a day without an NSE session, or undefined when the day had one. */
export function offCalendarWarning(file: string, line: number, symbol: string, startMs: number): CalendarWarning | undefined {
  const date = istDate(startMs);
  if (hasSession(date)) return undefined;
  const closure = closedReason(date);
  return { file, line, symbol, date, reason: `${closure ? describeClosure(closure) : `no NSE session on ${date}`}; the bar is replayed anyway` };
}

/** A file whose header is not one of the known layouts. */
export class BarsFileError extends Error {
  constructor(
    readonly file: string,
    /** Why, without the file name. */
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'BarsFileError';
  }
}

/** Options of {@link parseBarsCsv} and {@link readBarsFile}. */
export interface ReadBarsOptions {
  /**
   * Tick grid to round to. Default: the NSE tick size of the first selected bar's open, or
   * a finer NSE tick when every price already sits on it (historical tick tables differ).
   */
  readonly instrument?: Instrument;
  /** Bar interval; default: inferred from the spacing of the timestamps, else from the layout. */
  readonly interval?: BarInterval;
  /** Keep bars with `startMs >= fromMs`. */
  readonly fromMs?: number;
  /** Keep bars with `startMs < toMs`. */
  readonly toMs?: number;
  /** Called for every skipped row, in line order, once the file is parsed. */
  readonly onRejected?: (rejection: RejectedRow) => void;
}

/** The result of parsing one bars file. */
export interface ParsedBars {
  readonly layout: BarsFileLayout;
  readonly interval: BarInterval;
  /** Valid bars in time order, prices on the tick grid. */
  readonly bars: Bar[];
  readonly rejected: RejectedRow[];
  /** Kept bars dated on days without an NSE session, in line order. */
  readonly warnings: CalendarWarning[];
  /** Data rows read (blank lines aside), valid or not. */
  readonly rows: number;
  /** The tick size the prices were rounded to. */
  readonly tickSizePaise: Paise;
}

interface ColumnMap {
  /** Cells in the header: every data row must have exactly as many. */
  readonly cells: number;
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

interface RawRow {
  readonly line: number;
  readonly startMs: number;
  readonly open: Paise;
  readonly high: Paise;
  readonly low: Paise;
  readonly close: Paise;
  readonly volume: number;
}

const LAYOUT_DEFAULT_INTERVAL: Record<BarsFileLayout, BarInterval> = {
  'kite-candles': '1d',
  'price-ticker-datetime': '5m',
  'date-ohlcv': '1m',
};

/**
 * Parses the text of a bars file. The layout is detected from the header. Prices are parsed
 * exactly from the decimal text with `parseRupees` (float noise such as 1319.9000244140625
 * goes at the paisa) and rounded to the tick grid with `roundToTick`; rows are sorted by
 * time. A bad row (not as many cells as the header, unparsable number or time, duplicate time,
 * high below max(open, close), low above min(open, close), non-positive price, negative or
 * fractional volume) is reported with its line and skipped. Throws {@link BarsFileError}
 * only when the header is not a known layout.
 */
export function parseBarsCsv(text: string, file: string, symbol: string, options: ReadBarsOptions = {}): ParsedBars {
  const lines = text.split(/\r?\n/);
  const rejected: RejectedRow[] = [];
  const reject = (line: number, reason: string): void => {
    rejected.push({ file, line, reason });
  };
  const { layout, columns, firstDataLine } = detectLayout(lines, file);
  const naiveTimesAreIst = layout === 'date-ohlcv';

  const rows: RawRow[] = [];
  let dataRows = 0;
  for (let index = firstDataLine; index < lines.length; index += 1) {
    const lineText = lines[index]!;
    if (lineText.trim() === '') continue;
    dataRows += 1;
    const line = index + 1;
    const cells = lineText.split(',').map((cell) => cell.trim());
    if (cells.length !== columns.cells) {
      // a short or long row has lost or gained a cell somewhere: which value is which is unknown
      reject(line, `expected ${columns.cells} cells as in the header, got ${cells.length}`);
      continue;
    }
    const startMs = parseTimestamp(cells[columns.time]!, naiveTimesAreIst);
    if (startMs === undefined) {
      reject(line, `timestamp not recognised: "${cells[columns.time]}"`);
      continue;
    }
    const prices: Paise[] = [];
    let priceError: string | undefined;
    for (const [name, column] of [
      ['open', columns.open],
      ['high', columns.high],
      ['low', columns.low],
      ['close', columns.close],
    ] as const) {
      const cell = cells[column]!;
      try {
        prices.push(parseRupees(cell));
      } catch {
        priceError = `${name} is not a decimal rupee amount: "${cell}"`;
        break;
      }
    }
    if (priceError !== undefined) {
      reject(line, priceError);
      continue;
    }
    const volume = parseVolume(cells[columns.volume]!);
    if (volume === undefined) {
      reject(line, `volume must be a non-negative integer, got "${cells[columns.volume]}"`);
      continue;
    }
    const [open, high, low, close] = prices as [Paise, Paise, Paise, Paise];
    const invalid = checkBar(open, high, low, close);
    if (invalid !== undefined) {
      reject(line, invalid);
      continue;
    }
    rows.push({ line, startMs, open, high, low, close, volume });
  }

  rows.sort((a, b) => a.startMs - b.startMs || a.line - b.line);
  const unique: RawRow[] = [];
  for (const row of rows) {
    const previous = unique[unique.length - 1];
    if (previous !== undefined && previous.startMs === row.startMs) {
      reject(row.line, `duplicate timestamp (same as line ${previous.line})`);
      continue;
    }
    unique.push(row);
  }

  const interval = options.interval ?? inferInterval(unique) ?? LAYOUT_DEFAULT_INTERVAL[layout];
  const fromMs = options.fromMs ?? Number.NEGATIVE_INFINITY;
  const toMs = options.toMs ?? Number.POSITIVE_INFINITY;
  const selected = unique.filter((row) => row.startMs >= fromMs && row.startMs < toMs);
  const tickSizePaise = options.instrument?.tickSizePaise ?? dataTickSize(selected);
  const bars = selected.map((row): Bar => ({
    type: 'bar',
    symbol,
    interval,
    startMs: row.startMs,
    openPaise: roundToTick(row.open, tickSizePaise),
    highPaise: roundToTick(row.high, tickSizePaise),
    lowPaise: roundToTick(row.low, tickSizePaise),
    closePaise: roundToTick(row.close, tickSizePaise),
    volume: row.volume,
    tickCount: 0,
  }));
  // Rounding to the nearest tick is monotone, so the OHLC relations checked above still hold.
  rejected.sort((a, b) => a.line - b.line);
  if (options.onRejected) for (const rejection of rejected) options.onRejected(rejection);
  const warnings: CalendarWarning[] = [];
  let lastDate = '';
  for (const row of selected) {
    const date = istDate(row.startMs);
    if (date === lastDate) continue; // one warning per day of a file (intraday files have many bars a day)
    lastDate = date;
    const warning = offCalendarWarning(file, row.line, symbol, row.startMs);
    if (warning) warnings.push(warning);
  }
  return { layout, interval, bars, rejected, warnings, rows: dataRows, tickSizePaise };
}

/**
 * Reads one bars file (see {@link parseBarsCsv}). Skipped rows go to `options.onRejected`.
 * Rejects the promise only for I/O errors and unknown layouts.
 */
export async function readBarsFile(path: string, symbol: string, options: ReadBarsOptions = {}): Promise<Bar[]> {
  const text = await readFile(path, 'utf8');
  return parseBarsCsv(text, path, symbol, options).bars;
}

/** Options of {@link readDataFolder}. */
export interface ReadDataFolderOptions {
  /** Only these symbols (file names without `.csv`); default every `*.csv` file. */
  readonly symbols?: readonly string[];
  /** Keep bars with `startMs >= from` (epoch ms). */
  readonly from?: number;
  /** Keep bars with `startMs < to` (epoch ms). */
  readonly to?: number;
}

/** Bars read from a folder of per-symbol CSV files, ready for replay. */
export interface DataFolder {
  /** Sorted by symbol; token = `syntheticToken(index)`. */
  readonly instruments: Instrument[];
  readonly bars: Map<string, Bar[]>;
  readonly interval: BarInterval;
  readonly rejected: RejectedRow[];
  /** Bars on days without an NSE session (kept, reported): see {@link CalendarWarning}. */
  readonly warnings: CalendarWarning[];
}

/** A data folder that cannot be read at all (missing, not a folder, unreadable). */
export class DataFolderError extends Error {
  constructor(
    readonly dir: string,
    message: string,
  ) {
    super(message);
    this.name = 'DataFolderError';
  }
}

/** The symbols of a data folder: its `*.csv` files without the extension, sorted. Throws {@link DataFolderError}. */
export async function dataFolderSymbols(dir: string): Promise<string[]> {
  return [...(await csvFiles(dir)).keys()].sort(compareSymbols);
}

async function csvFiles(dir: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such folder'
        : code === 'ENOTDIR'
          ? 'not a folder (give the folder that holds the SYMBOL.csv files)'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new DataFolderError(dir, `cannot read the data folder ${dir}: ${why}`);
  }
  const entries = names.filter((name) => name.toLowerCase().endsWith('.csv'));
  return new Map(entries.map((name) => [name.slice(0, -4), name]));
}

/**
 * Reads every `SYMBOL.csv` of a folder. Instruments are NSE equities with deterministic
 * tokens by sorted symbol index and reference price = the first selected bar's open. One
 * instrument serves the whole span of the data, so its daily band (20 % by default) is
 * widened when the data leave it (a live feed re-references the band each session).
 * Bad rows are reported in `rejected` with their line; a whole file is reported at line 0
 * when it is left out: an unknown header, no data rows, no valid row, no bar in the dates
 * asked, or a different interval than the first file; a requested symbol without a file
 * likewise. Throws {@link DataFolderError} when the folder cannot be read.
 */
export async function readDataFolder(dir: string, options: ReadDataFolderOptions = {}): Promise<DataFolder> {
  const available = await csvFiles(dir);
  const rejected: RejectedRow[] = [];
  const wanted = options.symbols ? [...new Set(options.symbols)] : [...available.keys()];
  wanted.sort(compareSymbols);

  const parsed: Array<{ readonly symbol: string; readonly result: ParsedBars }> = [];
  for (const symbol of wanted) {
    const fileName = available.get(symbol);
    if (fileName === undefined) {
      rejected.push({ file: join(dir, `${symbol}.csv`), line: 0, reason: 'no such file' });
      continue;
    }
    const file = join(dir, fileName);
    const text = await readFile(file, 'utf8');
    try {
      const result = parseBarsCsv(text, file, symbol, {
        ...(options.from === undefined ? {} : { fromMs: options.from }),
        ...(options.to === undefined ? {} : { toMs: options.to }),
      });
      rejected.push(...result.rejected);
      const empty = emptyFileReason(result, options);
      if (empty === undefined) parsed.push({ symbol, result });
      else rejected.push({ file, line: 0, reason: empty });
    } catch (error: unknown) {
      if (!(error instanceof BarsFileError)) throw error;
      rejected.push({ file, line: 0, reason: error.reason });
    }
  }

  const interval = parsed[0]?.result.interval ?? '1d';
  const instruments: Instrument[] = [];
  const bars = new Map<string, Bar[]>();
  const warnings: CalendarWarning[] = [];
  for (const { symbol, result } of parsed) {
    if (result.interval !== interval) {
      rejected.push({ file: join(dir, available.get(symbol) ?? symbol), line: 0, reason: `interval ${result.interval} differs from ${interval}` });
      continue;
    }
    warnings.push(...result.warnings);
    const first = result.bars[0]!; // files without bars were left out above
    const seriesBars = result.bars;
    const instrument = instrumentForBars(symbol, syntheticToken(instruments.length), first.openPaise, result.tickSizePaise, seriesBars);
    instruments.push(instrument);
    bars.set(symbol, seriesBars);
  }
  return { instruments, bars, interval, rejected, warnings };
}

/** Why a parsed file gives nothing to replay, or undefined when it has bars. */
function emptyFileReason(result: ParsedBars, options: ReadDataFolderOptions): string | undefined {
  if (result.bars.length > 0) return undefined;
  if (result.rows === 0) return 'no data rows (the file has a header only)';
  if (result.rejected.length === result.rows) return `no valid row (all ${result.rows} rejected)`;
  const range = [
    options.from === undefined ? undefined : `from ${istDate(options.from)}`,
    options.to === undefined ? undefined : `before ${istDate(options.to)}`,
  ]
    .filter(Boolean)
    .join(' ');
  return `no bar in the dates asked${range === '' ? '' : ` (${range})`}`;
}

/**
 * Replay data from bars that are already on their tick grid (from the time-series store, a
 * cut of a {@link DataFolder}, or made in memory), with the instruments `readDataFolder`
 * would make of the same bars: sorted by symbol, tokens by index, reference price the first
 * open, the finest NSE tick the prices sit on, the band widened to hold every bar. Symbols
 * without bars are left out. Bars on days without an NSE session are reported in `warnings`
 * (found here, one per symbol and day, unless `warnings` is given: a cut of data read from files).
 */
export function replayDataFromBars(
  series: ReadonlyMap<string, readonly Bar[]>,
  interval: BarInterval,
  rejected: readonly RejectedRow[] = [],
  warnings?: readonly CalendarWarning[],
): DataFolder {
  const instruments: Instrument[] = [];
  const bars = new Map<string, Bar[]>();
  const found: CalendarWarning[] = [];
  for (const symbol of [...series.keys()].sort(compareSymbols)) {
    const list = [...(series.get(symbol) ?? [])];
    const first = list[0];
    if (first === undefined) continue;
    if (warnings === undefined) {
      let lastDate = '';
      for (const bar of list) {
        const date = istDate(bar.startMs);
        if (date === lastDate) continue;
        lastDate = date;
        const warning = offCalendarWarning(symbol, 0, symbol, bar.startMs);
        if (warning) found.push(warning);
      }
    }
    const tickSizePaise = dataTickSize(
      list.map((bar) => ({
        line: 0,
        startMs: bar.startMs,
        open: bar.openPaise,
        high: bar.highPaise,
        low: bar.lowPaise,
        close: bar.closePaise,
        volume: bar.volume,
      })),
    );
    instruments.push(instrumentForBars(symbol, syntheticToken(instruments.length), first.openPaise, tickSizePaise, list));
    bars.set(symbol, list);
  }
  return { instruments, bars, interval, rejected: [...rejected], warnings: warnings === undefined ? found : [...warnings] };
}

function instrumentForBars(symbol: string, token: number, referencePricePaise: Paise, tickSizePaise: Paise, bars: readonly Bar[]): Instrument {
  let highest = referencePricePaise;
  let lowest = referencePricePaise;
  for (const bar of bars) {
    if (bar.highPaise > highest) highest = bar.highPaise;
    if (bar.lowPaise < lowest) lowest = bar.lowPaise;
  }
  let percent = 20;
  for (;;) {
    const instrument = nseEquity(symbol, token, referencePricePaise, { tickSizePaise, priceBandPercent: percent });
    const band = priceBand(instrument);
    if (band.lowerPaise <= lowest && band.upperPaise >= highest) return instrument;
    percent += 5;
  }
}

const NSE_TICK_SIZES_DESCENDING: readonly Paise[] = [500, 100, 50, 10, 5, 1];

/**
 * The tick grid of a file's prices: the NSE tick size of the first open, or a finer NSE
 * tick when the data sit on one (older data predate today's tick table: RELIANCE at
 * ₹1,060.55 in 2020 traded in 5 paise, today's table says 10). Prices that sit on no grid
 * coarser than a paisa get 1.
 */
function dataTickSize(rows: readonly RawRow[]): Paise {
  const first = rows[0];
  if (first === undefined) return 1;
  const ceiling = nseTickSizePaise(first.open);
  for (const tick of NSE_TICK_SIZES_DESCENDING) {
    if (tick > ceiling) continue;
    if (rows.every((row) => row.open % tick === 0 && row.high % tick === 0 && row.low % tick === 0 && row.close % tick === 0)) return tick;
  }
  return 1;
}

function compareSymbols(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function detectLayout(lines: readonly string[], file: string): { layout: BarsFileLayout; columns: ColumnMap; firstDataLine: number } {
  if ((lines[0] ?? '').trim() === '') throw new BarsFileError(file, 'empty file (no header line)');
  const header = (lines[0] ?? '').split(',').map((cell) => cell.trim().toLowerCase());
  const first = header[0];
  if (first === 'timestamp') return { layout: 'kite-candles', columns: columnMap(header, file), firstDataLine: 1 };
  if (first === 'date') return { layout: 'date-ohlcv', columns: columnMap(header, file), firstDataLine: 1 };
  if (first === 'price') {
    if (!/^ticker,/i.test(lines[1] ?? '') || !/^datetime,/i.test(lines[2] ?? '')) {
      throw new BarsFileError(file, 'a "Price" header must be followed by "Ticker,…" and "Datetime,…" lines');
    }
    return { layout: 'price-ticker-datetime', columns: columnMap(header, file), firstDataLine: 3 };
  }
  throw new BarsFileError(file, `unrecognised header "${lines[0] ?? ''}"`);
}

function columnMap(header: readonly string[], file: string): ColumnMap {
  const find = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new BarsFileError(file, `header has no "${name}" column`);
    return index;
  };
  return { cells: header.length, time: 0, open: find('open'), high: find('high'), low: find('low'), close: find('close'), volume: find('volume') };
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Epoch ms of `YYYY-MM-DD HH:MM[:SS][offset]`; without an offset the time is IST when `naiveIsIst`, else UTC. */
function parseTimestamp(text: string, naiveIsIst: boolean): number | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '0', offset] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(utc).getUTCDate() !== d) return undefined; // 31 April and the like
  let offsetMs: number;
  if (offset === undefined) offsetMs = naiveIsIst ? IST_OFFSET_MS : 0;
  else if (offset === 'Z') offsetMs = 0;
  else {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    offsetMs = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * MINUTE_MS;
  }
  return utc - offsetMs;
}

function parseVolume(text: string): number | undefined {
  if (!/^\d+(\.0*)?$/.test(text)) return undefined;
  const value = Number(text.split('.')[0]);
  return Number.isSafeInteger(value) ? value : undefined;
}

function checkBar(open: Paise, high: Paise, low: Paise, close: Paise): string | undefined {
  if (open <= 0 || high <= 0 || low <= 0 || close <= 0) return 'prices must be positive';
  if (high < Math.max(open, close)) return `high ${high} is below max(open, close) ${Math.max(open, close)} (paise)`;
  if (low > Math.min(open, close)) return `low ${low} is above min(open, close) ${Math.min(open, close)} (paise)`;
  return undefined;
}

function inferInterval(rows: readonly RawRow[]): BarInterval | undefined {
  let smallest = Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows.length; i += 1) {
    const gap = rows[i]!.startMs - rows[i - 1]!.startMs;
    if (gap > 0 && gap < smallest) smallest = gap;
  }
  if (!Number.isFinite(smallest)) return undefined;
  if (smallest >= DAY_MS) return '1d';
  for (const [name, seconds] of Object.entries(BAR_INTERVALS) as Array<[BarInterval, number]>) {
    if (seconds * 1000 === smallest) return name;
  }
  return undefined;
}

const SESSION_OPEN_OFFSET_MS = NSE_OPEN_MINUTE * MINUTE_MS;
const SESSION_LENGTH_MS = (NSE_CLOSE_MINUTE - NSE_OPEN_MINUTE) * MINUTE_MS;

/**
 * The deterministic ticks inside a bar (../shared/data/README.md): open, then the nearer
 * of high and low, then the other, then close (on a tie, the extreme away from the close
 * comes first). The bar's volume is spread over the four (the remainder on the earliest),
 * cumulative from `startingCumulativeVolume`. Timestamps are spread over the bar's span:
 * start, ⅓, ⅔ and the last millisecond; a daily bar's span is that day's 09:15–15:30 IST
 * session. Always four ticks, even when prices repeat.
 */
export function ticksFromBar(bar: Bar, instrument: Instrument, startingCumulativeVolume: number): Tick[] {
  const { openPaise: open, highPaise: high, lowPaise: low, closePaise: close } = bar;
  const towardsHigh = high - open;
  const towardsLow = open - low;
  const highFirst = towardsHigh < towardsLow || (towardsHigh === towardsLow && close < open);
  const prices = highFirst ? [open, high, low, close] : [open, low, high, close];
  const spanStartMs = bar.interval === '1d' ? istDayStartMs(bar.startMs) + SESSION_OPEN_OFFSET_MS : bar.startMs;
  const spanMs = bar.interval === '1d' ? SESSION_LENGTH_MS : BAR_INTERVALS[bar.interval] * 1000;
  const share = Math.floor(bar.volume / 4);
  const remainder = bar.volume - share * 4;
  const ticks: Tick[] = [];
  let cumulative = startingCumulativeVolume;
  for (let k = 0; k < 4; k += 1) {
    const quantity = share + (k < remainder ? 1 : 0);
    cumulative += quantity;
    ticks.push({
      type: 'tick',
      symbol: bar.symbol,
      token: instrument.token,
      ltpPaise: prices[k]!,
      lastQuantity: quantity,
      volume: cumulative,
      exchangeTimeMs: spanStartMs + Math.floor((k * (spanMs - 1)) / 3),
    });
  }
  return ticks;
}

/** Bars and instruments to replay ({@link DataFolder} fits). */
export interface ReplayData {
  readonly instruments: readonly Instrument[];
  readonly bars: ReadonlyMap<string, readonly Bar[]>;
}

/** One symbol's position in a replay. */
interface ReplayCursor {
  readonly order: number;
  readonly instrument: Instrument;
  readonly bars: readonly Bar[];
  barIndex: number;
  ticks: Tick[];
  tickIndex: number;
  /** Exchange time of `ticks[tickIndex]` (the heap's key, read on every comparison). */
  nextMs: number;
  cumulativeVolume: number;
  dayStartMs: number;
}

/**
 * Replays bars as ticks ({@link ticksFromBar}), all symbols merged in time order, ties
 * broken by the order of `data.instruments`, in batches of at most `batchSize`.
 * Cumulative volume restarts each IST day. Deterministic; each call starts from the beginning.
 *
 * The merge keeps the symbols' cursors sorted by (next tick time, instrument order). Each
 * round emits every cursor due at the earliest time (a prefix of the order), advances them
 * and merges them back into the rest. On bar data, where the symbols share timestamps, a
 * round is usually every cursor and the order holds by itself: about one comparison per tick.
 */
export function* replayTickBatches(data: ReplayData, batchSize: number): Generator<Tick[], void, undefined> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const merge = new ReplayMerge(data);
  let batch: Tick[] = [];
  for (let tick = merge.next(); tick !== undefined; tick = merge.next()) {
    batch.push(tick);
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * {@link replayTickBatches}' merge a tick at a time (`next()`; undefined after the last), for
 * consumers that take ticks one by one and need no batch arrays (`steppedReplay$`).
 */
export class ReplayMerge {
  /** The cursors, sorted by (next tick time, instrument order); `[at, due)` is the round in progress. */
  private cursors: ReplayCursor[] = [];
  private merged: ReplayCursor[] = [];
  private at = 0;
  private due = 0;

  constructor(data: ReplayData) {
    data.instruments.forEach((instrument, order) => {
      const bars = data.bars.get(instrument.symbol);
      if (bars === undefined || bars.length === 0) return;
      const cursor: ReplayCursor = { order, instrument, bars, barIndex: -1, ticks: [], tickIndex: 0, nextMs: 0, cumulativeVolume: 0, dayStartMs: Number.NaN };
      if (advanceBar(cursor)) this.cursors.push(cursor);
    });
    insertionSort(this.cursors, this.cursors.length);
  }

  next(): Tick | undefined {
    if (this.at === this.due && !this.nextRound()) return undefined;
    const cursor = this.cursors[this.at]!;
    this.at += 1;
    const tick = cursor.ticks[cursor.tickIndex]!;
    cursor.tickIndex += 1;
    if (cursor.tickIndex < cursor.ticks.length) cursor.nextMs = cursor.ticks[cursor.tickIndex]!.exchangeTimeMs;
    else if (!advanceBar(cursor)) cursor.nextMs = Number.POSITIVE_INFINITY; // exhausted: dropped by the merge
    return tick;
  }

  /** Merges the finished round back into the order and starts the next one; false when no cursor is left. */
  private nextRound(): boolean {
    if (this.due > 0) {
      insertionSort(this.cursors, this.due); // the advanced prefix: usually still in order
      mergeRound(this.cursors, this.due, this.merged);
      const previous = this.cursors;
      this.cursors = this.merged;
      this.merged = previous; // overwritten by the next merge (no new array per round)
    }
    const cursors = this.cursors;
    if (cursors.length === 0) return false;
    const dueMs = cursors[0]!.nextMs;
    let due = 1;
    while (due < cursors.length && cursors[due]!.nextMs === dueMs) due += 1;
    this.at = 0;
    this.due = due;
    return true;
  }
}

/** Moves a cursor to its next bar; false when it has none. */
function advanceBar(cursor: ReplayCursor): boolean {
  cursor.barIndex += 1;
  const bar = cursor.bars[cursor.barIndex];
  if (bar === undefined) return false;
  const dayStartMs = istDayStartMs(bar.startMs);
  if (dayStartMs !== cursor.dayStartMs) {
    cursor.dayStartMs = dayStartMs;
    cursor.cumulativeVolume = 0;
  }
  cursor.ticks = ticksFromBar(bar, cursor.instrument, cursor.cumulativeVolume);
  cursor.tickIndex = 0;
  cursor.nextMs = cursor.ticks[0]!.exchangeTimeMs;
  cursor.cumulativeVolume = cursor.ticks[cursor.ticks.length - 1]!.volume;
  return true;
}

function before(a: ReplayCursor, b: ReplayCursor): boolean {
  return a.nextMs < b.nextMs || (a.nextMs === b.nextMs && a.order < b.order);
}

/** Sorts `cursors[0, end)` in place (stable; linear when already in order). */
function insertionSort(cursors: ReplayCursor[], end: number): void {
  for (let i = 1; i < end; i += 1) {
    const cursor = cursors[i]!;
    let j = i - 1;
    while (j >= 0 && before(cursor, cursors[j]!)) {
      cursors[j + 1] = cursors[j]!;
      j -= 1;
    }
    cursors[j + 1] = cursor;
  }
}

/** Merges the sorted runs `cursors[0, split)` and `cursors[split, …)` into `into` (overwritten), leaving out exhausted cursors. */
function mergeRound(cursors: readonly ReplayCursor[], split: number, into: ReplayCursor[]): void {
  let a = 0;
  let b = split;
  let k = 0;
  while (a < split || b < cursors.length) {
    const cursor = b >= cursors.length || (a < split && before(cursors[a]!, cursors[b]!)) ? cursors[a++]! : cursors[b++]!;
    if (cursor.nextMs === Number.POSITIVE_INFINITY) continue;
    if (k < into.length) into[k] = cursor;
    else into.push(cursor);
    k += 1;
  }
  if (into.length !== k) into.length = k;
}

/** Options of {@link replayTicks$}. */
export interface ReplayTicksOptions {
  readonly batchSize: number;
  /** Schedules the next batch; default `setImmediate` (one batch per event-loop turn). */
  readonly scheduler?: SchedulerLike;
}

/**
 * {@link replayTickBatches} as a cold Observable: one batch per turn of the event loop,
 * completes after the last bar. Each subscription replays from the start.
 */
export function replayTicks$(data: ReplayData, options: ReplayTicksOptions): Observable<readonly Tick[]> {
  if (!Number.isSafeInteger(options.batchSize) || options.batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  return defer(() => {
    const batches = replayTickBatches(data, options.batchSize);
    return pumpBatches<readonly Tick[]>(() => {
      const step = batches.next();
      return step.done === true ? undefined : step.value;
    }, options.scheduler);
  });
}
