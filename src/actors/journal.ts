/**
 * The journal port: every order intent, order state change and fill is appended durably before it
 * is acted on ("journal first, then act"). One global sequence orders all entries; `stream` groups
 * them (e.g. `execution/paper`) for replay. The execution actor writes its orders here as
 * {@link OrderJournalEntry}s; `src/persistence` implements the port (`SqlJournal`, `OrderJournal`).
 */
import type { Json } from './core/types.js';
import type { Fill, Order } from '../model/index.js';

/** What a caller appends. */
export interface JournalEntry {
  /** The stream (aggregate) the entry belongs to, e.g. `strategy/ema-cross-1`. */
  readonly stream: string;
  /** Entry type, e.g. `OrderIntent`, `OrderUpdated`, `Fill`. */
  readonly type: string;
  readonly payload: Json;
}

/** An entry as stored. */
export interface JournalRecord extends JournalEntry {
  /** Global, gap-tolerant, strictly increasing position in the journal. */
  readonly sequence: number;
  /** Commit-side time the entry was written, epoch ms. */
  readonly atMs: number;
}

/** The journal port. */
export interface Journal {
  /**
   * Appends entries in order, atomically. Resolves with their sequences (ascending, in the order
   * given) once committed: when it resolves, the entries survive a crash.
   */
  append(entries: readonly JournalEntry[]): Promise<number[]>;
  /** Entries with sequence > `sequence`, ascending; only `stream`'s when given; at most `limit` (default 10 000). */
  readAfter(sequence: number, options?: { readonly stream?: string; readonly limit?: number }): Promise<JournalRecord[]>;
}

export type OrderJournalEntry =
  | { readonly type: 'OrderPlaced'; readonly order: Order }
  | { readonly type: 'OrderUpdated'; readonly order: Order }
  | { readonly type: 'Fill'; readonly fill: Fill; readonly order: Order }
  | { readonly type: 'OrderReconciled'; readonly order: Order; readonly reason: string };

/** A typed order entry → a journal entry of `stream`. */
export function toJournalEntry(stream: string, entry: OrderJournalEntry): JournalEntry {
  const { type, ...payload } = entry;
  return { stream, type, payload: payload as unknown as Json };
}

/** A stored journal record → a typed order entry (undefined for types this module does not know). */
export function fromJournalRecord(record: JournalRecord): OrderJournalEntry | undefined {
  const payload = record.payload as unknown as Record<string, unknown>;
  switch (record.type) {
    case 'OrderPlaced':
    case 'OrderUpdated':
      return { type: record.type, order: payload.order as Order };
    case 'Fill':
      return { type: 'Fill', fill: payload.fill as Fill, order: payload.order as Order };
    case 'OrderReconciled':
      return { type: 'OrderReconciled', order: payload.order as Order, reason: String(payload.reason) };
    default:
      return undefined;
  }
}

/** Reads every record of `stream` after `sequence`, page by page. */
export async function* readStream(journal: Journal, stream: string, after = 0, pageSize = 10_000): AsyncGenerator<JournalRecord> {
  let cursor = after;
  for (;;) {
    const page = await journal.readAfter(cursor, { stream, limit: pageSize });
    for (const record of page) yield record;
    const last = page.at(-1);
    if (last === undefined || page.length < pageSize) return;
    cursor = last.sequence;
  }
}
