/**
 * Actor snapshots in Redis: the hot copy for a fast restart. A hash per key
 * (`snapshot:<key>` → version, sequence, state, atMs); a save with a lower sequence than the
 * stored one is ignored, atomically (Lua).
 */
import type { Redis } from 'ioredis';
import type { Json, Snapshot, SnapshotStore } from '../../actors/core/types.js';
import { snapshotStateJson } from '../snapshot-store.js';

const SAVE = `
local current = redis.call('HGET', KEYS[1], 'sequence')
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'sequence', ARGV[2], 'state', ARGV[3], 'atMs', ARGV[4])
return 1`;

/** Redis key of a snapshot (relative to the client's prefix). */
export const snapshotKey = (key: string): string => `snapshot:${key}`;

/** `SnapshotStore` on Redis (not durable on its own: pair it with Postgres, see `TieredSnapshotStore`). */
export class RedisSnapshotStore implements SnapshotStore {
  constructor(private readonly client: Redis) {}

  async save(snapshot: Snapshot): Promise<void> {
    await this.client.eval(SAVE, 1, snapshotKey(snapshot.key), snapshot.version, snapshot.sequence, snapshotStateJson(snapshot), snapshot.atMs);
  }

  async load(key: string): Promise<Snapshot | undefined> {
    const fields = await this.client.hgetall(snapshotKey(key));
    const { version, sequence, state, atMs } = fields;
    if (version === undefined || sequence === undefined || state === undefined || atMs === undefined) return undefined;
    return { key, version: Number(version), sequence: Number(sequence), state: JSON.parse(state) as Json, atMs: Number(atMs) };
  }

  /** Only the stored sequence of `key`, or undefined. */
  async sequenceOf(key: string): Promise<number | undefined> {
    const sequence = await this.client.hget(snapshotKey(key), 'sequence');
    return sequence === null ? undefined : Number(sequence);
  }
}
