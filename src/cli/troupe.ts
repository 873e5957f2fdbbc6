/**
 * The `troupe` command (bin/troupe.js): one entry for every tool.
 *   troupe start [--port N]          paper trading (same as npm start)
 *   troupe backtest --data … --strategy … [--sweep p=a..b:step] [--walk-forward train=N,test=M] [--source db]
 *   troupe sim --port 9000           Kite-compatible simulator
 *   troupe kite login | status       Kite session (stored encrypted)
 *   troupe fetch-history --symbols … --interval … --from … --to … [--out dir] [--store]
 *   troupe db backup --out … / troupe db restore --in … [--force]
 *   troupe ml train|list|promote|rollback|evaluate   ML models: training and the registry
 *   troupe help
 */
interface Command {
  readonly name: string;
  readonly summary: string;
  run(argv: readonly string[]): Promise<number>;
}

const COMMANDS: readonly Command[] = [
  {
    name: 'start',
    summary: 'Paper trading on the synthetic NSE market (API and metrics on :8080)',
    run: async (argv) => (await import('../main.js')).startCommand(argv),
  },
  {
    name: 'sim',
    summary: 'A Kite Connect compatible simulator: REST, ticker and matching engine (--port 9000)',
    run: async (argv) => {
      const { runSimulatorCli } = await import('../sim/cli.js');
      const { DataError, UsageError, usageErrorText } = await import('./args.js');
      const { DataFolderError } = await import('../streams/sources/csv-replay.js');
      let sim: Awaited<ReturnType<typeof runSimulatorCli>>;
      try {
        sim = await runSimulatorCli(argv, (text) => process.stdout.write(text));
      } catch (error) {
        if (error instanceof UsageError) process.stderr.write(usageErrorText('troupe sim', error.message, 'troupe sim --help'));
        else process.stderr.write(`troupe sim: ${error instanceof Error ? error.message : String(error)}\n`);
        // usage and data that cannot serve: 2; --strict refusals and other failures: 1
        return error instanceof UsageError || error instanceof DataError || error instanceof DataFolderError ? 2 : 1;
      }
      if (sim) {
        const stop = (): void => {
          sim.close().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      }
      return 0;
    },
  },
  {
    name: 'backtest',
    summary: 'Replay CSV files or stored bars through the actor tree: a deterministic result, parameter sweeps, walk-forward',
    run: async (argv) => (await import('./backtest.js')).backtestCommand(argv),
  },
  {
    name: 'kite',
    summary: 'Kite session: kite login (login URL, request token, session stored encrypted), kite status',
    run: async (argv) => (await import('./kite.js')).kiteCommand(argv),
  },
  {
    name: 'fetch-history',
    summary: 'Kite historical candles into CSV and/or the time-series store (--symbols … --interval … --from … --to …)',
    run: async (argv) => (await import('./fetch-history.js')).fetchHistoryCommand(argv),
  },
  {
    name: 'db',
    summary: 'Back up or restore the database: db backup --out <path>, db restore --in <path> [--force]',
    run: async (argv) => (await import('./db.js')).dbCommand(argv),
  },
  {
    name: 'ml',
    summary: 'ML models: ml train (Random Forest → ONNX, out-of-sample report), list, promote, rollback, evaluate',
    run: async (argv) => (await import('./ml.js')).mlCommand(argv),
  },
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: troupe <command> [options]   (each command takes --help)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    `  ${'help'.padEnd(width)}Show this help`,
  ].join('\n');
}

/** Runs a subcommand; returns the exit code. */
export async function runTroupe(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`troupe: unknown command "${name}" (${COMMANDS.map((c) => c.name).join(', ')})\nsee troupe help\n`);
    return 2;
  }
  return command.run(rest);
}
