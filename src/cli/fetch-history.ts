/**
 * `troupe fetch-history --symbols INFY,TCS --interval 5minute --from 2026-01-01 --to 2026-06-30
 *  [--out dir] [--store]`: Kite historical candles, cut into Kite's per-interval maximum ranges,
 * at most 3 requests a second, with a progress bar on stderr. Writes one CSV per symbol in the
 * shared data layout (`timestamp,open,high,low,close,volume,oi`, IST, rupees) under `--out`,
 * and/or (`--store`) the time-series store's bar tables (minute → bars_1m, 60minute → bars_1h).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, type TroupeConfig } from '../config/config.js';
import { candlesCsv, istDateTime, isKiteInterval, KITE_MAX_DAYS, KiteHistory, type Candle, type KiteInterval } from '../brokers/kite/history.js';
import { loadInstruments } from '../brokers/kite/instruments.js';
import { KiteBroker } from '../brokers/kite/kite-broker.js';
import { kiteCredentials, kiteTokenStore } from '../wiring/kite-credentials.js';
import type { Bar } from '../model/market.js';
import { silentLogger } from '../observability/logger.js';
import { describeRejections, type RejectedRow } from '../streams/sources/rejections.js';
import { DataError, listOption, parseArgs, StrictError, usage, usageErrorText, UsageError, type OptionSpec } from './args.js';

export interface FetchHistoryIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (a redrawn bar) or not (one line per symbol). */
  readonly stderrIsTty?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Requests per second (tests); default Kite's 3. */
  readonly requestsPerSecond?: number;
}

const OPTIONS: readonly OptionSpec[] = [
  { name: 'symbols', description: 'Comma-separated NSE symbols', required: true, valueName: 'list' },
  { name: 'interval', description: `Candle interval: ${Object.keys(KITE_MAX_DAYS).join(', ')}`, required: true, valueName: 'interval' },
  { name: 'from', description: 'First day (IST), YYYY-MM-DD or "YYYY-MM-DD HH:mm"', required: true, valueName: 'date' },
  { name: 'to', description: 'Last day (IST, inclusive), YYYY-MM-DD or "YYYY-MM-DD HH:mm"', required: true, valueName: 'date' },
  { name: 'out', description: 'Write <out>/<SYMBOL>.csv in the shared data layout', valueName: 'dir' },
  { name: 'store', description: 'Write into the time-series store (DATABASE_URL or the embedded one): minute → bars_1m, 60minute → bars_1h', flag: true },
  { name: 'strict', description: 'Write nothing and exit 1 when Kite sent any candle that is not one (it is otherwise left out, with a warning)', flag: true },
];

const SUMMARY =
  'Downloads Kite historical candles (getHistoricalData), chunked by Kite’s per-interval maximum range, at most 3 requests a second, with a progress bar on stderr. Needs a Kite session (troupe kite login, or KITE_ACCESS_TOKEN) and KITE_API_KEY; KITE_ROOT points it at the simulator. A candle that is not one (a price that is not positive, high below low, a negative volume…) is left out and named on stderr; --strict refuses them. An unknown symbol is an error (exit 2).';

