/**
 * The retraining's child process (forked by `retrainer.ts`): receives one job, reports progress,
 * sends the result (or the error) back and exits. Training is synchronous and takes minutes; in a
 * child it never blocks the trading process's event loop.
 */
import { runRetrainJob, type RetrainJob } from './retrain-job.js';

process.once('message', (message: { readonly type: 'job'; readonly job: RetrainJob }) => {
  runRetrainJob(message.job, (phase, fraction, text) => process.send?.({ type: 'progress', phase, fraction, message: text }))
    .then((result) => process.send?.({ type: 'result', result }, () => process.exit(0)))
    .catch((error: unknown) => process.send?.({ type: 'error', message: error instanceof Error ? error.message : String(error) }, () => process.exit(1)));
});
process.on('disconnect', () => process.exit(0));
