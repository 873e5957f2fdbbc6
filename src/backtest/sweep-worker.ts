/**
 * A child process of the backtest pool (pool.ts): receives the data once, then runs one job
 * at a time and sends its outcome back. Exits when the parent disconnects.
 */
import type { BacktestData } from './backtest.js';
import { executeJob, type BacktestJob } from './jobs.js';

type WorkerMessage = { readonly type: 'data'; readonly data: BacktestData } | { readonly type: 'job'; readonly job: BacktestJob };

let data: BacktestData | undefined;
let queue: Promise<void> = Promise.resolve();

process.on('message', (message: WorkerMessage) => {
  if (message.type === 'data') {
    data = message.data;
    return;
  }
  queue = queue.then(async () => {
    if (data === undefined) throw new Error('sweep worker: a job came before the data');
    const outcome = await executeJob(data, message.job);
    process.send?.({ type: 'outcome', outcome });
  });
});
process.on('disconnect', () => process.exit(0));
