/**
 * Durable actor snapshots in the `actor_snapshots` table: the latest per key. A save with a
 * lower `sequence` than the stored one is ignored (the actor core fires saves without awaiting
 * them, so an older save may arrive after a newer one).
 */
import type { Json, Snapshot, SnapshotStore } from '../actors/core/types.js';
import type { Queryable } from './database.js';

interface SnapshotRow {
  key: string;
  version: number;
  sequence: number;
  state: Json;
  at: Date;
}

/** Decodes a row of `actor_snapshots`. */
function toSnapshot(row: SnapshotRow): Snapshot {
  return { key: row.key, version: row.version, sequence: row.sequence, state: row.state, atMs: row.at.getTime() };
}

/** `SnapshotStore` on PostgreSQL or PGlite (upsert of the latest snapshot per key). */
const stateJson = new WeakMap<Snapshot, string>();

/**
 * A snapshot's state as JSON text, made once however many stores save that snapshot: the tiered
 * store saves each to PostgreSQL and Redis at once, and the execution actor's state (its open
 * orders and up to 10,000 finished ones) is megabytes, tens of ms of `JSON.stringify` a copy on the
 * trading thread every second. A snapshot is a value: it is never changed once taken.
 */
export function snapshotStateJson(snapshot: Snapshot): string {
  let text = stateJson.get(snapshot);
  if (text === undefined) stateJson.set(snapshot, (text = JSON.stringify(snapshot.state)));
  return text;
}

export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly db: Queryable) {}

  /** Upserts the snapshot unless the stored one has a higher sequence. Durable when it resolves. */
  async save(snapshot: Snapshot): Promise<void> {
    await this.db.query(
      `INSERT INTO actor_snapshots (key, version, sequence, state, at) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, sequence = EXCLUDED.sequence, state = EXCLUDED.state, at = EXCLUDED.at
       WHERE actor_snapshots.sequence <= EXCLUDED.sequence`,
      [snapshot.key, snapshot.version, snapshot.sequence, snapshotStateJson(snapshot), new Date(snapshot.atMs)],
    );
  }

  /** The latest snapshot under `key`, if any. */
  async load(key: string): Promise<Snapshot | undefined> {
    const rows = await this.db.query<SnapshotRow>('SELECT key, version, sequence, state, at FROM actor_snapshots WHERE key = $1', [key]);
    const row = rows[0];
    return row === undefined ? undefined : toSnapshot(row);
  }

  /** Only the stored sequence of `key` (cheap: no state), or undefined. */
  async sequenceOf(key: string): Promise<number | undefined> {
    const rows = await this.db.query<{ sequence: number }>('SELECT sequence FROM actor_snapshots WHERE key = $1', [key]);
    return rows[0]?.sequence;
  }
}
