/**
 * `npx tsx bench/ticker.bench.ts [--rate N] [--seconds N] [--symbols N] [--mode full|quote|ltp] [--json]`
 *
 * Runs the Kite simulator (`src/sim/cli.ts`, its own process, as a real deployment would) with
 * its synthetic market at `rate` ticks/s, and a real `KiteTicker` client in this process
 * (loopback) subscribed to every symbol in `mode`;
 * prints the ticks/s the client parsed and writes bench/results/ticker.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { KiteConnect, KiteTicker } from 'kiteconnect';
import type { KiteTickerParams, Tick } from 'kiteconnect/types/ticker.js';
import { intOption, parseArgs, usage } from '../src/cli/args.js';
import type { SimulatorStats } from '../src/sim/index.js';

const OPTIONS = [
  { name: 'rate', description: 'Market ticks/s the simulator generates', default: '50000', valueName: 'n' },
  { name: 'seconds', description: 'Measured duration', default: '5', valueName: 's' },
  { name: 'symbols', description: 'Symbols (all subscribed)', default: '50', valueName: 'n' },
  { name: 'mode', description: 'Ticker mode: full, quote or ltp', default: 'full', valueName: 'mode' },
  { name: 'json', description: 'Print one JSON object', flag: true },
] as const;

const values = parseArgs(process.argv.slice(2), OPTIONS);
if (!values) {
  process.stdout.write(`${usage('npx tsx bench/ticker.bench.ts', 'Ticks/s a KiteTicker client receives from the simulator.', OPTIONS)}\n`);
  process.exit(0);
}
const rate = intOption(values, 'rate');
const seconds = intOption(values, 'seconds');
const symbols = intOption(values, 'symbols');
const mode = values['mode'] === 'ltp' || values['mode'] === 'quote' ? values['mode'] : 'full';

const child = spawn(
  process.execPath,
  ['--import', 'tsx', 'src/sim/cli.ts', '--port', '0', '--symbols', String(symbols), '--ticks-per-second', String(rate), '--api-key', 'bench', '--api-secret', 'bench-secret', '--any-time'],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((resolve, reject) => {
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    const match = /listening on (http:\/\/[^ ]+)/.exec(text);
    if (match?.[1]) resolve(match[1]);
  });
  child.once('exit', (code) => reject(new Error(`simulator exited with ${String(code)}`)));
});
const admin = async <T>(method: 'GET' | 'POST', path: string): Promise<T> => {
  const response = await fetch(`${url}/__admin/${path}`, { method });
  return ((await response.json()) as { data: T }).data;
};
const stats = (): Promise<SimulatorStats> => admin<SimulatorStats>('GET', 'stats');
const kite = new KiteConnect({ api_key: 'bench', root: url });
const requestToken = (await admin<{ request_token: string }>('POST', 'request-token')).request_token;
const session = await kite.generateSession(requestToken, 'bench-secret');
const wsUrl = `${url.replace('http://', 'ws://')}/`;
const params: KiteTickerParams & { root: string } = { api_key: 'bench', access_token: session.access_token, root: wsUrl, reconnect: false };
const ticker = new KiteTicker(params);
let received = 0;
let depthChecked = 0;
ticker.on('ticks', (ticks: Tick[]) => {
  received += ticks.length;
  const first = ticks[0];
  if (first !== undefined && 'depth' in first && first.depth !== undefined && first.depth.buy.length === 5) depthChecked += 1;
});
await new Promise<void>((resolve) => {
  ticker.on('connect', () => resolve());
  ticker.connect();
});
const tokens = (await kite.getInstruments('NSE')).filter((i) => i.segment === 'NSE').map((i) => Number(i.instrument_token));
ticker.subscribe(tokens);
ticker.setMode(mode, tokens);

// Warm up for a second, then measure.
await new Promise((resolve) => setTimeout(resolve, 1000));
const startStats = await stats();
const startReceived = received;
const started = performance.now();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const elapsedSec = (performance.now() - started) / 1000;
const endStats = await stats();
const result = {
  benchmark: 'ticker',
  mode,
  symbols,
  offeredTicksPerSecond: rate,
  seconds: Number(elapsedSec.toFixed(3)),
  marketTicksPerSecond: Math.round((endStats.marketTicks - startStats.marketTicks) / elapsedSec),
  sentPacketsPerSecond: Math.round((endStats.packetsSent - startStats.packetsSent) / elapsedSec),
  receivedTicksPerSecond: Math.round((received - startReceived) / elapsedSec),
  droppedPackets: endStats.packetsDropped - startStats.packetsDropped,
  framesWithDepth: depthChecked,
  node: process.version,
  at: new Date().toISOString(),
};
ticker.disconnect();
child.kill('SIGTERM');
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/ticker.json', `${JSON.stringify(result, null, 2)}\n`);
if (values['json'] === 'true') process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `KiteTicker (${mode}, ${symbols} symbols): offered ${rate} ticks/s, market ${result.marketTicksPerSecond}/s, ` +
      `sent ${result.sentPacketsPerSecond}/s, received ${result.receivedTicksPerSecond} ticks/s, dropped ${result.droppedPackets}\n`,
  );
}
process.exit(0);
