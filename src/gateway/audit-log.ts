import { Type, type Static } from 'typebox';

/** One audit entry: who did what, when, from where, and how it ended. */
export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  atMs: Type.Integer(),
  /** `user:<name>`, `key:<name>` or `anonymous`. */
  actor: Type.String(),
  action: Type.String(),
  target: Type.Optional(Type.String()),
  outcome: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')]),
  ip: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
/** An audit entry. */
export type AuditEntry = Static<typeof AuditEntry>;

/** What callers give; the log stamps seq and time. */
export type AuditInput = Omit<AuditEntry, 'seq' | 'atMs'>;

/**
 * The audit log: a bounded in-memory ring (newest kept) until persistence lands and
 * writes `audit_logs`. `onAppend` lets the persistence work (and metrics) follow along.
 */
export class AuditLog {
  private readonly entries: AuditEntry[] = [];
  private seq = 0;

  constructor(
    private readonly capacity = 10_000,
    private readonly onAppend: (entry: AuditEntry) => void = () => undefined,
    private readonly nowMs: () => number = Date.now,
  ) {}

  append(input: AuditInput): AuditEntry {
    this.seq += 1;
    const entry: AuditEntry = { seq: this.seq, atMs: this.nowMs(), ...input };
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    this.onAppend(entry);
    return entry;
  }

  /** Newest first, optionally filtered, before a sequence number (cursor), at most `limit`. */
  query(filter: { readonly action?: string; readonly actor?: string; readonly beforeSeq?: number; readonly limit: number }): AuditEntry[] {
    const out: AuditEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < filter.limit; i -= 1) {
      const entry = this.entries[i]!;
      if (filter.beforeSeq !== undefined && entry.seq >= filter.beforeSeq) continue;
      if (filter.action !== undefined && entry.action !== filter.action) continue;
      if (filter.actor !== undefined && entry.actor !== filter.actor) continue;
      out.push(entry);
    }
    return out;
  }

  get size(): number {
    return this.entries.length;
  }
}
