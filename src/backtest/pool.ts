/**
 * Runs backtest jobs in parallel on child processes (one Node process per job slot, each
 * with the data sent once). With one job slot they run in this process. Outcomes are
 * returned in job order, whatever order they finish in.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BacktestData } from './backtest.js';
import { executeJob, type BacktestJob, type JobOutcome } from './jobs.js';

/** Default number of parallel backtests: the cores available. */
export function defaultJobs(): number {
  return availableParallelism();
}

/** Runs jobs and reports each outcome as it arrives. */
export interface JobRunner {
  run(jobs: readonly BacktestJob[], onOutcome?: (outcome: JobOutcome) => void): Promise<JobOutcome[]>;
  close(): Promise<void>;
}

/** The worker's module, and how to start Node on it (this project runs TypeScript through tsx). */
function workerLaunch(): { readonly path: string; readonly execArgv: string[] } {
  const url = new URL(import.meta.url.endsWith('.ts') ? './sweep-worker.ts' : './sweep-worker.js', import.meta.url);
  if (!url.pathname.endsWith('.ts')) return { path: fileURLToPath(url), execArgv: [] };
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { path: fileURLToPath(url), execArgv: ['--import', tsx] };
}

/** A runner on `jobs` processes (in this process when `jobs` is 1). */
export function createJobRunner(data: BacktestData, jobs: number): JobRunner {
  if (!Number.isSafeInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be a whole number ≥ 1, got ${jobs}`);
  if (jobs === 1) {
    return {
      async run(list, onOutcome) {
        const outcomes: JobOutcome[] = [];
        for (const job of list) {
          const outcome = await executeJob(data, job);
          onOutcome?.(outcome);
          outcomes.push(outcome);
        }
        return outcomes;
      },
      close: () => Promise.resolve(),
    };
  }
  const children: ChildProcess[] = [];
  const launch = workerLaunch();
  const spawnChild = (): ChildProcess => {
    const child = fork(launch.path, [], { execArgv: launch.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ type: 'data', data });
    children.push(child);
    return child;
  };
  return {
    run(list, onOutcome) {
      return new Promise<JobOutcome[]>((resolve, reject) => {
        const outcomes = new Array<JobOutcome | undefined>(list.length);
        const position = new Map(list.map((job, index) => [job.id, index]));
        let next = 0;
        let done = 0;
        let failed = false;
        const fail = (error: Error): void => {
          if (failed) return;
          failed = true;
          reject(error);
        };
        const dispatch = (child: ChildProcess): void => {
          if (failed) return;
          const job = list[next];
          if (job === undefined) return; // nothing left: the child waits for the next run or close
          next += 1;
          child.send({ type: 'job', job });
        };
        if (list.length === 0) {
          resolve([]);
          return;
        }
        const wanted = Math.min(jobs, list.length);
        while (children.length < wanted) spawnChild();
        const listeners: Array<() => void> = [];
        const finish = (): void => {
          for (const remove of listeners) remove();
          resolve(outcomes as JobOutcome[]);
        };
        for (const child of children) {
          const onMessage = (message: { type: string; outcome: JobOutcome }): void => {
            if (message.type !== 'outcome') return;
            const at = position.get(message.outcome.id);
            if (at === undefined) return;
            outcomes[at] = message.outcome;
            done += 1;
            onOutcome?.(message.outcome);
            if (done === list.length) finish();
            else dispatch(child);
          };
          const onExit = (code: number | null, signal: string | null): void =>
            fail(new Error(`a backtest worker exited (${signal ?? `code ${code}`}) before its jobs were done`));
          child.on('message', onMessage);
          child.on('exit', onExit);
          listeners.push(() => {
            child.off('message', onMessage);
            child.off('exit', onExit);
          });
          dispatch(child);
        }
      });
    },
    async close() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) {
                resolve();
                return;
              }
              child.once('exit', () => resolve());
              child.disconnect();
            }),
        ),
      );
      children.length = 0;
    },
  };
}
