/**
 * Snapshots in Postgres (durable) and Redis (hot). Writes go to both; Postgres must succeed,
 * Redis may fail: a Redis outage degrades to Postgres only and is reported through `onDegraded`
 * and `status()`, never thrown.
 *
 * Reads try Redis first. Because Redis may have missed writes while it was down (and come back
 * with an older copy), a Redis hit is checked against Postgres's stored sequence (a primary-key
 * lookup that does not read the state): when Postgres is newer, its copy wins.
 */
import type { Snapshot, SnapshotStore } from '../actors/core/types.js';

/** A store that can also report a key's stored sequence cheaply. */
export interface SequencedSnapshotStore extends SnapshotStore {
  sequenceOf(key: string): Promise<number | undefined>;
}

/** Health of the hot tier. */
export interface TierStatus {
  readonly redis: 'ok' | 'degraded';
  /** Why Redis is degraded (its last error), while it is. */
  readonly lastError?: string;
  /** Redis operations that failed since this store was created. */
  readonly redisFailures: number;
}

/** A Redis failure the tiered store absorbed. */
export interface DegradedEvent {
  readonly operation: 'save' | 'load';
  readonly key: string;
  readonly error: unknown;
}

/** `SnapshotStore` writing to a durable and a hot store (see the module comment). */
export class TieredSnapshotStore implements SnapshotStore {
  private failures = 0;
  private lastError: string | undefined;

  /**
   * `onDegraded`: every Redis failure absorbed (for counting). `onChange`: the hot tier went
   * degraded (with the failure) or works again: what a log says, once per outage, not per attempt.
   */
  constructor(
    private readonly durable: SequencedSnapshotStore,
    private readonly hot: SnapshotStore,
    private readonly onDegraded: (event: DegradedEvent) => void = () => undefined,
    private readonly onChange: (status: TierStatus, event?: DegradedEvent) => void = () => undefined,
  ) {}

  /** Whether the hot tier is currently working. */
  status(): TierStatus {
    return {
      redis: this.lastError === undefined ? 'ok' : 'degraded',
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      redisFailures: this.failures,
    };
  }

  private degrade(operation: DegradedEvent['operation'], key: string, error: unknown): void {
    const wasOk = this.lastError === undefined;
    this.failures += 1;
    this.lastError = error instanceof Error ? error.message : String(error);
    const event = { operation, key, error };
    this.onDegraded(event);
    if (wasOk) this.onChange(this.status(), event);
  }

  private recovered(): void {
    if (this.lastError === undefined) return;
    this.lastError = undefined;
    this.onChange(this.status());
  }

  /** Resolves when Postgres has it; rejects only when Postgres fails. */
  async save(snapshot: Snapshot): Promise<void> {
    const [durable, hot] = await Promise.allSettled([this.durable.save(snapshot), this.hot.save(snapshot)]);
    if (hot.status === 'rejected') this.degrade('save', snapshot.key, hot.reason);
    else this.recovered();
    if (durable.status === 'rejected') throw durable.reason;
  }

  async load(key: string): Promise<Snapshot | undefined> {
    let hot: Snapshot | undefined;
    try {
      hot = await this.hot.load(key);
      this.recovered();
    } catch (error) {
      this.degrade('load', key, error);
    }
    if (hot !== undefined) {
      const durableSequence = await this.durable.sequenceOf(key);
      if (durableSequence === undefined || durableSequence <= hot.sequence) return hot;
    }
    return this.durable.load(key);
  }
}
