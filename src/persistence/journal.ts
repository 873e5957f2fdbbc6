/**
 * The journal in SQL: {@link SqlJournal} implements the journal port of `src/actors/journal.ts`
 * (every order intent, order state change and fill, appended durably before it is acted on) in
 * the `journal` table. One global sequence (bigserial) orders all entries; `stream` groups them.
 */
import type { Json } from '../actors/core/types.js';
import type { Journal, JournalEntry, JournalRecord } from '../actors/journal.js';
import type { Queryable } from './database.js';

interface JournalRow {
  sequence: number;
  stream: string;
  type: string;
  payload: Json;
  at: Date;
}

/** {@link Journal} in the `journal` table (PostgreSQL or PGlite). */
export class SqlJournal implements Journal {
  constructor(private readonly db: Queryable) {}

  /** `fence`: the writer's fencing token, stored with each entry (see `lease.ts`). */
  async append(entries: readonly JournalEntry[], fence?: number): Promise<number[]> {
    if (entries.length === 0) return [];
    // One statement = one atomic, committed insert; rows are produced (and numbered) in `ord` order.
    const rows = await this.db.query<{ sequence: number }>(
      `INSERT INTO journal (stream, type, payload, fence)
       SELECT stream, type, payload::jsonb, $4::bigint FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(stream, type, payload, ord)
       ORDER BY ord
       RETURNING sequence`,
      [entries.map((entry) => entry.stream), entries.map((entry) => entry.type), entries.map((entry) => JSON.stringify(entry.payload)), fence ?? null],
    );
    return rows.map((row) => row.sequence).sort((a, b) => a - b);
  }

  async readAfter(sequence: number, options: { readonly stream?: string; readonly limit?: number } = {}): Promise<JournalRecord[]> {
    const limit = options.limit ?? 10_000;
    const rows =
      options.stream === undefined
        ? await this.db.query<JournalRow>('SELECT sequence, stream, type, payload, at FROM journal WHERE sequence > $1 ORDER BY sequence LIMIT $2', [
            sequence,
            limit,
          ])
        : await this.db.query<JournalRow>(
            'SELECT sequence, stream, type, payload, at FROM journal WHERE stream = $1 AND sequence > $2 ORDER BY sequence LIMIT $3',
            [options.stream, sequence, limit],
          );
    return rows.map((row) => ({ sequence: row.sequence, stream: row.stream, type: row.type, payload: row.payload, atMs: row.at.getTime() }));
  }
}
