/**
 * The strategy host's snapshot: the host's own fields (intent numbering, positions, working and
 * paced intents, regimes, counters) around the plugin's state, which the plugin's own
 * `decodeState` reads. Its schema, codec, and how the journal applies to it.
 */
import { Type, type Static } from 'typebox';
import { decodeJson, encodeJson, JsonSchema, type Json, type StateCodec } from '../core/index.js';
import { StrategyStateError, type AnyStrategyDefinition } from '../../strategies/api.js';
import { signedOf, type JournalReplay, type JournalStrategyBook } from '../journal-replay.js';
import { PendingIntentSchema, QuantitiesSchema, RefusedIntentSchema, RegimeSchema } from '../schemas.js';
import type { StrategyHostState } from './strategy.protocol.js';

/** 2: `regimes` and the `gated`/`signals` counters (a version 1 snapshot decodes with none); 3: `pending`, `refused` and `paced`. */
export const HOST_VERSION = 3;

const StatsSchema = Type.Object({
  ticks: Type.Integer(),
  bars: Type.Integer(),
  intents: Type.Integer(),
  rejected: Type.Integer(),
  fills: Type.Integer(),
  gated: Type.Integer(),
  signals: Type.Integer(),
  paced: Type.Integer(),
});

/** `WorkingIntent` (strategy.protocol.ts). */
const WorkingIntentSchema = Type.Object({ symbol: Type.String(), clientOrderId: Type.String(), remaining: Type.Integer() });

/** A strategy host's snapshot. Fields a host version added are optional (older snapshots lack them). */
export const StrategyHostSnapshotSchema = Type.Object({
  hostVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  /** The plugin's state, as its `encodeState` wrote it (its `decodeState` validates it). */
  strategy: JsonSchema,
  sequence: Type.Integer({ minimum: 0 }),
  positions: QuantitiesSchema,
  working: Type.Record(Type.String(), WorkingIntentSchema),
  workingBySymbol: QuantitiesSchema,
  paused: Type.Boolean(),
  pending: Type.Optional(Type.Record(Type.String(), PendingIntentSchema)),
  refused: Type.Optional(Type.Array(RefusedIntentSchema)),
  regimes: Type.Optional(Type.Record(Type.String(), RegimeSchema)),
  stats: Type.Optional(Type.Partial(StatsSchema)),
});
export type StrategyHostSnapshot = Static<typeof StrategyHostSnapshotSchema>;

/** A stored strategy host snapshot → its data; throws `SnapshotDecodeError` naming the bad field. */
export const decodeStrategyHostSnapshot = (json: unknown): StrategyHostSnapshot => decodeJson(StrategyHostSnapshotSchema, json, 'strategy snapshot');

/**
 * The strategy host's codec: the snapshot version is the plugin's `stateVersion` (the plugin's
 * `decodeState` gets the version it was written with); the host's own shape carries `hostVersion`.
 */
export function strategyHostCodec(definition: AnyStrategyDefinition): StateCodec<StrategyHostState> {
  return {
    version: definition.stateVersion,
    encode: (state): Json =>
      encodeJson(StrategyHostSnapshotSchema, {
        hostVersion: HOST_VERSION,
        strategy: definition.encodeState(state.strategy),
        sequence: state.sequence,
        positions: state.positions,
        working: Object.fromEntries(state.working),
        workingBySymbol: state.workingBySymbol,
        paused: state.paused,
        pending: Object.fromEntries(
          [...state.pending].map(([id, p]) => [
            id,
            { intentId: p.intentId, symbol: p.symbol, side: p.side, quantity: p.quantity, queuedAtMs: p.queuedAtMs, reason: p.reason },
          ]),
        ),
        refused: state.refused.map((r) => ({
          intentId: r.intentId,
          symbol: r.symbol,
          side: r.side,
          quantity: r.quantity,
          ...(r.code === undefined ? {} : { code: r.code }),
          reason: r.reason,
          atMs: r.atMs,
        })),
        regimes: state.regimes,
        stats: state.stats,
      }),
    decode(json, fromVersion) {
      const { hostVersion: _hostVersion, strategy: encoded, ...snapshot } = decodeStrategyHostSnapshot(json);
      let strategy: unknown;
      try {
        strategy = definition.decodeState(encoded, fromVersion);
      } catch (error) {
        // the plugin's codec names the field; the host names the strategy
        throw error instanceof StrategyStateError ? error.of(definition.kind) : error;
      }
      // hostVersion 1 had no regimes and fewer counters; 2 no pending or refused intents
      const stats = { ticks: 0, bars: 0, intents: 0, rejected: 0, fills: 0, gated: 0, signals: 0, paced: 0, ...snapshot.stats };
      return {
        ...snapshot,
        working: new Map(Object.entries(snapshot.working)),
        regimes: snapshot.regimes ?? {},
        pending: new Map(Object.entries(snapshot.pending ?? {})),
        refused: snapshot.refused ?? [],
        stats,
        strategy,
      };
    },
  };
}

/**
 * The journal on a strategy host: its intent numbering moves past every intent the journal holds
 * (so no client order id is ever reused), its positions are its journaled fills, its working
 * intents the open orders it made. Intents that waited in risk's pacing queue were never
 * journaled: like risk's rewritten book, the host forgets them. Undefined when the journal has
 * nothing of this strategy (the snapshot stands).
 */
export function applyJournalToStrategyHost(
  snapshot: StrategyHostSnapshot,
  strategyId: string,
  book: JournalStrategyBook | undefined,
  replay: JournalReplay,
): StrategyHostSnapshot | undefined {
  if (book === undefined) return undefined;
  const positions: Record<string, number> = Object.fromEntries(book.positions);
  const working: StrategyHostSnapshot['working'] = {};
  const workingBySymbol: Record<string, number> = {};
  for (const order of replay.openOrders) {
    if (order.strategyId !== strategyId) continue;
    const remaining = signedOf(order.side, order.quantity - order.filledQuantity);
    working[order.intentId] = { symbol: order.symbol, clientOrderId: order.clientOrderId, remaining };
    workingBySymbol[order.symbol] = (workingBySymbol[order.symbol] ?? 0) + remaining;
  }
  return { ...snapshot, sequence: Math.max(snapshot.sequence, book.next), positions, working, workingBySymbol, pending: {} };
}
