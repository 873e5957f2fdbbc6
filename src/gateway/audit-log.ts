import type { AuditEntry, AuditFilter, AuditInput, AuditRecord, AuditStore } from '../persistence/audit-store.types.js';

/** {@link AuditStore} in memory: a bounded ring, newest kept, lost on restart. */
export class InMemoryAuditStore implements AuditStore {
  private readonly entries: AuditEntry[] = [];
  private seq = 0;

  constructor(private readonly capacity = 10_000) {}

  append(records: readonly AuditRecord[]): Promise<void> {
    for (const record of records) {
      this.seq += 1;
      this.entries.push({ seq: this.seq, ...record });
    }
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return Promise.resolve();
  }

  query(filter: AuditFilter): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < filter.limit; i -= 1) {
      const entry = this.entries[i]!;
      if (filter.beforeSeq !== undefined && entry.seq >= filter.beforeSeq) continue;
      if (filter.action !== undefined && entry.action !== filter.action) continue;
      if (filter.actor !== undefined && entry.actor !== filter.actor) continue;
      out.push(entry);
    }
    return Promise.resolve(out);
  }

  get size(): number {
    return this.entries.length;
  }
}

/**
 * The gateway's audit log in front of an {@link AuditStore}. `append` is synchronous for the
 * routes (it never delays a response): entries are stamped at once and written in order, in
 * batches, in the background. `query` (and `flush`) wait for what was appended before, so a
 * read sees every earlier write. A failed write is reported to `onError` and retried with the
 * next write (entries are kept, bounded by `maxPending`; beyond it the oldest are dropped and
 * reported), so a database hiccup neither loses the trail silently nor blocks trading.
 */
export class AuditLog {
  private pending: AuditRecord[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled = false;

  constructor(
    private readonly store: AuditStore,
    private readonly hooks: {
      readonly onAppend?: (record: AuditRecord) => void;
      readonly onError?: (error: unknown, pending: number) => void;
      readonly onDropped?: (dropped: number) => void;
      readonly nowMs?: () => number;
      readonly maxPending?: number;
    } = {},
  ) {}

  append(input: AuditInput): AuditRecord {
    const record: AuditRecord = { atMs: (this.hooks.nowMs ?? Date.now)(), ...input };
    this.pending.push(record);
    const max = this.hooks.maxPending ?? 100_000;
    if (this.pending.length > max) {
      const dropped = this.pending.length - max;
      this.pending.splice(0, dropped);
      this.hooks.onDropped?.(dropped);
    }
    this.hooks.onAppend?.(record);
    this.schedule();
    return record;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.writing = this.writing.then(async () => {
      this.scheduled = false;
      const batch = this.pending;
      if (batch.length === 0) return;
      this.pending = [];
      try {
        await this.store.append(batch);
      } catch (error) {
        // keep them (in order, before anything newer) for the next attempt
        this.pending = [...batch, ...this.pending];
        this.hooks.onError?.(error, this.pending.length);
      }
    });
  }

  /** Resolves once everything appended so far was handed to the store (or failed and is kept). */
  async flush(): Promise<void> {
    this.schedule();
    await this.writing;
  }

  /** Newest first; sees every entry appended before the call (when the store accepted it). */
  async query(filter: AuditFilter): Promise<AuditEntry[]> {
    await this.flush();
    return this.store.query(filter);
  }

  /** Entries appended but not yet in the store. */
  get backlog(): number {
    return this.pending.length;
  }
}
