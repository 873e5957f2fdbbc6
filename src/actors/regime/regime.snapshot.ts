/**
 * The regime actor's snapshot: the detector's state per symbol and the market's. Bars are not
 * journaled, so recovery leaves it as it is (the detector resumes warm from it).
 */
import { Type } from 'typebox';
import { schemaCodec, type SchemaCodec } from '../core/index.js';
import { RegimeSchema } from '../schemas.js';
import type { RegimeActorState } from './regime.protocol.js';

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableRegime = Type.Union([RegimeSchema, Type.Null()]);

/** `RegimeState` (src/regime/regime-detector.ts). */
const RegimeStateSchema = Type.Object({
  bars: Type.Integer({ minimum: 0 }),
  regime: NullableRegime,
  pending: NullableRegime,
  pendingBars: Type.Integer({ minimum: 0 }),
  previousHigh: NullableNumber,
  previousLow: NullableNumber,
  previousClose: NullableNumber,
  trueRange: Type.Number(),
  plusMove: Type.Number(),
  minusMove: Type.Number(),
  movesSeen: Type.Integer({ minimum: 0 }),
  dxSum: Type.Number(),
  dxSeen: Type.Integer({ minimum: 0 }),
  adx: NullableNumber,
  closes: Type.Immutable(Type.Array(Type.Number())),
  logReturns: Type.Immutable(Type.Array(Type.Number())),
  volatilities: Type.Immutable(Type.Array(Type.Number())),
});

/** `RegimeActorState` (regime.protocol.ts). */
export const RegimeSnapshotSchema = Type.Object({
  symbols: Type.Record(Type.String(), RegimeStateSchema),
  market: Type.Object({ symbols: Type.Record(Type.String(), RegimeSchema), regime: NullableRegime }),
  changes: Type.Integer({ minimum: 0 }),
});

/** The regime actor's codec (version 1): the working state is updated in place, so snapshots and restores take copies. */
export const regimeCodec: SchemaCodec<RegimeActorState> = schemaCodec(RegimeSnapshotSchema, 'regime snapshot', structuredClone, (json) => json);

/** A stored regime snapshot → state; throws `SnapshotDecodeError` naming the bad field. */
export const decodeRegimeSnapshot = regimeCodec.decode;
