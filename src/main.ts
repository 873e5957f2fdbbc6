/**
 * `npm start`: paper trading on the synthetic NSE market (or, with `--broker kite`, through Kite),
 * API and metrics on PORT (8080); both through `startTroupe` (src/app.ts).
 * On a terminal it shows a live status line and writes JSON logs to a file; otherwise the
 * JSON logs go to stdout. SIGINT/SIGTERM stop it gracefully (exit 0 within 10 s).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startTroupe, type Running } from './app.js';
import { isEntryPoint, parseArgs, usage, usageErrorText, UsageError, type OptionSpec } from './cli/args.js';
import { isInteractive, loadConfig } from './config/config.js';
import { formatInr, summarisePortfolio } from './model/index.js';
import { createLogger, openLogFile, type Logger } from './observability/logger.js';
import type { ActorHealth } from './actors/core/index.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'port', description: 'HTTP port (or PORT)', valueName: 'n' },
  { name: 'symbols', description: 'Synthetic symbols (or TROUPE_SYMBOLS)', valueName: 'n' },
  { name: 'speed', description: 'Market seconds per wall second (or TROUPE_MARKET_SPEED)', valueName: 'x' },
  { name: 'broker', description: 'paper or kite (or TROUPE_BROKER; kite reads KITE_* settings)', valueName: 'name' },
  {
    name: 'data',
    description:
      'Paper trading on a replay of this folder of per-symbol CSV bars instead of the synthetic market (or TROUPE_REPLAY_DATA); files or rows left out are logged and counted (troupe_data_rejected_total)',
    valueName: 'dir',
  },
  { name: 'strict', description: 'With --data: refuse to start when any file or row is rejected (or TROUPE_REPLAY_STRICT)', flag: true },
];
const SUMMARY = 'Paper trading on a generated NSE market; API and metrics on http://localhost:8080.';

function countActors(nodes: readonly ActorHealth[], into = { total: 0, running: 0, restarts: 0 }) {
  for (const node of nodes) {
    into.total += 1;
    if (node.status === 'running') into.running += 1;
    into.restarts += node.restarts;
    countActors(node.children, into);
  }
  return into;
}

function statusLine(running: Running, previous: { ticks: number; atMs: number }): string {
  const now = Date.now();
  const rate = Math.round(((running.stats.ticks - previous.ticks) * 1000) / Math.max(1, now - previous.atMs));
  previous.ticks = running.stats.ticks;
  previous.atMs = now;
  const actors = countActors(running.runtime.system.health());
  const state = running.runtime.portfolio();
  const summary = state ? summarisePortfolio(state) : undefined;
  return [
    `ticks/s ${rate}`,
    `actors ${actors.running}/${actors.total} up, ${actors.restarts} restarts`,
    `orders ${running.stats.orders}`,
    `fills ${running.stats.fills}`,
    summary ? `equity ${formatInr(summary.equityPaise)}` : '',
    summary ? `P&L ${formatInr(summary.netPnlPaise)}` : '',
  ]
    .filter(Boolean)
    .join(' │ ');
}

/** `troupe start …` / `npm start`: starts trading; resolves once running (the process then lives until a signal). */
export async function startCommand(argv: readonly string[]): Promise<number> {
  try {
    await main(argv);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(usageErrorText('troupe start', error.message, 'troupe start --help'));
      return 2;
    }
    process.stderr.write(`troupe: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const values = parseArgs(argv, OPTIONS);
  if (!values) {
    process.stdout.write(`${usage('npm start --', SUMMARY, OPTIONS)}\n`);
    return;
  }
  const config = loadConfig(undefined, {
    PORT: values.port,
    TROUPE_SYMBOLS: values.symbols,
    TROUPE_MARKET_SPEED: values.speed,
    TROUPE_BROKER: values.broker,
    TROUPE_REPLAY_DATA: values.data,
    TROUPE_REPLAY_STRICT: values.strict,
  });
  // what this process creates (logs, the data directory, keys) is the owner's only; PGlite's own files are fixed by openStores
  process.umask(0o077);
  const interactive = isInteractive();
  let log: Logger;
  // TROUPE_LOG_FILE, or on a terminal <data dir>/logs/troupe.log: rotated (TROUPE_LOG_ROTATE) and pruned (TROUPE_LOG_RETAIN)
  const logFile = config.logFile ?? (interactive ? { path: join(config.dataDir, 'logs', 'troupe.log'), ...config.logRotation } : undefined);
  if (logFile) {
    log = createLogger(config.logLevel, await openLogFile(logFile));
    if (interactive) process.stdout.write(`Troupe: logs go to ${join(dirname(logFile.path), 'current.log')} (the newest of the rotated files)\n`);
  } else {
    log = createLogger(config.logLevel);
  }
  // one composition root for both broker modes (TROUPE_BROKER / --broker: paper or kite)
  const running = await startTroupe(config, log);
  if (interactive) {
    process.stdout.write(
      `Troupe: ${running.mode === 'kite' ? 'trading through Kite' : 'paper trading'}; dashboard and API on http://localhost:${running.port}  (Ctrl-C stops)\n`,
    );
    if (running.generatedAdmin) {
      process.stderr.write(
        `Troupe: log in as "${running.generatedAdmin.username}" with password ${running.generatedAdmin.password} (shown once; set ADMIN_USER/ADMIN_PASSWORD to choose)\n`,
      );
    }
  } else if (running.generatedAdmin) {
    // no terminal (a service, a container whose output is collected): the password goes to an
    // owner-only file, never to the log; the log says where
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const file = join(config.dataDir, 'initial-admin-password');
    writeFileSync(file, `${running.generatedAdmin.username}\n${running.generatedAdmin.password}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    log.warn(
      { username: running.generatedAdmin.username, file },
      "the first admin's generated password is in this owner-only file: read it, log in, change the password and delete the file",
    );
  }
  const previous = { ticks: 0, atMs: Date.now() };
  const timer = interactive ? setInterval(() => process.stdout.write(`\r\x1b[2K${statusLine(running, previous)}`), 1000) : undefined;

  const shutdown = (signal: string): void => {
    if (timer) clearInterval(timer);
    if (interactive) process.stdout.write('\n');
    const force = setTimeout(() => {
      log.error('graceful stop took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    // the log is flushed before the process exits (a file log writes asynchronously)
    running.stop(signal).then(
      () => log.flush(() => process.exit(0)),
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        log.flush(() => process.exit(1));
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (isEntryPoint(import.meta.url)) {
  const code = await startCommand(process.argv.slice(2));
  if (code !== 0) process.exit(code);
}
