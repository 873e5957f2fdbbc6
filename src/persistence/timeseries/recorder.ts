/**
 * The market-data recorder of a running Troupe: every tick the pipeline validates goes to the
 * `ticks` time series and every closed 1 m bar to `bars_1m` (with the 1 h roll-up), behind
 * bounded buffers. It never blocks and never awaits on the market-data path: `offerTicks` and
 * `offerBars` only append, and when a buffer is full they shed and count (ticks and bars only —
 * orders and fills go through the journal, which never sheds). The retention job runs on a
 * schedule and drops whole partitions; the ingestor forgets them so a later tick re-creates one.
 * The same job indexes the tick partitions of closed days (the live day is written unindexed).
 */
import type { Bar, Tick } from '../../model/market.js';
import type { Logger } from '../../observability/logger.js';
import type { IngestStats } from '../../observability/metrics.js';
import type { Database } from '../database.js';
import { rollUpHourBars, upsertBars } from './bars.js';
import { PartitionCache } from './partitions.js';
import { scheduleRetention, type RetentionJob, type RetentionPolicy } from './retention.js';
import { TickIngestor } from './tick-ingestor.js';

export interface RecorderOptions {
  /** Ticks waiting before shedding (config `persistence.tickBufferCapacity`). */
  readonly tickCapacity: number;
  /** Ticks per write (config `persistence.tickBatchSize`). */
  readonly tickBatchSize: number;
  /**
   * Record ticks (default true). The app turns it off on the embedded PGlite: it runs on the
   * trading thread, so every tick batch it wrote would hold up the actors; bars stay recorded.
   */
  readonly recordTicks?: boolean;
  /** Bars waiting before shedding (default 100 000). */
  readonly barCapacity?: number;
  /** Partial tick batches are written after this long (default 200 ms). */
  readonly flushIntervalMs?: number;
  /** Series layout (`prepareTimeSeries`): with TimescaleDB there are no partitions to make and no roll-up to run. Default: partitions. */
  readonly layout?: { readonly mode: 'partitions' | 'timescale' };
  /** Retention: the clock it measures age against (default wall time) and how often it runs (default hourly). */
  readonly retention?: { readonly nowMs?: () => number; readonly intervalMs?: number; readonly policy?: RetentionPolicy } | false;
  readonly log?: Logger;
}

/** The recorder's figures: the ingest's the metrics read, and its own. */
export interface RecorderStats extends IngestStats {
  readonly failedBars: number;
  readonly retentionRuns: number;
  readonly droppedPartitions: number;
}

const HOUR_MS = 3_600_000;

export class MarketDataRecorder {
  readonly ticks: TickIngestor;
  private bars: Bar[] = [];
  private barWriting: Promise<void> | undefined;
  private readonly barPartitions: PartitionCache;
  private readonly retention: RetentionJob | undefined;
  private counters = { shedBars: 0, writtenBars: 0, failedBars: 0, retentionRuns: 0, droppedPartitions: 0 };
  private lastShedLogMs = 0;

  constructor(
    private readonly db: Database,
    private readonly options: RecorderOptions,
  ) {
    this.ticks = new TickIngestor(db, {
      capacity: options.tickCapacity,
      batchSize: options.tickBatchSize,
      flushIntervalMs: options.flushIntervalMs ?? 200,
      partitions: options.layout?.mode !== 'timescale',
      onError: (error, lost) => options.log?.warn({ err: error, lost }, 'tick ingest batch failed: its ticks are not stored (trading is not affected)'),
    });
    const partitioned = options.layout?.mode !== 'timescale';
    this.barPartitions = new PartitionCache(db, partitioned);
    if (options.retention !== false && partitioned) {
      const retention = options.retention ?? {};
      this.retention = scheduleRetention(db, {
        ...(retention.nowMs ? { nowMs: retention.nowMs } : {}),
        ...(retention.intervalMs ? { intervalMs: retention.intervalMs } : {}),
        ...(retention.policy ? { policy: retention.policy } : {}),
        onRun: (dropped) => {
          this.counters.retentionRuns += 1;
          this.counters.droppedPartitions += dropped.length;
          this.ticks.forgetPartitions(dropped);
          for (const name of dropped) this.barPartitions.forget(name);
          if (dropped.length > 0) options.log?.info({ dropped }, 'retention dropped old time-series partitions');
        },
        onIndexed: (partitions) => options.log?.info({ partitions }, 'indexed the tick partitions of closed days'),
        onError: (error) => options.log?.warn({ err: error }, 'retention run failed (tries again next time)'),
      });
    }
  }

  /** Takes ticks in (never blocks); sheds and counts what does not fit. Returns how many were shed. */
  offerTicks(ticks: readonly Tick[]): number {
    if (this.options.recordTicks === false) return 0;
    let shed = 0;
    for (const tick of ticks) if (!this.ticks.offer(tick)) shed += 1;
    if (shed > 0 && Date.now() - this.lastShedLogMs > 10_000) {
      this.lastShedLogMs = Date.now();
      this.options.log?.warn({ shedTotal: this.ticks.stats().shed }, 'tick ingest buffer full: ticks are shed from the time series (trading is not affected)');
    }
    return shed;
  }

  /** Takes closed bars in (1 m are stored, others ignored); never blocks; sheds beyond capacity. */
  offerBars(bars: readonly Bar[]): void {
    const capacity = this.options.barCapacity ?? 100_000;
    for (const bar of bars) {
      if (bar.interval !== '1m') continue;
      if (this.bars.length >= capacity) {
        this.counters.shedBars += 1;
        continue;
      }
      this.bars.push(bar);
    }
    if (this.bars.length > 0 && this.barWriting === undefined) this.barWriting = this.writeBars();
  }

  private async writeBars(): Promise<void> {
    try {
      while (this.bars.length > 0) {
        const batch = this.bars;
        this.bars = [];
        try {
          await upsertBars(this.db, batch, this.barPartitions);
          let fromMs = Number.POSITIVE_INFINITY;
          let toMs = Number.NEGATIVE_INFINITY;
          for (const bar of batch) {
            fromMs = Math.min(fromMs, bar.startMs);
            toMs = Math.max(toMs, bar.startMs + 60_000);
          }
          if (this.options.layout?.mode !== 'timescale') await rollUpHourBars(this.db, Math.floor(fromMs / HOUR_MS) * HOUR_MS, toMs, this.barPartitions);
          this.counters.writtenBars += batch.length;
        } catch (error) {
          this.counters.failedBars += batch.length;
          this.options.log?.warn({ err: error, lost: batch.length }, 'bar ingest failed: these bars are not stored (trading is not affected)');
        }
      }
    } finally {
      this.barWriting = undefined;
    }
  }

  stats(): RecorderStats {
    const ticks = this.ticks.stats();
    return {
      queueDepth: ticks.pending + this.bars.length,
      shedTicks: ticks.shed,
      writtenTicks: ticks.written,
      failedTicks: ticks.failed,
      ...this.counters,
    };
  }

  /** Writes what is buffered (ticks and bars); resolves when committed or failed. */
  async flush(): Promise<void> {
    await this.ticks.flush();
    while (this.barWriting !== undefined) await this.barWriting;
  }

  /** Stops the timers and the retention schedule, then flushes. */
  async stop(): Promise<void> {
    await this.retention?.stop();
    await this.ticks.stop();
    while (this.barWriting !== undefined) await this.barWriting;
  }
}
