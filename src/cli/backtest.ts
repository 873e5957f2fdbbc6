/**
 * `npm run backtest -- --data <dir> --strategy <kind> [--symbols A,B] [--out file.json]`
 * Replays a data folder through the same actor tree as paper trading, on a simulated
 * clock, and writes a JSON result. Two runs with the same input give identical bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runBacktest } from '../backtest/backtest.js';
import { stableJson } from '../backtest/stable-json.js';
import { formatInr } from '../model/index.js';
import { STRATEGIES } from '../strategies/index.js';
import { intOption, isEntryPoint, parseArgs, usage, UsageError, type OptionSpec } from './args.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'data', description: 'Folder of per-symbol CSV files (e.g. ../shared/data/nse-5min)', required: true, valueName: 'dir' },
  { name: 'strategy', description: `Strategy kind: ${STRATEGIES.map((s) => s.kind).join(', ')}`, required: true, valueName: 'kind' },
  { name: 'symbols', description: 'Comma-separated symbols (default: every file in the folder)', valueName: 'A,B' },
  { name: 'config', description: 'Strategy settings as JSON, e.g. \'{"fastPeriod":5}\'', valueName: 'json' },
  { name: 'capital', description: 'Starting cash in rupees', default: '10000000', valueName: 'rupees' },
  { name: 'out', description: 'Write the result JSON here', default: 'backtest-result.json', valueName: 'file' },
  { name: 'quiet', description: 'No progress output', flag: true },
];
const SUMMARY = 'Replays market data through the Troupe actor tree on a simulated clock and writes a deterministic JSON result.';

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
  const quiet = values.quiet === 'true';
  const started = Date.now();
  const result = await runBacktest({
    dataDir: resolve(values.data!),
    strategyKind: values.strategy!,
    strategyConfig: config,
    ...(values.symbols ? { symbols: values.symbols.split(',').map((s) => s.trim()) } : {}),
    initialCashPaise: intOption(values, 'capital') * 100,
    onProgress: quiet
      ? undefined
      : (done, total) => process.stderr.write(`\rreplaying: ${Math.min(100, Math.floor((done * 100) / Math.max(1, total)))}% (${done} ticks)`),
  } as Parameters<typeof runBacktest>[0]);
  if (!quiet) process.stderr.write('\n');
  const out = resolve(values.out!);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, stableJson(result));
  const s = result.summary;
  process.stdout.write(
    [
      `strategy ${result.meta.strategy} on ${result.meta.symbols.length} symbols, ${result.meta.bars} bars (${result.meta.ticks} ticks) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `orders ${s.orders}, fills ${s.fills}, refused by risk ${s.rejectedIntents}`,
      `P&L ${formatInr(s.netPnlPaise)} (realised ${formatInr(s.realisedPaise)}, unrealised ${formatInr(s.unrealisedPaise)}, charges ${formatInr(s.chargesPaise)})`,
      `equity ${formatInr(s.equityPaise)}; result written to ${out}`,
    ].join('\n') + '\n',
  );
}

if (isEntryPoint(import.meta.url)) process.exitCode = await backtestCommand(process.argv.slice(2));
