/**
 * Paper mode: the paper broker inside `/execution/paper`, fed by the synthetic NSE market or
 * by a replay of a data folder (paper trading from a file, paced by the tree as in a backtest).
 */
import type { TroupeConfig } from '../config/config.js';
import { EXECUTION_STREAM } from '../brokers/paper/paper-adapter.js';
import { recoverFromJournal, type RecoveryReport } from '../persistence/recovery.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  createSyntheticMarket,
  describeRejections,
  readDataFolder,
  rejectionCounts,
  summariseRejections,
  syntheticTicks$,
  type DataFolder,
} from '../streams/index.js';
import { steppedReplay$ } from '../streams/sources/stepped-replay.js';
import type { BrokerWiring, ModeServices } from './broker-wiring.js';

/**
 * Reads the folder paper trading replays: every file or row left out is counted in
 * `troupe_data_rejected_total` and logged with the first examples (file and line); with
 * `strict`, any of it refuses the start, as does a folder with nothing usable.
 */
async function readReplay(dir: string, strict: boolean, metrics: Metrics, log: Logger): Promise<DataFolder> {
  const data = await readDataFolder(dir);
  if (data.rejected.length > 0) {
    const summary = summariseRejections(data.rejected);
    if (summary.files > 0) metrics.dataRejected.inc({ kind: 'file' }, summary.files);
    if (summary.rows > 0) metrics.dataRejected.inc({ kind: 'row' }, summary.rows);
    log.warn(
      { dir, files: summary.files, rows: summary.rows, examples: summary.examples, text: describeRejections(data.rejected).join('\n') },
      `replay data: ${rejectionCounts(summary)} left out`,
    );
    if (strict)
      throw new Error(`replay data in ${dir}: ${rejectionCounts(summary)} rejected and strict mode is on:\n${describeRejections(data.rejected).join('\n')}`);
  }
  if (data.instruments.length === 0) throw new Error(`replay data: no usable CSV files in ${dir}`);
  return data;
}

/** Nothing beyond the tree in paper mode: the broker lives inside `/execution/paper`. */
const NO_SERVICES: ModeServices = { start: () => undefined, stop: () => undefined };

/** Paper mode on the configured market: the replay of `config.market.replayDataDir`, else the synthetic one. */
export async function openPaperWiring(config: TroupeConfig, deps: { readonly metrics: Metrics; readonly log: Logger }): Promise<BrokerWiring<RecoveryReport>> {
  const replayDir = config.market.replayDataDir;
  const replay = replayDir === undefined ? undefined : await readReplay(replayDir, config.market.replayStrict, deps.metrics, deps.log);
  const synthetic = replay
    ? undefined
    : createSyntheticMarket({ symbols: config.market.symbols, seed: config.market.seed, ticksPerSymbolPerSecond: config.market.ticksPerSymbolPerSecond });
  let replayTimeMs = 0;
  const marketNowMs = (): number => (synthetic ? synthetic.simulatedTimeMs : replayTimeMs);
  const instruments = replay ? replay.instruments : synthetic!.instruments;
  return {
    mode: 'paper',
    portfolioId: 'paper',
    instruments,
    clock: { nowMs: marketNowMs },
    marketNowMs,
    // the execution actor: /execution/paper (the runtime's default)
    execution: {},
    journalStream: EXECUTION_STREAM,
    feed: {
      source: replay ? 'replay' : 'synthetic',
      // the replay is paced by the tree (the next step once it is idle), as in the backtest
      ticks$: (runtime) =>
        replay
          ? steppedReplay$(replay, { ready: () => runtime.whenIdle(), onStep: (atMs) => (replayTimeMs = atMs) })
          : syntheticTicks$(synthetic!, { mode: 'realtime', speed: config.market.speed }),
      connected: () => true,
      followsExchangeHours: false,
      pausable: true,
    },
    recover: (context) => recoverFromJournal({ ...context, nowMs: () => Date.now() }),
    attach: () => NO_SERVICES,
    announce: (port) => ({
      started: `Troupe started (port ${port})`,
      trading: replay ? 'Troupe is trading (paper, replay of a data folder)' : 'Troupe is trading (paper, synthetic NSE market)',
      fields: { port, symbols: instruments.length, ...(replay ? { replay: replayDir } : {}) },
    }),
  };
}
