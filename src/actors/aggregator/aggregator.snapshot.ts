/**
 * The signal aggregator's snapshot: the latest signal of each strategy per symbol and the last
 * decision per symbol. Signals are not journaled, so recovery leaves it as it is.
 */
import { Type } from 'typebox';
import { decodeJson, encodeJson, type StateCodec } from '../core/index.js';
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

/** A stored aggregator snapshot → state; throws `SnapshotDecodeError` naming the bad field. */
export const decodeAggregatorSnapshot = (json: unknown): AggregatorActorState => decodeJson(AggregatorSnapshotSchema, json, 'aggregator snapshot');

/** The aggregator's codec (version 1). */
export const aggregatorCodec: StateCodec<AggregatorBook> = {
  version: 1,
  encode: (book) => encodeJson(AggregatorSnapshotSchema, book.toState()),
  decode: (json) => new AggregatorBook(decodeAggregatorSnapshot(json)),
};
