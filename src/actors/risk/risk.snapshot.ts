/** The risk manager actor's snapshot: its schema, codec, and how the journal applies to it. */
import { Type, type Static } from 'typebox';
import { decodeJson, encodeJson, type StateCodec } from '../core/index.js';
import type { EncodedPacingQueue } from '../../risk/pacing-queue.js';
import type { EncodedRiskManager, SymbolBook } from '../../risk/risk-manager.js';
import type { JournalReplay } from '../journal-replay.js';
import { OrderIntentSchema, PaiseSchema } from '../schemas.js';
import type { RiskManagerState } from './risk-manager.protocol.js';

const SymbolBookSchema = Type.Object({ net: Type.Integer(), workingBuy: Type.Integer({ minimum: 0 }), workingSell: Type.Integer({ minimum: 0 }) });

/** `KillSwitchState` (src/risk/risk-manager.ts). */
const KillSwitchSchema = Type.Object({
  portfolioId: Type.String(),
  trippedAtMs: Type.Number(),
  dayPnlPaise: PaiseSchema,
  maxDailyLossPaise: PaiseSchema,
  message: Type.String(),
  actions: Type.Immutable(Type.Array(Type.Union([Type.Literal('cancel-open-orders'), Type.Literal('pause-strategies')]))),
  engagedBy: Type.Optional(Type.String()),
});

/** `EncodedRiskManager` (src/risk/risk-manager.ts). */
export const RiskBookSchema = Type.Object({
  version: Type.Literal(1),
  marks: Type.Record(Type.String(), PaiseSchema),
  portfolios: Type.Record(
    Type.String(),
    Type.Object({ dayCashFlowPaise: PaiseSchema, dayStartValuePaise: PaiseSchema, symbols: Type.Record(Type.String(), SymbolBookSchema) }),
  ),
  killSwitch: Type.Union([KillSwitchSchema, Type.Null()]),
});

/** `PacedIntent` (src/risk/pacing-queue.ts). */
const PacedIntentSchema = Type.Object({ intent: OrderIntentSchema, clientOrderId: Type.String(), exit: Type.Boolean(), queuedAtMs: Type.Number() });

/**
 * The risk actor's snapshot: its counters, the risk day, the risk manager's book and the pacing
 * queue. `manager` is absent in a snapshot of the minimal gate (before the risk manager), `paced`
 * in one from before the pacing queue, `day` in the oldest.
 */
export const RiskSnapshotSchema = Type.Object({
  approved: Type.Integer({ minimum: 0 }),
  rejected: Type.Integer({ minimum: 0 }),
  day: Type.Optional(Type.String()),
  manager: Type.Optional(RiskBookSchema),
  paced: Type.Optional(Type.Array(PacedIntentSchema)),
});
export type RiskSnapshot = Static<typeof RiskSnapshotSchema>;

/** A stored risk snapshot → its data; throws `SnapshotDecodeError` naming the bad field. */
export const decodeRiskSnapshot = (json: unknown): RiskSnapshot => decodeJson(RiskSnapshotSchema, json, 'risk snapshot');

/** The state a risk snapshot restores: counters and day, and the book the actor rebuilds its risk manager and queue from. */
export function riskStateOf(snapshot: RiskSnapshot): RiskManagerState {
  const state = { approved: snapshot.approved, rejected: snapshot.rejected, day: snapshot.day ?? '' };
  return snapshot.manager === undefined ? state : { ...state, restoredBook: { manager: snapshot.manager, paced: snapshot.paced ?? [] } };
}

/**
 * The risk actor's codec (version 1). The live book is in the actor's `RiskManager` and
 * `PacingQueue`, so encoding asks the actor for it (`book`).
 */
export function riskCodec(book: () => { readonly manager: EncodedRiskManager; readonly paced: EncodedPacingQueue }): StateCodec<RiskManagerState> {
  return {
    version: 1,
    encode: (state) => {
      const { manager, paced } = book();
      const snapshot: RiskSnapshot = {
        approved: state.approved,
        rejected: state.rejected,
        day: state.day,
        manager,
        paced: paced.map((entry) => ({ ...entry })),
      };
      return encodeJson(RiskSnapshotSchema, snapshot);
    },
    decode: (json) => riskStateOf(decodeRiskSnapshot(json)),
  };
}

/**
 * The journal on risk's book: each portfolio's net position per symbol is Σ of its journaled
 * fills, and its working quantities are what open orders still have to fill. The day's P&L
 * figures, the marks and the kill switch are kept from the snapshot (the day's marks are not
 * journaled); the pacing queue is emptied (queued intents were never journaled: the strategy
 * hosts forget them too).
 */
export function applyJournalToRisk(snapshot: RiskSnapshot | undefined, replay: JournalReplay): RiskSnapshot {
  const portfolios: Static<typeof RiskBookSchema>['portfolios'] = {};
  const book = (portfolioId: string, symbol: string): SymbolBook => {
    const before = snapshot?.manager?.portfolios[portfolioId];
    const portfolio = (portfolios[portfolioId] ??= {
      dayCashFlowPaise: before?.dayCashFlowPaise ?? 0,
      dayStartValuePaise: before?.dayStartValuePaise ?? 0,
      symbols: {},
    });
    return (portfolio.symbols[symbol] ??= { net: 0, workingBuy: 0, workingSell: 0 });
  };
  for (const [portfolioId, symbols] of replay.netPositions()) for (const [symbol, net] of symbols) book(portfolioId, symbol).net += net;
  for (const order of replay.openOrders) {
    const remaining = order.quantity - order.filledQuantity;
    if (order.side === 'BUY') book(order.portfolioId, order.symbol).workingBuy += remaining;
    else book(order.portfolioId, order.symbol).workingSell += remaining;
  }
  return {
    approved: snapshot?.approved ?? 0,
    rejected: snapshot?.rejected ?? 0,
    day: snapshot?.day ?? '',
    manager: { version: 1, marks: snapshot?.manager?.marks ?? {}, portfolios, killSwitch: snapshot?.manager?.killSwitch ?? null },
    paced: [],
  };
}
