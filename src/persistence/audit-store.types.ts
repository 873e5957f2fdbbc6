/** The audit trail's entries and its store port: the gateway writes them (`AuditLog`), `src/persistence` keeps them. */
import { Type, type Static } from 'typebox';

/** One audit entry: who did what, when, from where, and how it ended. */
export const AuditEntry = Type.Object({
  seq: Type.Integer(),
  atMs: Type.Integer(),
  /** `user:<name>`, `key:<name>`, `system` or `anonymous`. */
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

/** An entry as written to a store: stamped with its time; the store numbers it. */
export type AuditRecord = Omit<AuditEntry, 'seq'>;

/** A query of the audit log: newest first, filtered, before a sequence number (cursor). */
export interface AuditFilter {
  readonly action?: string;
  readonly actor?: string;
  readonly beforeSeq?: number;
  readonly limit: number;
}

/**
 * The `AuditStore` port: where audit entries go. Implementations: `InMemoryAuditStore`
 * (`src/gateway/audit-log.ts`, a bounded ring; unit tests and embedding) and `PostgresAuditStore`
 * (`audit-store.ts`, the append-only `audit_logs` table; what `npm start` uses).
 * The store numbers entries (`seq`), increasing in append order.
 */
export interface AuditStore {
  /** Appends in order. */
  append(records: readonly AuditRecord[]): Promise<void>;
  /** Newest first. */
  query(filter: AuditFilter): Promise<AuditEntry[]>;
}
