/**
 * Retention of the time series (the seed's figures): ticks 7 days, 1 m bars 1 year, 1 h bars
 * 5 years. Enforced by dropping whole partitions whose entire range is older than the limit —
 * never a DELETE. (With TimescaleDB, its retention policies do this instead: `timescale.ts`.)
 */
import type { Queryable } from '../database.js';
import { indexClosedTickPartitions, listPartitions, type SeriesTable } from './partitions.js';

const DAY_MS = 86_400_000;

/** How long each table keeps data, in ms. */
export type RetentionPolicy = Readonly<Record<SeriesTable, number>>;

/** The seed's retention: ticks 7 days, 1 m bars 365 days, 1 h bars 5 × 365 + 1 days. */
export const DEFAULT_RETENTION: RetentionPolicy = { ticks: 7 * DAY_MS, bars_1m: 365 * DAY_MS, bars_1h: (5 * 365 + 1) * DAY_MS };

/**
 * Drops every partition whose end is at or before `nowMs − retention`. Returns the dropped names.
 */
export async function enforceRetention(db: Queryable, nowMs: number, policy: RetentionPolicy = DEFAULT_RETENTION): Promise<string[]> {
  const dropped: string[] = [];
  for (const table of Object.keys(policy) as SeriesTable[]) {
    const cutoffMs = nowMs - policy[table];
    for (const partition of await listPartitions(db, table)) {
      if (partition.toMs > cutoffMs) continue;
      await db.exec(`DROP TABLE IF EXISTS ${partition.name}`);
      dropped.push(partition.name);
    }
  }
  return dropped;
}

/** A running retention schedule. */
export interface RetentionJob {
  /** Stops the schedule; resolves when a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs {@link enforceRetention} now and then every `intervalMs` (default hourly), and after it
 * indexes the tick partitions whose day is over ({@link indexClosedTickPartitions}). Failures go
 * to `onError` and the next run tries again.
 */
export function scheduleRetention(
  db: Queryable,
  options: {
    readonly intervalMs?: number;
    readonly nowMs?: () => number;
    readonly policy?: RetentionPolicy;
    readonly onRun?: (dropped: string[]) => void;
    /** Tick partitions indexed by this run (their day is over). */
    readonly onIndexed?: (partitions: string[]) => void;
    readonly onError?: (error: unknown) => void;
  } = {},
): RetentionJob {
  let running: Promise<void> = Promise.resolve();
  const run = (): void => {
    running = running.then(async () => {
      try {
        const nowMs = (options.nowMs ?? Date.now)();
        options.onRun?.(await enforceRetention(db, nowMs, options.policy));
        const indexed = await indexClosedTickPartitions(db, nowMs);
        if (indexed.length > 0) options.onIndexed?.(indexed);
      } catch (error) {
        options.onError?.(error);
      }
    });
  };
  run();
  const timer = setInterval(run, options.intervalMs ?? 3_600_000);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
