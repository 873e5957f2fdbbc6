/**
 * The journal port: every order intent, order state change and fill is appended durably before it
 * is acted on ("journal first, then act"). One global sequence orders all entries; `stream` groups
 * them (e.g. `execution/paper`) for replay. The execution actor writes its orders here as
 * {@link OrderJournalEntry}s; `src/persistence` implements the port (`SqlJournal`, `OrderJournal`).
 */
import { Type } from 'typebox';
import { decodeJson, encodeJson } from './core/json-codec.js';
import type { Json } from './core/types.js';
import { FillSchema, OrderSchema } from './schemas.js';
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

/** The payload of each entry type, as journaled. */
const OrderPayloadSchema = Type.Object({ order: OrderSchema });
const FillPayloadSchema = Type.Object({ fill: FillSchema, order: OrderSchema });
const ReconciledPayloadSchema = Type.Object({ order: OrderSchema, reason: Type.String() });

/** A typed order entry → a journal entry of `stream`. */
export function toJournalEntry(stream: string, entry: OrderJournalEntry): JournalEntry {
  switch (entry.type) {
    case 'OrderPlaced':
    case 'OrderUpdated':
      return { stream, type: entry.type, payload: encodeJson(OrderPayloadSchema, { order: entry.order }) };
    case 'Fill':
      return { stream, type: entry.type, payload: encodeJson(FillPayloadSchema, { fill: entry.fill, order: entry.order }) };
    case 'OrderReconciled':
      return { stream, type: entry.type, payload: encodeJson(ReconciledPayloadSchema, { order: entry.order, reason: entry.reason }) };
  }
}

/**
 * A stored journal record → a typed order entry (undefined for types this module does not know).
 * The payload is checked against its schema: a bad one throws `SnapshotDecodeError` naming the
 * record and the first bad field, never a half-read order.
 */
export function fromJournalRecord(record: JournalRecord): OrderJournalEntry | undefined {
  const what = `journal record ${record.sequence} (${record.type})`;
  switch (record.type) {
    case 'OrderPlaced':
    case 'OrderUpdated':
      return { type: record.type, ...decodeJson(OrderPayloadSchema, record.payload, what) };
    case 'Fill':
      return { type: 'Fill', ...decodeJson(FillPayloadSchema, record.payload, what) };
    case 'OrderReconciled':
      return { type: 'OrderReconciled', ...decodeJson(ReconciledPayloadSchema, record.payload, what) };
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
