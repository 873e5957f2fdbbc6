/**
 * How the journal applies to the paper execution actor's snapshot. Kept apart from
 * `recovery.ts`, which only orchestrates, so that it can move next to the execution actor (the
 * execution actors are being merged into one; their snapshot shape moves with them). Until then
 * this is the one place that reads that snapshot's shape outside the actor.
 */
import type { Json } from '../actors/core/index.js';
import { PaperBroker, type HoldingSnapshot, type MisPositionSnapshot, type PaperBrokerConfig, type PaperBrokerSnapshot, type RestingOrderSnapshot } from '../brokers/paper/index.js';
import type { Instrument, MisNet, Order } from '../model/index.js';
import type { Logger } from '../runtime/logger.js';

/** What the paper execution's recovery reads of the folded journal. */
export interface ExecutionJournal {
  /** The latest version of every order the fold kept. */
  readonly orders: ReadonlyMap<string, Order>;
  /** Client order ids in the order they became terminal. */
  readonly finished: readonly string[];
  readonly maxOrderNumber: number;
  readonly maxFillNumber: number;
  /** Open MIS positions by portfolio, strategy and symbol; undefined when unknown. */
  misPositions(): ReadonlyMap<string, MisNet> | undefined;
}

/** The paper execution actor's snapshot, as far as recovery reads it. */
interface PaperExecutionSnapshot {
  readonly broker: PaperBrokerSnapshot;
  readonly orders: readonly Order[];
  readonly finished: readonly string[];
}

export interface PaperExecutionRecoveryInput {
  /** The restored snapshot's state, if any. */
  readonly previous: Json | undefined;
  readonly folded: ExecutionJournal;
  readonly openOrders: readonly Order[];
  /** CNC holdings per portfolio, from the recovered portfolios. */
  readonly holdings: readonly HoldingSnapshot[];
  readonly portfolios: readonly { readonly portfolioId: string }[];
  readonly target: { readonly instruments: ReadonlyMap<string, Instrument> };
  readonly brokerConfig?: Partial<PaperBrokerConfig>;
  /** Finished orders the execution actor keeps (default 5,000). */
  readonly keepFinishedOrders?: number;
  readonly log?: Logger;
}

/**
 * The paper execution snapshot after the journal: its orders are the journal's latest version
 * of each order; the paper broker's resting orders are rebuilt from the open ones (a snapshot may
 * hold broker progress that never became durable: the journal wins); its order/fill numbering
 * moves past every id the journal holds; its CNC holdings come from the portfolios and its MIS
 * book from every journaled fill.
 */
export function recoverPaperExecutionSnapshot(input: PaperExecutionRecoveryInput): Json {
  const { folded, target, log } = input;
  const encoded = input.previous as PaperExecutionSnapshot | undefined;
  const broker = encoded?.broker ?? new PaperBroker(input.brokerConfig).snapshot();
  const orders = new Map<string, Order>((encoded?.orders ?? []).map((order) => [order.clientOrderId, order]));
  const finished = (encoded?.finished ?? []).filter((id) => !folded.orders.has(id));
  for (const [id, order] of folded.orders) orders.set(id, order);
  finished.push(...new Set(folded.finished));
  const keep = input.keepFinishedOrders ?? 5_000;
  if (finished.length > keep) for (const id of finished.splice(0, finished.length - keep)) orders.delete(id);
  const restingBefore = new Map(broker.orders.map((resting) => [resting.order.clientOrderId, resting]));
  const resting: RestingOrderSnapshot[] = broker.orders.filter((saved) => !folded.orders.has(saved.order.clientOrderId));
  const orderSequence = Math.max(broker.orderSequence, folded.maxOrderNumber);
  const fillSequence = Math.max(broker.fillSequence, folded.maxFillNumber);
  for (const order of input.openOrders) {
    const instrument = target.instruments.get(order.symbol);
    if (!instrument) continue;
    const before = restingBefore.get(order.clientOrderId);
    resting.push({ order, instrument, brokeragePaise: before?.brokeragePaise ?? 0, evaluated: before?.evaluated ?? false });
  }
  // the open MIS positions the square-off will close: from every journaled fill, like the portfolios
  // (the snapshot's list misses the fills after it, and may hold fills that never became durable)
  const misPositions: MisPositionSnapshot[] = [];
  for (const position of (folded.misPositions() ?? new Map<string, MisNet>()).values()) {
    const instrument = target.instruments.get(position.symbol);
    if (instrument) misPositions.push({ ...position, instrument });
    else log?.warn({ symbol: position.symbol, strategyId: position.strategyId }, 'an open MIS position in an instrument no longer traded: not squared off by the paper broker');
  }
  const holdings = [...(broker.holdings ?? []).filter((h) => !input.portfolios.some((p) => p.portfolioId === h.portfolioId)), ...input.holdings];
  const state: PaperExecutionSnapshot = { broker: { ...broker, misPositions, orderSequence, fillSequence, orders: resting, holdings }, orders: [...orders.values()], finished };
  // the execution actor's own codec reads it back (its shape is the actor's; this moves next to it)
  return state as unknown as Json;
}
