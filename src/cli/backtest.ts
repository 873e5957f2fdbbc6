/**
 * `npm run backtest -- --data <dir> --strategy <kind> [--symbols A,B] [--from D --to D] [--out dir]`
 * Replays a data folder (or the time-series store, `--source db`) through the same actor
 * tree as paper trading, on a simulated clock, and writes `result.json` and a
 * self-contained `report.html` into the out folder (a `.json` out path writes that file and
 * `<name>.html` next to it). Two runs with the same input give identical bytes.
 * `--sweep` runs a grid of backtests in parallel (sweep.json); `--walk-forward` optimises on
 * rolling train windows and tests on the next (walk-forward.json). `--model` gives `ml-signal` the
 * model whose predictions it trades: a model file (`troupe ml export`) or a registry version.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataIntervalError, loadCsvData, replayIntervals, runBacktest, type BacktestData, type BacktestResult } from '../backtest/backtest.js';
import { loadDbData, STORED_INTERVALS, type StoredInterval } from '../backtest/db-source.js';
import { runSweep, runWalkForward, type SweepReport, type WalkForwardReport } from '../backtest/optimise.js';
import { createJobRunner, defaultJobs } from '../backtest/pool.js';
import { renderReport } from '../backtest/report.js';
import { stableJson } from '../backtest/stable-json.js';
import { OBJECTIVES, parseObjective, parseSweep, parseWalkForward, pointLabel, SweepSpecError, type RunFigures, type SweepAxis } from '../backtest/sweep.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { decodeModelFile, ModelFileError } from '../ml/model-file.js';
import { fixedModelSource } from '../ml/model-source.js';
import { formatInr } from '../model/index.js';
import { openDatabase } from '../persistence/database.js';
import { MlModelStore } from '../persistence/ml-model-store.js';
import { type StoredModel } from '../ml/registry.js';
import { STRATEGIES } from '../strategies/index.js';
import { dataFolderSymbols, DataFolderError } from '../streams/sources/csv-replay.js';
import { describeRejections, rejectionCounts, summariseRejections } from '../streams/sources/rejections.js';
import {
  DataError,
  intOption,
  isEntryPoint,
  istDateRange,
  istDateRangeOptions,
  listOption,
  parseArgs,
  StrictError,
  usage,
  usageErrorText,
  UsageError,
  type OptionSpec,
} from './args.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'data', description: 'Folder of per-symbol CSV files (e.g. ../shared/data/nse-5min); required unless --source db', valueName: 'dir' },
  {
    name: 'source',
    description: 'csv: the --data folder; db: the time-series store (bars_1m / bars_1h of DATABASE_URL, else the embedded store)',
    default: 'csv',
    valueName: 'csv|db',
  },
  { name: 'interval', description: `With --source db: the stored bars to replay (${STORED_INTERVALS.join(' or ')})`, default: '1m', valueName: '1m|1h' },
  {
    name: 'database-url',
    description: 'With --source db: PostgreSQL to read (default DATABASE_URL, else the embedded store in TROUPE_DATA_DIR)',
    valueName: 'url',
  },
  {
    name: 'model',
    description:
      'For ml-signal: the model whose predictions it trades: a model file (troupe ml export) or a version in the registry (--database-url / DATABASE_URL, else the embedded store in TROUPE_DATA_DIR)',
    valueName: 'version|file.json',
  },
  {
    name: 'strategy',
    description: `Strategy kind: ${STRATEGIES.map((s) => s.kind).join(', ')}; a comma-separated list runs the rest beside the first on one portfolio (e.g. ensemble,ema-cross,rsi-reversion: the ensemble trades the vote of the others' signals)`,
    required: true,
    valueName: 'kind[,kind…]',
  },
  { name: 'symbols', description: 'Comma-separated symbols (default: every file in the folder / every symbol stored)', valueName: 'A,B' },
  { name: 'config', description: 'Strategy settings as JSON, e.g. \'{"fastPeriod":5}\' (for the first strategy)', valueName: 'json' },
  {
    name: 'companion-config',
    description: 'Settings of the other strategies of a --strategy list, as JSON keyed by kind, e.g. \'{"ema-cross":{"fastPeriod":5}}\'',
    valueName: 'json',
  },
  { name: 'capital', description: 'Starting cash in rupees', default: '10000000', valueName: 'rupees' },
  ...istDateRangeOptions('to replay'),
  {
    name: 'out',
    description:
      'Folder for result.json and report.html (a path ending in .json writes that file and <name>.html beside it); with --sweep: sweep.json and runs/*/, with --walk-forward: walk-forward.json and windows/*/',
    default: 'out/backtest',
    valueName: 'dir',
  },
  {
    name: 'sweep',
    description: 'Sweep a setting, repeatable: name=a..b[:step] (inclusive, step default 1) or name=v1,v2,…; runs the grid of every --sweep',
    valueName: 'name=spec',
  },
  {
    name: 'walk-forward',
    description:
      'Optimise on rolling windows: train=<sessions>,test=<sessions> (a session = an IST trading day with data); the grid of --sweep is tried on each train window, the best on the next test window',
    valueName: 'train=N,test=M',
  },
  {
    name: 'objective',
    description: `What "best" means for --sweep and --walk-forward: ${OBJECTIVES.join(', ')} (drawdown = smallest max drawdown)`,
    default: 'sharpe',
    valueName: 'name',
  },
  { name: 'jobs', description: 'Backtests run in parallel by --sweep / --walk-forward (one process each)', default: String(defaultJobs()), valueName: 'n' },
  { name: 'strict', description: 'Refuse to run (exit 1) when any file or row of the data is rejected, instead of leaving it out with a warning', flag: true },
  { name: 'quiet', description: 'No progress output (warnings about rejected data still go to stderr)', flag: true },
];
const SUMMARY = [
  'Replays market data through the Troupe actor tree on a simulated clock and writes a deterministic result.json and report.html.',
  '',
  'Bad data is never silent: every file or row left out is counted and named on stderr (the first',
  'examples with their line numbers) and in report.html; --strict makes any of it a failure (exit 1).',
  'An unknown symbol, a data folder that cannot be read, or bars the data cannot give (5-minute bars',
  'of daily data) is an error (exit 2).',
  '',
  'Examples:',
  '  npm run backtest -- --data ../shared/data/nse-5min --strategy ema-cross --out out/ema',
  '  npm run backtest -- --data ../shared/data/nse-5min --strategy ensemble,ema-cross,rsi-reversion --out out/ensemble',
  '  npm run backtest -- --source db --interval 1m --strategy rsi-reversion --from 2016-09-30 --to 2016-09-30',
  '  npm run backtest -- --data ../shared/data/nse-daily --strategy ema-cross --config \'{"source":"1d"}\' \\',
  '      --sweep fastPeriod=5..20:5 --sweep slowPeriod=30..60:10 --objective sharpe --jobs 2 --out out/sweep',
  '  npm run backtest -- --data ../shared/data/nse-daily --strategy ema-cross --config \'{"source":"1d"}\' \\',
  '      --sweep fastPeriod=5,10 --walk-forward train=250,test=60 --out out/wf',
].join('\n');

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
    if (error instanceof UsageError || error instanceof SweepSpecError || error instanceof ConfigError) {
      process.stderr.write(usageErrorText('backtest', error.message, 'npm run backtest -- --help'));
      return 2;
    }
    if (error instanceof DataError || error instanceof DataFolderError || error instanceof DataIntervalError || error instanceof ModelFileError) {
      process.stderr.write(`backtest: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`backtest: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

/** Takes every `--sweep X` / `--sweep=X` out of argv (the parser keeps one value per option). */
function extractSweeps(argv: readonly string[]): { readonly rest: string[]; readonly sweeps: string[] } {
  const rest: string[] = [];
  const sweeps: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg.startsWith('--sweep=')) sweeps.push(arg.slice('--sweep='.length));
    else if (arg === '--sweep') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError('--sweep needs a value such as fastPeriod=5..20:5');
      sweeps.push(value);
      i += 1;
    } else rest.push(arg);
  }
  return { rest, sweeps };
}