/** "YYYY-MM-DD" or "YYYY-MM-DD HH:mm[:ss]" in IST → epoch ms; `endOfDay` makes a bare date mean 23:59:59. */
export function parseIstDate(text: string, name: string, endOfDay: boolean): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--${name} must be YYYY-MM-DD or "YYYY-MM-DD HH:mm", got "${text}"`);
  const [, y, mo, d, h, mi, s] = match;
  const bare = h === undefined;
  const ms =
    Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      bare ? (endOfDay ? 23 : 0) : Number(h),
      bare ? (endOfDay ? 59 : 0) : Number(mi),
      bare ? (endOfDay ? 59 : 0) : Number(s ?? 0),
    ) -
    330 * 60_000;
  if (!Number.isFinite(ms) || new Date(ms + 330 * 60_000).getUTCDate() !== Number(d)) throw new UsageError(`--${name} is not a real date: "${text}"`);
  return ms;
}

function bar(width: number, done: number, total: number): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Runs the command; returns the exit code. */
export async function fetchHistoryCommand(
  argv: readonly string[],
  io: FetchHistoryIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), stderrIsTty: process.stderr.isTTY },
): Promise<number> {
  let values: Record<string, string> | undefined;
  try {
    values = parseArgs(argv, OPTIONS);
  } catch (error) {
    io.stderr(usageErrorText('troupe fetch-history', error instanceof Error ? error.message : String(error), 'troupe fetch-history --help'));
    return 2;
  }
  if (!values) {
    io.stdout(`${usage('troupe fetch-history', SUMMARY, OPTIONS)}\n`);
    return 0;
  }
  try {
    const interval = values['interval']!;
    if (!isKiteInterval(interval)) throw new UsageError(`--interval must be one of ${Object.keys(KITE_MAX_DAYS).join(', ')}, got "${interval}"`);
    const symbols = listOption(values, 'symbols')!.map((s) => s.toUpperCase());
    if (symbols.length === 0) throw new UsageError('--symbols needs at least one symbol');
    const fromMs = parseIstDate(values['from']!, 'from', false);
    const toMs = parseIstDate(values['to']!, 'to', true);
    if (toMs < fromMs) throw new UsageError('--to is before --from');
    const out = values['out'];
    const store = values['store'] === 'true';
    if (out === undefined && !store) throw new UsageError('say where to write: --out <dir> and/or --store');
    if (store && interval !== 'minute' && interval !== '60minute')
      throw new UsageError('--store keeps minute and 60minute candles (bars_1m, bars_1h); use --out for other intervals');

    const config = loadConfig(io.env);
    const credentials = kiteCredentials(config.kite, undefined, () => kiteTokenStore(config));
    let accessToken = credentials.accessToken;
    const root = config.kite.root;
    const broker = new KiteBroker({
      apiKey: credentials.apiKey,
      ...(root === undefined ? {} : { root }),
      ...(accessToken === undefined ? {} : { accessToken }),
    });
    if (accessToken === undefined) accessToken = await broker.createSession(credentials.requestToken!, credentials.apiSecret!);
    const { map } = await loadInstruments(broker, { dataDir: config.dataDir });
    const unknown = symbols.filter((symbol) => map.symbol(symbol) === undefined);
    if (unknown.length > 0) throw new DataError(`unknown NSE symbol${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (not in Kite's instrument list)`);
    const instruments = map.require(symbols);
    const strict = values['strict'] === 'true';
    const history = new KiteHistory({
      apiKey: credentials.apiKey,
      accessToken,
      ...(root === undefined ? {} : { root }),
      ...(io.requestsPerSecond === undefined
        ? {}
        : { limits: { perSecond: io.requestsPerSecond, perMinute: io.requestsPerSecond * 60, countFrom: 'completion' } }),
    });
    const started = Date.now();
    let total = 0;
    const rejected: RejectedRow[] = [];
    const fetched: { readonly symbol: string; readonly candles: Candle[] }[] = [];
    for (const [index, instrument] of instruments.entries()) {
      const label = `${index + 1}/${instruments.length} ${instrument.symbol}`;
      const candles = await history.candles(
        instrument.token,
        interval,
        fromMs,
        toMs,
        (done, chunks, count) => {
          if (io.stderrIsTty) io.stderr(`\r${bar(30, done, chunks)} ${label}: ${done}/${chunks} requests, ${count} candles   `);
        },
        // named by symbol and place in Kite's answer (there is no file line yet)
        (r) =>
          rejected.push({
            file: `${instrument.symbol} (Kite ${interval} candles)`,
            line: r.index,
            reason: `${r.atMs === undefined ? '' : `${istDateTime(r.atMs)} IST: `}${r.reason}`,
          }),
      );
      total += candles.length;
      if (io.stderrIsTty) io.stderr('\n');
      else io.stderr(`${bar(30, index + 1, instruments.length)} ${label}: ${candles.length} candles\n`);
      fetched.push({ symbol: instrument.symbol, candles });
    }
    const lines = describeRejections(rejected);
    if (lines.length > 0) io.stderr(`troupe fetch-history: ${lines.join('\n')}\n`);
    if (strict && rejected.length > 0) throw new StrictError(`--strict: Kite sent ${rejected.length} bad candle(s) (listed above); nothing was written`);
    const writer = store ? await openBarWriter(config) : undefined;
    try {
      for (const { symbol, candles } of fetched) {
        if (out !== undefined) {
          mkdirSync(out, { recursive: true });
          writeFileSync(join(out, `${symbol}.csv`), candlesCsv(candles));
        }
        if (writer) await writer.write(symbol, interval, candles);
      }
    } finally {
      await writer?.close();
    }
    io.stdout(
      `${total} candles of ${instruments.length} symbol(s), ${interval}, in ${history.requests} request(s), ${((Date.now() - started) / 1000).toFixed(1)} s${rejected.length > 0 ? `; ${rejected.length} bad candle(s) left out` : ''}${out === undefined ? '' : `; CSV in ${out}`}${store ? '; stored in the time-series store' : ''}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(usageErrorText('troupe fetch-history', error.message, 'troupe fetch-history --help'));
      return 2;
    }
    if (error instanceof DataError) {
      io.stderr(`troupe fetch-history: ${error.message}\n`);
      return 2;
    }
    io.stderr(`troupe fetch-history: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function openBarWriter(
  config: TroupeConfig,
): Promise<{ write(symbol: string, interval: KiteInterval, candles: readonly Candle[]): Promise<void>; close(): Promise<void> }> {
  const { openStores } = await import('../persistence/stores.js');
  const { upsertBars } = await import('../persistence/timeseries/bars.js');
  const stores = await openStores(config, silentLogger());
  return {
    async write(symbol, interval, candles) {
      const bars: Bar[] = candles.map((c) => ({
        type: 'bar',
        symbol,
        interval: interval === 'minute' ? '1m' : '1h',
        startMs: c.atMs,
        openPaise: c.openPaise,
        highPaise: c.highPaise,
        lowPaise: c.lowPaise,
        closePaise: c.closePaise,
        volume: c.volume,
        tickCount: 0,
      }));
      for (let i = 0; i < bars.length; i += 5000) await upsertBars(stores.database, bars.slice(i, i + 5000));
    },
    close: () => stores.close(),
  };
}
