/**
 * `npm run backtest -- --data <dir> --strategy <kind> [--symbols A,B] [--from D --to D] [--out dir]`
 * Replays a data folder through the same actor tree as paper trading, on a simulated
 * clock, and writes `result.json` and a self-contained `report.html` into the out folder
 * (a `.json` out path writes that file and `<name>.html` next to it). Two runs with the
 * same input give identical bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { runBacktest } from '../backtest/backtest.js';
import { renderReport } from '../backtest/report.js';
import { stableJson } from '../backtest/stable-json.js';
import { DAY_MS, formatInr, istTimeMs } from '../model/index.js';
import { STRATEGIES } from '../strategies/index.js';
import { intOption, isEntryPoint, parseArgs, usage, UsageError, type OptionSpec } from './args.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'data', description: 'Folder of per-symbol CSV files (e.g. ../shared/data/nse-5min)', required: true, valueName: 'dir' },
  { name: 'strategy', description: `Strategy kind: ${STRATEGIES.map((s) => s.kind).join(', ')}`, required: true, valueName: 'kind' },
  { name: 'symbols', description: 'Comma-separated symbols (default: every file in the folder)', valueName: 'A,B' },
  { name: 'config', description: 'Strategy settings as JSON, e.g. \'{"fastPeriod":5}\'', valueName: 'json' },
  { name: 'capital', description: 'Starting cash in rupees', default: '10000000', valueName: 'rupees' },
  { name: 'from', description: 'First IST date to replay (inclusive)', valueName: 'YYYY-MM-DD' },
  { name: 'to', description: 'Last IST date to replay (inclusive)', valueName: 'YYYY-MM-DD' },
  { name: 'out', description: 'Folder for result.json and report.html (a path ending in .json writes that file and <name>.html beside it)', default: 'out/backtest', valueName: 'dir' },
  { name: 'quiet', description: 'No progress output', flag: true },
];
const SUMMARY = 'Replays market data through the Troupe actor tree on a simulated clock and writes a deterministic result.json and report.html.';

/** An IST calendar date option as the epoch ms of its midnight. */
function dateOption(values: Record<string, string>, name: string): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? istTimeMs(text, 0, 0) : Number.NaN;
  if (!Number.isFinite(ms) || new Date(ms + 5.5 * 3600 * 1000).toISOString().slice(0, 10) !== text) throw new UsageError(`--${name} must be a date YYYY-MM-DD, got "${text}"`);
  return ms;
}

/** Where the result and report go: a folder, or a `.json` file with the report beside it. */
export function outputPaths(out: string): { readonly json: string; readonly html: string } {
  const path = resolve(out);
  if (path.toLowerCase().endsWith('.json')) return { json: path, html: join(dirname(path), `${basename(path, '.json')}.html`) };
  return { json: join(path, 'result.json'), html: join(path, 'report.html') };
}

/** `troupe backtest …`: returns the exit code. */
export async function backtestCommand(argv: readonly string[]): Promise<number> {
  try {
    await backtestMain(argv);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`backtest: ${error.message}\n\n${usage('npm run backtest --', SUMMARY, OPTIONS)}\n`);
      return 2;
    }
    process.stderr.write(`backtest: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function backtestMain(argv: readonly string[]): Promise<void> {
  const values = parseArgs(argv, OPTIONS);
  if (!values) {
    process.stdout.write(`${usage('npm run backtest --', SUMMARY, OPTIONS)}\n`);
    return;
  }
  let config: Record<string, unknown> = {};
  if (values.config !== undefined) {
    try {
      config = JSON.parse(values.config) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--config is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (values.symbols !== undefined && config.symbols === undefined) config = { ...config, symbols: values.symbols.split(',').map((s) => s.trim()) };
  const fromMs = dateOption(values, 'from');
  const toDayMs = dateOption(values, 'to');
  const toMs = toDayMs === undefined ? undefined : toDayMs + DAY_MS;
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new UsageError('--to is before --from');
  const quiet = values.quiet === 'true';
  const started = Date.now();
  const result = await runBacktest({
    dataDir: resolve(values.data!),
    strategyKind: values.strategy!,
    strategyConfig: config,
    ...(values.symbols ? { symbols: values.symbols.split(',').map((s) => s.trim()) } : {}),
    initialCashPaise: intOption(values, 'capital') * 100,
    ...(fromMs === undefined ? {} : { fromMs }),
    ...(toMs === undefined ? {} : { toMs }),
    onProgress: quiet
      ? undefined
      : (done, total) => process.stderr.write(`\rreplaying: ${Math.min(100, Math.floor((done * 100) / Math.max(1, total)))}% (${done} ticks)`),
  } as Parameters<typeof runBacktest>[0]);
  if (!quiet) process.stderr.write('\n');
  const out = outputPaths(values.out!);
  mkdirSync(dirname(out.json), { recursive: true });
  writeFileSync(out.json, stableJson(result));
  writeFileSync(out.html, renderReport(result));
  const s = result.summary;
  const m = result.metrics;
  const fixed = (x: number | null, suffix = ''): string => (x === null ? '–' : `${x.toFixed(2)}${suffix}`);
  process.stdout.write(
    [
      `strategy ${result.meta.strategy} on ${result.meta.symbols.length} symbols, ${result.meta.bars} bars (${result.meta.ticks} ticks) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `orders ${s.orders}, fills ${s.fills}, refused by risk ${s.rejectedIntents}`,
      `P&L ${formatInr(s.netPnlPaise)} (realised ${formatInr(s.realisedPaise)}, unrealised ${formatInr(s.unrealisedPaise)}, charges ${formatInr(s.chargesPaise)})`,
      `CAGR ${fixed(m.cagrPct, '%')}, Sharpe ${fixed(m.sharpe)}, Sortino ${fixed(m.sortino)}, max drawdown ${formatInr(m.maxDrawdownPaise)} (${fixed(m.maxDrawdownPct, '%')}) over ${m.days} days`,
      `round trips ${m.roundTrips}, win rate ${fixed(m.winRatePct, '%')}, turnover ${formatInr(m.turnoverPaise)}`,
      `equity ${formatInr(s.equityPaise)}; result written to ${out.json}, report to ${out.html}`,
    ].join('\n') + '\n',
  );
}

if (isEntryPoint(import.meta.url)) process.exitCode = await backtestCommand(process.argv.slice(2));
