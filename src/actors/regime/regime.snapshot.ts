/**
 * The regime actor's snapshot: the detector's state per symbol and the market's. Bars are not
 * journaled, so recovery leaves it as it is (the detector resumes warm from it).
 */
import { Type } from 'typebox';
import { decodeJson, encodeJson, type StateCodec } from '../core/index.js';
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

/** A stored regime snapshot → state; throws `SnapshotDecodeError` naming the bad field. */
export const decodeRegimeSnapshot = (json: unknown): RegimeActorState => decodeJson(RegimeSnapshotSchema, json, 'regime snapshot');

/** The regime actor's codec (version 1): the working state is updated in place, so snapshots and restores take copies. */
export const regimeCodec: StateCodec<RegimeActorState> = {
  version: 1,
  encode: (state) => encodeJson(RegimeSnapshotSchema, structuredClone(state)),
  decode: (json) => decodeRegimeSnapshot(json),
};
