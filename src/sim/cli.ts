/**
 * `npx tsx src/sim/cli.ts --port 9000 [--data dir] [--seed n]`: runs the Kite simulator and
 * prints the credentials and how to log in.
 */
import { readDataFolder, type DataFolder } from '../streams/sources/csv-replay.js';
import { describeRejections, rejectionCounts, summariseRejections } from '../streams/sources/rejections.js';
import { DataError, intOption, isEntryPoint, parseArgs, StrictError, usage, UsageError } from '../cli/args.js';
import { createKiteSimulator, type KiteSimulator } from './kite-simulator.js';

const OPTIONS = [
  { name: 'port', description: 'TCP port', default: '9000', valueName: 'n' },
  { name: 'host', description: 'Interface to listen on', default: '127.0.0.1', valueName: 'host' },
  {
    name: 'data',
    description: 'Replay a folder of per-symbol CSV bars instead of the synthetic market (files or rows left out are listed on stderr)',
    valueName: 'dir',
  },
  { name: 'strict', description: 'With --data: refuse to start when any file or row is rejected', flag: true },
  { name: 'symbols', description: 'Synthetic market: number of symbols', default: '10', valueName: 'n' },
  { name: 'seed', description: 'Random seed', default: '1', valueName: 'n' },
  { name: 'ticks-per-second', description: 'Market ticks generated per second', default: '200', valueName: 'n' },
  { name: 'api-key', description: 'API key clients must use', default: 'troupe_sim_key', valueName: 'key' },
  { name: 'api-secret', description: 'API secret for checksums', default: 'troupe_sim_secret', valueName: 'secret' },
  { name: 'any-time', description: 'Accept orders outside NSE market hours', flag: true },
  { name: 'order-delay-ms', description: 'Fault: answer order requests after this delay', default: '0', valueName: 'ms' },
  { name: 'reject-orders', description: 'Fault: reject every order with this message', valueName: 'text' },
  { name: 'stop-postbacks', description: 'Fault: send no order postbacks', flag: true },
] as const;

/**
 * Reads a replay folder like the backtest does: what is left out is named on stderr (`warn`),
 * `strict` refuses any of it, and a folder with nothing to replay is an error.
 */
export async function readReplayFolder(dir: string, strict: boolean, warn: (text: string) => void): Promise<DataFolder> {
  const data = await readDataFolder(dir);
  const lines = describeRejections(data.rejected);
  if (lines.length > 0) warn(`${lines.join('\n')}\n`);
  if (data.instruments.length === 0) throw new DataError(`no usable CSV files in ${dir}`);
  if (strict && data.rejected.length > 0)
    throw new StrictError(`--strict: ${rejectionCounts(summariseRejections(data.rejected))} of the data rejected (listed above)`);
  return data;
}

/** Runs the CLI; resolves with the running simulator (undefined after --help). */
export async function runSimulatorCli(
  argv: readonly string[],
  write: (text: string) => void,
  warn: (text: string) => void = (text) => process.stderr.write(text),
): Promise<KiteSimulator | undefined> {
  const values = parseArgs(argv, OPTIONS);
  if (!values) {
    write(`${usage('troupe sim', 'A Kite Connect v3 compatible simulator (REST + ticker + matching engine).', OPTIONS)}\n`);
    return undefined;
  }
  const port = intOption(values, 'port', 0);
  const seed = intOption(values, 'seed', 0);
  const dataDir = values['data'];
  const market =
    dataDir === undefined
      ? ({ kind: 'synthetic', symbols: intOption(values, 'symbols') } as const)
      : ({ kind: 'replay', data: await readReplayFolder(dataDir, values['strict'] === 'true', warn) } as const);
  const apiKey = values['api-key'] ?? 'troupe_sim_key';
  const apiSecret = values['api-secret'] ?? 'troupe_sim_secret';
  const sim = await createKiteSimulator({
    port,
    host: values['host'] ?? '127.0.0.1',
    market,
    apiKey,
    apiSecret,
    seed,
    ticksPerSecond: intOption(values, 'ticks-per-second', 0),
    enforceMarketHours: values['any-time'] !== 'true',
    faults: {
      orderDelayMs: intOption(values, 'order-delay-ms', 0),
      rejectOrders: values['reject-orders'] ?? null,
      stopPostbacks: values['stop-postbacks'] === 'true',
    },
  });
  write(
    [
      `Kite simulator listening on ${sim.url} (ticker ${sim.wsUrl})`,
      `  market:     ${dataDir === undefined ? `synthetic, ${sim.admin.instruments.length} symbols, seed ${seed}` : `replay of ${dataDir} (${sim.admin.instruments.length} symbols)`}`,
      `  api key:    ${apiKey}`,
      `  api secret: ${apiSecret}`,
      '',
      'Get a request token (what Kite’s login redirect would bring):',
      `  curl -s -X POST ${sim.url}/__admin/request-token`,
      'then exchange it with the client: new KiteConnect({ api_key, root: "' + sim.url + '" }).generateSession(request_token, api_secret)',
      `or log in as a user would: KITE_ROOT=${sim.url} KITE_API_KEY=${apiKey} KITE_API_SECRET=${apiSecret} node bin/troupe.js kite login`,
      `  (the login page ${sim.url}/connect/login?api_key=…&redirect_url=… redirects with a fresh request_token)`,
      `Fault switches: POST ${sim.url}/__admin/faults (orderDelayMs, rejectOrders, serverErrors, serverErrorStatus, stopPostbacks, corruptCandles),`,
      `  POST /__admin/drop-websocket, POST /__admin/expire-sessions, POST /__admin/step?ticks=N, GET /__admin/stats`,
      '',
    ].join('\n'),
  );
  return sim;
}

if (isEntryPoint(import.meta.url)) {
  runSimulatorCli(process.argv.slice(2), (text) => process.stdout.write(text))
    .then((sim) => {
      if (sim === undefined) return;
      const stop = (): void => {
        void sim.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${error instanceof UsageError ? 'usage error: ' : ''}${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    });
}