async function loadData(
  values: Record<string, string>,
  select: { symbols?: readonly string[]; fromMs?: number; toMs?: number },
): Promise<{ data: BacktestData; label: string }> {
  const source = values.source;
  if (source === 'csv') {
    if (values.data === undefined) throw new UsageError('--data is required (a folder of CSV files), or use --source db');
    const dir = resolve(values.data);
    const available = await dataFolderSymbols(dir);
    if (select.symbols) {
      const unknown = select.symbols.filter((symbol) => !available.includes(symbol));
      if (unknown.length > 0)
        throw new DataError(
          `unknown symbol${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}: no ${unknown.map((symbol) => `${symbol}.csv`).join(', ')} in ${dir} (${available.length === 0 ? 'it has no CSV files' : `it has ${listed(available)}`})`,
        );
    }
    if (available.length === 0) throw new DataError(`no CSV files in ${dir} (a data folder holds one SYMBOL.csv per symbol)`);
    const data = await loadCsvData(dir, select);
    if (data.instruments.length === 0)
      throw new DataError([`no usable CSV files in ${dir}: every one was left out`, ...describeRejections(data.rejected)].join('\n'));
    return { data, label: dir };
  }
  if (source !== 'db') throw new UsageError(`--source must be csv or db, got "${source}"`);
  if (values.data !== undefined) throw new UsageError('--data is for --source csv; with --source db the bars come from the database');
  const interval = values.interval as StoredInterval;
  if (!STORED_INTERVALS.includes(interval))
    throw new UsageError(`--interval must be ${STORED_INTERVALS.join(' or ')} (the intervals the store keeps), got "${values.interval}"`);
  const config = loadConfig(undefined, { DATABASE_URL: values['database-url'] });
  const database = await openDatabase(config);
  try {
    let data: BacktestData;
    try {
      data = await loadDbData(database, { interval, ...select });
    } catch (error) {
      if (error instanceof Error && /relation "bars_1[mh]" does not exist/.test(error.message)) {
        throw new Error(
          `the database has no time-series tables (bars_${interval}): point --database-url (or DATABASE_URL) at a Troupe database, which Troupe migrates when it starts`,
        );
      }
      if (error instanceof Error && error.message.startsWith('no bars in ')) throw new DataError(error.message);
      throw error;
    }
    const unknown = (select.symbols ?? []).filter((symbol) => !data.bars.has(symbol));
    if (unknown.length > 0)
      throw new DataError(
        `unknown symbol${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}: no bars of ${unknown.length === 1 ? 'it' : 'them'} in bars_${interval} in the range asked for`,
      );
    return { data, label: `db:bars_${interval}` };
  } finally {
    await database.close();
  }
}

