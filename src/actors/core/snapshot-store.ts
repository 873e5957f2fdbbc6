import type { Snapshot, SnapshotStore } from './types.js';

/**
 * A `SnapshotStore` in memory: the default for tests and for a process without a database.
 * The last `save` for a key wins. Counts saves so tests can observe cadence.
 */
export class InMemorySnapshotStore implements SnapshotStore {
  private readonly byKey = new Map<string, Snapshot>();
  /** Number of successful `save` calls. */
  saves = 0;

  /** Stores (replaces) the snapshot under its key. */
  save(snapshot: Snapshot): Promise<void> {
    this.byKey.set(snapshot.key, snapshot);
    this.saves += 1;
    return Promise.resolve();
  }

  /** The last snapshot saved under `key`, if any. */
  load(key: string): Promise<Snapshot | undefined> {
    return Promise.resolve(this.byKey.get(key));
  }

  /** Synchronous peek for tests. */
  get(key: string): Snapshot | undefined {
    return this.byKey.get(key);
  }

  /** All keys currently stored. */
  keys(): string[] {
    return [...this.byKey.keys()];
  }
}
