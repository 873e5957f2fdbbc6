/**
 * The symbol actor's snapshot: the day's OHLC and latest quote. Market data is not journaled,
 * so recovery leaves it as it is (the next tick moves it on).
 */
import { Type } from 'typebox';
import { decodeJson } from '../core/index.js';
import { PaiseSchema } from '../schemas.js';
import type { SymbolState } from './symbol.protocol.js';

/** `SymbolState` (symbol.protocol.ts). */
export const SymbolSnapshotSchema = Type.Object({
  symbol: Type.String(),
  lastPricePaise: PaiseSchema,
  openPaise: PaiseSchema,
  highPaise: PaiseSchema,
  lowPaise: PaiseSchema,
  volume: Type.Number({ minimum: 0 }),
  ticks: Type.Integer({ minimum: 0 }),
  lastExchangeTimeMs: Type.Number(),
  barsClosed: Type.Integer({ minimum: 0 }),
});

/** A stored symbol snapshot → state; throws `SnapshotDecodeError` naming the bad field. */
export const decodeSymbolSnapshot = (json: unknown): SymbolState => decodeJson(SymbolSnapshotSchema, json, 'symbol snapshot');