/** `--model`: a model file when such a file exists, else a version in the registry. */
async function loadModelOption(values: Record<string, string>): Promise<StoredModel | undefined> {
  const spec = values.model;
  if (spec === undefined) return undefined;
  if (existsSync(spec)) return decodeModelFile(readFileSync(spec, 'utf8'), spec);
  if (/\.json$/i.test(spec)) throw new DataError(`no model file ${spec}`);
  const database = await openDatabase(loadConfig(undefined, { DATABASE_URL: values['database-url'] }));
  try {
    return await new MlModelStore(database).get(spec);
  } finally {
    await database.close();
  }
}

/** The strategies of a `--strategy` list after the first, with their `--companion-config` settings. */
function companionOptions(
  kinds: readonly string[],
  json: string | undefined,
  symbols: readonly string[] | undefined,
): { kind: string; config: Record<string, unknown> }[] {
  let byKind: Record<string, unknown> = {};
  if (json !== undefined) {
    try {
      byKind = JSON.parse(json) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--companion-config is not valid JSON: ${(error as Error).message}`);
    }
    if (byKind === null || typeof byKind !== 'object' || Array.isArray(byKind))
      throw new UsageError('--companion-config must be a JSON object keyed by strategy kind');
    for (const kind of Object.keys(byKind))
      if (!kinds.includes(kind))
        throw new UsageError(`--companion-config names "${kind}", which is not one of the other strategies of --strategy (${kinds.join(', ') || 'none'})`);
  }
  return kinds.map((kind) => {
    const raw = byKind[kind] ?? {};
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new UsageError(`--companion-config: the settings of ${kind} must be a JSON object`);
    const config = raw as Record<string, unknown>;
    return { kind, config: symbols !== undefined && config.symbols === undefined ? { ...config, symbols } : config };
  });
}

/** At most 20 names, then how many more. */
function listed(names: readonly string[]): string {
  return names.length <= 20 ? names.join(', ') : `${names.slice(0, 20).join(', ')} and ${names.length - 20} more`;
}

/**
 * Tells what the data reader left out (always, even with --quiet: bad data is never silent),
 * and with --strict refuses to go on.
 */
function reportRejections(data: BacktestData, strict: boolean, where: string): void {
  const lines = describeRejections(data.rejected, { where });
  if (lines.length === 0) return;
  process.stderr.write(`backtest: ${lines.join('\n')}\n`);
  if (strict) throw new StrictError(`--strict: ${rejectionCounts(summariseRejections(data.rejected))} of the data rejected (listed above); nothing was run`);
}

async function backtestMain(argv: readonly string[]): Promise<void> {
  const { rest, sweeps } = extractSweeps(argv);
  const values = parseArgs(rest, OPTIONS);
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
    if (config === null || typeof config !== 'object' || Array.isArray(config))
      throw new UsageError('--config must be a JSON object, e.g. \'{"fastPeriod":5}\'');
  }
  const symbols = listOption(values, 'symbols');
  if (symbols !== undefined && config.symbols === undefined) config = { ...config, symbols };
  const { fromMs, toMs } = istDateRange(values);
  const axes: SweepAxis[] = sweeps.map(parseSweep);
  const walkForward = values['walk-forward'] === undefined ? undefined : parseWalkForward(values['walk-forward']);
  const objective = parseObjective(values.objective!);
  const jobs = intOption(values, 'jobs');
  const initialCashPaise = intOption(values, 'capital') * 100;
  const kinds = listOption(values, 'strategy')!;
  for (const kind of kinds)
    if (!STRATEGIES.some((s) => s.kind === kind)) throw new UsageError(`unknown strategy "${kind}"; known: ${STRATEGIES.map((s) => s.kind).join(', ')}`);
  if (kinds.length === 0) throw new UsageError('--strategy needs a strategy kind');
  if (new Set(kinds).size !== kinds.length) throw new UsageError(`--strategy lists a kind twice: ${values.strategy}`);
  const strategyKind = kinds[0]!;
  const companions = companionOptions(kinds.slice(1), values['companion-config'], symbols);
  if (companions.length > 0 && (axes.length > 0 || walkForward))
    throw new UsageError('--sweep and --walk-forward run one strategy; give --strategy a single kind');
  if (values.model !== undefined && !kinds.includes('ml-signal')) throw new UsageError("--model is for ml-signal (it trades the model's predictions)");
  if (values.model === undefined && kinds.includes('ml-signal'))
    throw new UsageError("ml-signal trades a model's predictions: give --model <version|file.json> (troupe ml list, troupe ml export)");
  if (values.model !== undefined && (axes.length > 0 || walkForward)) throw new UsageError('--model runs one backtest: not with --sweep or --walk-forward');
  const quiet = values.quiet === 'true';
  const say = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const started = Date.now();
  const select = { ...(symbols ? { symbols } : {}), ...(fromMs === undefined ? {} : { fromMs }), ...(toMs === undefined ? {} : { toMs }) };
  say(`reading ${values.source === 'db' ? `bars_${values.interval} from the database` : (values.data ?? '')}…`);
  const { data, label } = await loadData(values, select);
  reportRejections(
    data,
    values.strict === 'true',
    axes.length > 0 || walkForward ? "each run's result.json (meta.rejectedRows)" : 'result.json (meta.rejectedRows) and report.html',
  );
  // bars finer than the data: an error now, not a run that trades nothing
  replayIntervals(data, strategyKind, config, companions);

  if (axes.length > 0 || walkForward) {
    const outDir = resolve(values.out!);
    const runner = createJobRunner(data, jobs);
    try {
      const options = { data, dataLabel: label, strategyKind, baseConfig: config, axes, objective, initialCashPaise, outDir, onProgress: say };
      if (walkForward) {
        const report = await runWalkForward({ ...options, spec: walkForward }, runner);
        mkdirSync(outDir, { recursive: true });
        writeFileSync(join(outDir, 'walk-forward.json'), stableJson(report));
        process.stdout.write(walkForwardTable(report, join(outDir, 'walk-forward.json'), Date.now() - started));
      } else {
        const report = await runSweep(options, runner);
        mkdirSync(outDir, { recursive: true });
        writeFileSync(join(outDir, 'sweep.json'), stableJson(report));
        process.stdout.write(sweepTable(report, join(outDir, 'sweep.json'), Date.now() - started));
      }
    } finally {
      await runner.close();
    }
    return;
  }

  const model = await loadModelOption(values);
  if (model) say(`model ${model.version} (${model.kind}, ${model.featureSchema.interval} bars, sha256 ${model.onnxSha256.slice(0, 12)})`);
  const result = await runBacktest({
    dataDir: label,
    data,
    strategyKind,
    strategyConfig: config,
    ...(companions.length > 0 ? { companions } : {}),
    ...(model ? { ml: { source: fixedModelSource(model) }, model: { version: model.version, kind: model.kind, onnxSha256: model.onnxSha256 } } : {}),
    initialCashPaise,
    onProgress: quiet
      ? undefined
      : (done, total) => process.stderr.write(`\rreplaying: ${Math.min(100, Math.floor((done * 100) / Math.max(1, total)))}% (${done} ticks)`),
  } as Parameters<typeof runBacktest>[0]);
  if (!quiet) process.stderr.write('\n');
  const offCalendar = result.meta.offCalendarBars;
  if (offCalendar.count > 0) {
    const first = offCalendar.examples[0]!;
    process.stderr.write(
      `backtest: warning: ${offCalendar.count} bar day(s) fall on days the NSE was closed (replayed anyway), e.g. ${first.file}:${first.line}: ${first.reason}\n`,
    );
  }
  const out = outputPaths(values.out!);
  mkdirSync(dirname(out.json), { recursive: true });
  writeFileSync(out.json, stableJson(result));
  writeFileSync(out.html, renderReport(result, { bars: data.bars }));
  process.stdout.write(resultSummary(result, out, Date.now() - started));
}

const fixed = (x: number | null, suffix = ''): string => (x === null ? '–' : `${x.toFixed(2)}${suffix}`);

function resultSummary(result: BacktestResult, out: { json: string; html: string }, elapsedMs: number): string {
  const s = result.summary;
  const m = result.metrics;
  return (
    [
      `strategy ${result.meta.strategy} on ${result.meta.symbols.length} symbols, ${result.meta.bars} bars (${result.meta.ticks} ticks) in ${(elapsedMs / 1000).toFixed(1)} s`,
      `orders ${s.orders}, fills ${s.fills}, refused by risk ${s.rejectedIntents}`,
      `P&L ${formatInr(s.netPnlPaise)} (realised ${formatInr(s.realisedPaise)}, unrealised ${formatInr(s.unrealisedPaise)}, charges ${formatInr(s.chargesPaise)})`,
      `CAGR ${fixed(m.cagrPct, '%')}, Sharpe ${fixed(m.sharpe)}, Sortino ${fixed(m.sortino)}, max drawdown ${formatInr(m.maxDrawdownPaise)} (${fixed(m.maxDrawdownPct, '%')}) over ${m.days} days`,
      `round trips ${m.roundTrips}, win rate ${fixed(m.winRatePct, '%')}, turnover ${formatInr(m.turnoverPaise)}`,
      ...(s.autoSquareOff.orders > 0
        ? [
            `auto square-off by the broker at the MIS cut-off: ${s.autoSquareOff.orders} orders, ${s.autoSquareOff.quantity} units, charges ${formatInr(s.autoSquareOff.chargesPaise)} (call-and-trade ${formatInr(s.autoSquareOff.callAndTradePaise)})`,
          ]
        : []),
      `equity ${formatInr(s.equityPaise)}; result written to ${out.json}, report to ${out.html}`,
    ].join('\n') + '\n'
  );
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

const figureCells = (f: RunFigures | null): string[] =>
  f === null
    ? ['–', '–', '–', '–', '–', '–', '–']
    : [
        formatInr(f.netPnlPaise),
        fixed(f.totalReturnPct, '%'),
        fixed(f.sharpe),
        fixed(f.sortino),
        fixed(f.maxDrawdownPct, '%'),
        fixed(f.winRatePct, '%'),
        String(f.trades),
      ];
const FIGURE_HEADER = ['P&L', 'return', 'Sharpe', 'Sortino', 'max DD', 'win rate', 'fills'];

/** The sweep's runs, best first. */
export function sweepTable(report: SweepReport, path: string, elapsedMs: number): string {
  const rows = report.ranking.map((index, rank) => {
    const run = report.runs[index]!;
    return [
      `${rank + 1}. ${pointLabel(run.params) || '(base settings)'}`,
      ...(run.figures ? figureCells(run.figures) : ['failed: ' + (run.error ?? ''), '', '', '', '', '', '']),
    ];
  });
  const failed = report.runs.filter((run) => run.figures === null).length;
  return [
    `sweep of ${report.strategy}: ${report.runs.length} runs${failed > 0 ? ` (${failed} refused or failed)` : ''} in ${(elapsedMs / 1000).toFixed(1)} s, best by ${report.objective} first`,
    table(['params', ...FIGURE_HEADER], rows),
    `summary written to ${path}${report.runs.some((run) => run.output) ? `; each run's result.json and report.html under ${join(dirname(path), 'runs')}` : ''}`,
    '',
  ].join('\n');
}

/** The walk-forward's windows and the stitched out-of-sample figures. */
export function walkForwardTable(report: WalkForwardReport, path: string, elapsedMs: number): string {
  const rows = report.windows.map((w) => [
    `${w.window.index + 1}. test ${w.window.testFrom}..${w.window.testTo}`,
    w.best ? pointLabel(w.best.params) || '(base settings)' : '–',
    w.best ? fixed(w.best.score) : '–',
    ...figureCells(w.test),
  ]);
  const o = report.outOfSample.metrics;
  return [
    `walk-forward of ${report.strategy}: ${report.windows.length} windows (train ${report.trainSessions} sessions, test ${report.testSessions}), best by ${report.objective}, in ${(elapsedMs / 1000).toFixed(1)} s`,
    table(['window', 'chosen', `train ${report.objective}`, ...FIGURE_HEADER], rows),
    `out of sample over ${o.days} sessions: P&L ${formatInr(o.endEquityPaise - report.initialCashPaise)}, return ${fixed(o.totalReturnPct, '%')}, CAGR ${fixed(o.cagrPct, '%')}, Sharpe ${fixed(o.sharpe)}, Sortino ${fixed(o.sortino)}, max drawdown ${formatInr(o.maxDrawdownPaise)} (${fixed(o.maxDrawdownPct, '%')}), fills ${o.trades}, charges ${formatInr(o.chargesPaise)}`,
    `summary written to ${path}; each test window's result.json and report.html under ${join(dirname(path), 'windows')}`,
    '',
  ].join('\n');
}

if (isEntryPoint(import.meta.url)) process.exitCode = await backtestCommand(process.argv.slice(2));
