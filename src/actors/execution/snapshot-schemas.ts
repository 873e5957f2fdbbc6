/**
 * TypeBox schemas of what the execution actor and the broker adapters keep in snapshots, and
 * {@link decodeSnapshot}: a stored snapshot is checked against its schema before it is used, so a
 * bad one is a clear error naming the field, never a cast. Nested values owned by other modules
 * (instruments, charge ledgers) are checked for their shape here and typed as those modules'.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { decodeJson } from '../core/json-codec.js';
import { OrderExplanationSchema, OrderSchema, OrderStatusSchema, OrderTypeSchema, PaiseSchema, ProductSchema, SideSchema, ValiditySchema } from '../schemas.js';
import type { FinishedChunk } from './finished-orders.js';
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

/** The execution actor's own part of its snapshot until 2026-12-07: every order kept, and the finished ones' ids, oldest first. */
export const ExecutionOrdersV1Schema = Type.Object({ orders: Type.Array(OrderSnapshotSchema), finished: Type.Array(Type.String()) });

const column = <T extends TSchema>(schema: T) => Type.Array(schema);
const optionalColumn = <T extends TSchema>(schema: T) => Type.Array(Type.Union([schema, Type.Null()]));

/** A chunk of finished orders, a column per field (`FinishedChunk`, src/actors/execution/finished-orders.ts). */
export const FinishedChunkSchema = Type.Object({
  clientOrderId: column(Type.String()),
  intentId: column(Type.String()),
  strategyId: column(Type.String()),
  portfolioId: column(Type.String()),
  symbol: column(Type.String()),
  side: column(SideSchema),
  orderType: column(OrderTypeSchema),
  product: column(ProductSchema),
  validity: column(ValiditySchema),
  quantity: column(Type.Integer()),
  status: column(OrderStatusSchema),
  filledQuantity: column(Type.Integer()),
  cancelledQuantity: column(Type.Integer()),
  filledValuePaise: column(PaiseSchema),
  createdAtMs: column(Type.Number()),
  updatedAtMs: column(Type.Number()),
  limitPricePaise: optionalColumn(PaiseSchema),
  triggerPricePaise: optionalColumn(PaiseSchema),
  reason: optionalColumn(Type.String()),
  explanation: optionalColumn(OrderExplanationSchema),
  brokerOrderId: optionalColumn(Type.String()),
  statusMessage: optionalColumn(Type.String()),
});

/** The execution actor's own part of its snapshot (the adapter's fields sit next to these): the open orders, and the finished ones in chunks, oldest first. */
export const ExecutionOrdersSchema = Type.Object({ orders: Type.Array(OrderSnapshotSchema), finishedChunks: Type.Array(FinishedChunkSchema) });

// the chunk type and its schema cannot drift apart (either way) without a compile error here
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checked = <T extends true>(): T | undefined => undefined;
checked<Same<Static<typeof FinishedChunkSchema>, { -readonly [K in keyof FinishedChunk]: FinishedChunk[K] }>>();

/** Checks `json` against `schema` and returns a private copy of it, typed; throws naming the first bad field. */
export function decodeSnapshot<T extends TSchema>(schema: T, json: unknown, what: string): Static<T> {
  return decodeJson(schema, json, `${what} snapshot`);
}
