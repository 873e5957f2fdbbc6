/**
 * The signal aggregator's snapshot: the latest signal of each strategy per symbol and the last
 * decision per symbol. Signals are not journaled, so recovery leaves it as it is.
 */
import { Type } from 'typebox';
import { schemaCodec, type SchemaCodec } from '../core/index.js';
import { AggregatorBook } from '../../signals/index.js';
import { DirectionSchema } from '../schemas.js';
import type { AggregatorActorState } from './aggregator.protocol.js';

/** `Signal` (src/signals/aggregator.ts). */
const SignalSchema = Type.Object({
  strategyId: Type.String(),
  symbol: Type.String(),
  direction: DirectionSchema,
  confidence: Type.Number(),
  atMs: Type.Number(),
  reason: Type.Optional(Type.String()),
});

/** `AggregatorState` (src/signals/aggregator.ts). */
export const AggregatorSnapshotSchema = Type.Object({
  signals: Type.Record(Type.String(), Type.Record(Type.String(), SignalSchema)),
  decisions: Type.Record(Type.String(), Type.Union([Type.Literal('BUY'), Type.Literal('SELL'), Type.Literal('FLAT')])),
});

/** The aggregator's codec (version 1): the book's state is snapshotted, and a book rebuilt from it. */
export const aggregatorCodec: SchemaCodec<AggregatorBook> = schemaCodec(
  AggregatorSnapshotSchema,
  'aggregator snapshot',
  (book) => book.toState(),
  (json: AggregatorActorState) => new AggregatorBook(json),
);
