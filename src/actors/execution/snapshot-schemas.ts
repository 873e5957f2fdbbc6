/**
 * TypeBox schemas of what the execution actor and the broker adapters keep in snapshots, and
 * {@link decodeSnapshot}: a stored snapshot is checked against its schema before it is used, so a
 * bad one is a clear error naming the field, never a cast. Nested values owned by other modules
 * (instruments, charge ledgers) are checked for their shape here and typed as those modules'.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { decodeJson } from '../core/json-codec.js';
import { OrderSchema } from '../schemas.js';
import type { ChargeLedger, LegacyChargeLedger } from '../../model/charges.js';
import type { Instrument } from '../../model/instrument.js';

const Int = Type.Integer();

/** An order as snapshots and the journal keep it (`OrderSchema`, which the journal's decoder shares). */
export const OrderSnapshotSchema = OrderSchema;

/** An instrument inside a snapshot. */
export const InstrumentSnapshotSchema = Type.Unsafe<Instrument>(Type.Object({ symbol: Type.String(), tickSizePaise: Int, lotSize: Int }));

/** A charge ledger (current or legacy shape; `upgradeChargeLedger` reads both). */
export const ChargeLedgerSnapshotSchema = Type.Unsafe<ChargeLedger | LegacyChargeLedger>(Type.Object({}));

/** An open MIS position by portfolio, strategy and symbol. */
export const MisNetSchema = Type.Object({ portfolioId: Type.String(), strategyId: Type.String(), symbol: Type.String(), net: Int });

/** The execution actor's own part of its snapshot (the adapter's fields sit next to these). */
export const ExecutionOrdersSchema = Type.Object({ orders: Type.Array(OrderSnapshotSchema), finished: Type.Array(Type.String()) });

/** Checks `json` against `schema` and returns a private copy of it, typed; throws naming the first bad field. */
export function decodeSnapshot<T extends TSchema>(schema: T, json: unknown, what: string): Static<T> {
  return decodeJson(schema, json, `${what} snapshot`);
}
