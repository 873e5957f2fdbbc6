/**
 * The gateway's `AuditStore` on the {@link Database} port (PostgreSQL or PGlite): the
 * `audit_logs` table (append-only: triggers refuse UPDATE, DELETE and TRUNCATE). Who
 * (`actor`), what (`action`, `subject`, `details`), when (`at`), from where (`ip`) and how it
 * ended (`outcome`). The entry's `seq` is the row id.
 */
import type { AuditEntry, AuditFilter, AuditRecord, AuditStore } from './audit-store.types.js';
import type { Queryable } from './database.js';

interface AuditRow {
  id: number;
  at_ms: number;
  actor: string;
  action: string;
  subject: string | null;
  outcome: AuditEntry['outcome'];
  ip: string | null;
  details: Record<string, unknown> | null;
}

/** Rows per INSERT (the statement has 7 parameters per row). */
const BATCH = 500;

/** {@link AuditStore} in `audit_logs`. Survives restarts; shared by every gateway on one database. */
export class PostgresAuditStore implements AuditStore {
  constructor(private readonly db: Queryable) {}

  async append(records: readonly AuditRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += BATCH) {
      const batch = records.slice(start, start + BATCH);
      const params: unknown[] = [];
      const values = batch.map((record) => {
        const base = params.length;
        params.push(record.atMs, record.actor, record.action, record.target ?? null, record.outcome, record.ip, JSON.stringify(record.details ?? {}));
        return `(to_timestamp($${base + 1}::double precision / 1000), $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6}, $${base + 7}::jsonb)`;
      });
      await this.db.query(`INSERT INTO audit_logs (at, actor, action, subject, outcome, ip, details) VALUES ${values.join(', ')}`, params);
    }
  }

  async query(filter: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.action !== undefined) {
      params.push(filter.action);
      where.push(`action = $${params.length}`);
    }
    if (filter.actor !== undefined) {
      params.push(filter.actor);
      where.push(`actor = $${params.length}`);
    }
    if (filter.beforeSeq !== undefined) {
      params.push(filter.beforeSeq);
      where.push(`id < $${params.length}`);
    }
    params.push(filter.limit);
    const rows = await this.db.query<AuditRow>(
      `SELECT id, (extract(epoch from at) * 1000)::bigint AS at_ms, actor, action, subject, outcome, ip, details
       FROM audit_logs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => {
      const details = row.details ?? {};
      return {
        seq: Number(row.id),
        atMs: Number(row.at_ms),
        actor: row.actor,
        action: row.action,
        ...(row.subject === null ? {} : { target: row.subject }),
        outcome: row.outcome,
        ip: row.ip ?? '',
        ...(Object.keys(details).length === 0 ? {} : { details }),
      };
    });
  }
}
