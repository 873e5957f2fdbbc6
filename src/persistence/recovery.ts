/**
 * Crash recovery: after `Runtime.restoreFrom(snapshots)` and before `start()`, the journal is
 * replayed onto the restored snapshots with side effects suppressed (pure folds over the
 * snapshot data: no actor runs, nothing goes to a broker), then the orders are reconciled with
 * the broker through {@link BrokerReconciler}; every discrepancy is corrected from the broker's
 * truth, journaled (`OrderReconciled`) and returned as a `RiskAlert`.
 *
 * Why this is enough: in journal mode the execution actor reports nothing before it is durable,
 * in journal order. So
 * - a portfolio snapshot holds exactly the first `fillCount` fills of that portfolio in the
 *   journal: the fills after them are applied (positions = Σ fills, P&L continues);
 * - the execution actor's orders are the journal's latest version of each order; the paper
 *   broker's resting orders are rebuilt from them (a snapshot may hold broker progress that
 *   never became durable: the journal wins), and its order/fill numbering moves past every id
 *   the journal holds (no fill id reused);
 * - risk's exposures are recomputed: net = Σ fills, working = what open orders still have to fill;
 * - each strategy's intent sequence moves past every intent the journal holds (so no client
 *   order id is ever reused), and its positions and working orders follow the journal.
 * Client order ids are deterministic, so a recovered process never re-sends an order and never
 * loses one: an order journaled but never acknowledged by the broker is looked up there, and
 * (paper: the broker died with the process) closed as REJECTED with an alert.
 */
import type { Json, Snapshot } from '../actors/core/types.js';
import { PaperBroker, type PaperBrokerConfig, type PaperBrokerSnapshot, type RestingOrderSnapshot } from '../brokers/paper/index.js';
import { applyFillToPortfolio, isTerminal, newPortfolio, type Fill, type Instrument, type Order, type PortfolioState, type RiskAlert } from '../model/index.js';
import type { Logger } from '../runtime/logger.js';
import { EXECUTION_STREAM, fromJournalRecord, readStream, toJournalEntry } from './journal-orders.js';
import type { Journal } from './journal.js';

/** What recovery needs of the runtime (a `Runtime` satisfies it). */
export interface RecoveryTarget {
  readonly instruments: ReadonlyMap<string, Instrument>;
  statefulActorPaths(): string[];
  restoredSnapshot(path: string): Snapshot | undefined;
  setRestoredSnapshot(snapshot: Snapshot): void;
}

/** The broker's truth about our orders, by client order id (Kite: the order `tag`). */
export interface BrokerReconciler {
  readonly name: string;
  /** The broker's latest view of each of these orders; an id missing from the map is unknown to the broker. */
  fetchOrders(clientOrderIds: readonly string[]): Promise<ReadonlyMap<string, Order>>;
}

/**
 * The paper broker's reconciler. The paper broker lives in the process, so after a crash its
 * truth is what was durable: the execution snapshot plus the journal. An order it acknowledged
 * (any status after `PUT ORDER REQ RECEIVED`) is known; one journaled but never acknowledged
 * died with the process before the broker saw it through.
 */
export class PaperReconciler implements BrokerReconciler {
  readonly name = 'paper';
  constructor(private readonly journaled: ReadonlyMap<string, Order>) {}

  fetchOrders(clientOrderIds: readonly string[]): Promise<ReadonlyMap<string, Order>> {
    const known = new Map<string, Order>();
    for (const id of clientOrderIds) {
      const order = this.journaled.get(id);
      if (order && order.status !== 'PUT ORDER REQ RECEIVED') known.set(id, order);
    }
    return Promise.resolve(known);
  }
}

export interface RecoveryOptions {
  readonly journal: Journal;
  readonly target: RecoveryTarget;
  /** Every portfolio and its starting cash (a portfolio without a snapshot starts from it). */
  readonly portfolios: readonly { readonly portfolioId: string; readonly initialCashPaise: number }[];
  /** Default: the paper reconciler over the journal. */
  readonly reconciler?: (journaled: ReadonlyMap<string, Order>) => BrokerReconciler;
  readonly stream?: string;
  readonly brokerConfig?: Partial<PaperBrokerConfig>;
  readonly nowMs: () => number;
  readonly log?: Logger;
  /** Finished orders the execution actor keeps (see KEEP_FINISHED_ORDERS). */
  readonly keepFinishedOrders?: number;
}

/** What recovery found and did. */
export interface RecoveryReport {
  readonly journalEntries: number;
  readonly orders: number;
  readonly openOrders: number;
  readonly fills: number;
  /** Fills applied to portfolios on top of their snapshots, per portfolio. */
  readonly replayedFills: Readonly<Record<string, number>>;
  /** Client order ids journaled as placed more than once (must be empty). */
  readonly placedMoreThanOnce: readonly string[];
  /** Discrepancies corrected from the broker's truth. */
  readonly alerts: readonly RiskAlert[];
  readonly durationMs: number;
}

interface Folded {
  readonly orders: Map<string, Order>;
  /** Client order ids in the order they became terminal. */
  readonly finished: string[];
  readonly fills: Fill[];
  readonly placed: Map<string, number>;
  entries: number;
}

/** Replays the journal stream into the latest order versions and the fills, in journal order. */
export async function foldJournal(journal: Journal, stream = EXECUTION_STREAM): Promise<Folded> {
  const folded: Folded = { orders: new Map(), finished: [], fills: [], placed: new Map(), entries: 0 };
  const seenFills = new Set<string>();
  for await (const record of readStream(journal, stream)) {
    folded.entries += 1;
    const entry = fromJournalRecord(record);
    if (!entry) continue;
    if (entry.type === 'OrderPlaced') folded.placed.set(entry.order.clientOrderId, (folded.placed.get(entry.order.clientOrderId) ?? 0) + 1);
    if (entry.type === 'Fill') {
      if (seenFills.has(entry.fill.fillId)) continue;
      seenFills.add(entry.fill.fillId);
      folded.fills.push(entry.fill);
    }
    const known = folded.orders.get(entry.order.clientOrderId);
    if (known && isTerminal(known.status)) continue; // terminal is final
    folded.orders.set(entry.order.clientOrderId, entry.order);
    if (isTerminal(entry.order.status)) folded.finished.push(entry.order.clientOrderId);
  }
  return folded;
}

const signedOf = (side: 'BUY' | 'SELL', quantity: number): number => (side === 'BUY' ? quantity : -quantity);
const numberIn = (id: string | undefined): number => {
  const digits = id === undefined ? undefined : /(\d+)$/.exec(id)?.[1];
  return digits === undefined ? 0 : Number(digits);
};

function rewrite(target: RecoveryTarget, path: string, state: Json, previous: Snapshot | undefined, version: number, nowMs: number): void {
  target.setRestoredSnapshot({ key: path, version: previous?.version ?? version, state, sequence: previous?.sequence ?? 0, atMs: nowMs });
}

/** Replays the journal onto the restored snapshots and reconciles with the broker. Call after `restoreFrom`, before `start`. */
export async function recoverFromJournal(options: RecoveryOptions): Promise<RecoveryReport> {
  const started = Date.now();
  const { journal, target, log } = options;
  const stream = options.stream ?? EXECUTION_STREAM;
  const nowMs = options.nowMs();
  const folded = await foldJournal(journal, stream);
  const alerts: RiskAlert[] = [];

  // 1. reconcile open orders with the broker's truth
  const open = [...folded.orders.values()].filter((order) => !isTerminal(order.status));
  if (open.length > 0) {
    const reconciler = (options.reconciler ?? ((journaled) => new PaperReconciler(journaled)))(folded.orders);
    const truth = await reconciler.fetchOrders(open.map((order) => order.clientOrderId));
    const corrections: { order: Order; reason: string }[] = [];
    for (const order of open) {
      const broker = truth.get(order.clientOrderId);
      let corrected: Order | undefined;
      let reason = '';
      if (!broker) {
        reason = `order ${order.clientOrderId} was journaled but the ${reconciler.name} broker does not have it after the restart: closed as rejected, never re-sent`;
        corrected = { ...order, status: 'REJECTED', statusMessage: 'Not at the broker after a restart.', cancelledQuantity: order.quantity - order.filledQuantity, updatedAtMs: Math.max(order.updatedAtMs, nowMs) };
      } else if (broker.status !== order.status || broker.filledQuantity !== order.filledQuantity) {
        reason = `order ${order.clientOrderId}: journal had ${order.status} ${order.filledQuantity}/${order.quantity}, the ${reconciler.name} broker has ${broker.status} ${broker.filledQuantity}/${broker.quantity}: corrected from the broker`;
        corrected = broker;
      }
      if (corrected) corrections.push({ order: corrected, reason });
    }
    if (corrections.length > 0) {
      await journal.append(corrections.map(({ order, reason }) => toJournalEntry(stream, { type: 'OrderReconciled', order, reason })));
      for (const { order, reason } of corrections) {
        folded.orders.set(order.clientOrderId, order);
        if (isTerminal(order.status)) folded.finished.push(order.clientOrderId);
        alerts.push({ type: 'RiskAlert', severity: 'warning', code: 'reconciliation', message: reason, atMs: nowMs, strategyId: order.strategyId, symbol: order.symbol });
        log?.warn({ clientOrderId: order.clientOrderId, status: order.status }, reason);
      }
    }
  }
  const openOrders = [...folded.orders.values()].filter((order) => !isTerminal(order.status));
  const paths = target.statefulActorPaths();

  // 2. execution: orders from the journal, the paper broker's resting orders rebuilt from them
  const executionPath = paths.find((path) => path.startsWith('/execution/'));
  if (executionPath === '/execution/paper' && folded.entries > 0) {
    const previous = target.restoredSnapshot(executionPath);
    const encoded = previous?.state as { broker: PaperBrokerSnapshot; orders: Order[]; finished: string[] } | undefined;
    const broker = encoded?.broker ?? new PaperBroker(options.brokerConfig).snapshot();
    const orders = new Map<string, Order>((encoded?.orders ?? []).map((order) => [order.clientOrderId, order]));
    const finished = (encoded?.finished ?? []).filter((id) => !folded.orders.has(id));
    for (const [id, order] of folded.orders) orders.set(id, order);
    finished.push(...new Set(folded.finished));
    const keep = options.keepFinishedOrders ?? 5_000;
    if (finished.length > keep) for (const id of finished.splice(0, finished.length - keep)) orders.delete(id);
    const restingBefore = new Map(broker.orders.map((resting) => [resting.order.clientOrderId, resting]));
    const resting: RestingOrderSnapshot[] = broker.orders.filter((saved) => !folded.orders.has(saved.order.clientOrderId));
    let orderSequence = broker.orderSequence;
    for (const order of folded.orders.values()) orderSequence = Math.max(orderSequence, numberIn(order.brokerOrderId));
    let fillSequence = broker.fillSequence;
    for (const fill of folded.fills) fillSequence = Math.max(fillSequence, numberIn(fill.fillId));
    for (const order of openOrders) {
      const instrument = target.instruments.get(order.symbol);
      if (!instrument) continue;
      const before = restingBefore.get(order.clientOrderId);
      resting.push({ order, instrument, brokeragePaise: before?.brokeragePaise ?? 0, evaluated: before?.evaluated ?? false });
    }
    const state = { broker: { ...broker, orderSequence, fillSequence, orders: resting }, orders: [...orders.values()], finished };
    rewrite(target, executionPath, state as unknown as Json, previous, 1, nowMs);
  }

  // 3. portfolios: the fills after each snapshot's fillCount
  const replayedFills: Record<string, number> = {};
  for (const { portfolioId, initialCashPaise } of options.portfolios) {
    const path = `/portfolios/${portfolioId}`;
    const fills = folded.fills.filter((fill) => fill.portfolioId === portfolioId);
    const previous = target.restoredSnapshot(path);
    let state = (previous?.state as unknown as PortfolioState | undefined) ?? newPortfolio(portfolioId, initialCashPaise);
    const missing = fills.slice(state.fillCount);
    replayedFills[portfolioId] = missing.length;
    if (missing.length === 0) continue;
    for (const fill of missing) state = applyFillToPortfolio(state, fill);
    rewrite(target, path, state as unknown as Json, previous, 1, nowMs);
  }

  // 4. risk: the risk manager's book recomputed from fills and open orders (day P&L figures and
  //    the kill switch are kept from its snapshot: the day's marks are not journaled)
  if (paths.includes('/risk') && folded.entries > 0) {
    const previous = target.restoredSnapshot('/risk');
    const encoded = previous?.state as
      | { approved?: number; rejected?: number; day?: string; manager?: { marks?: Record<string, number>; portfolios?: Record<string, { dayCashFlowPaise: number; dayStartValuePaise: number }>; killSwitch?: unknown } }
      | undefined;
    const books: Record<string, { dayCashFlowPaise: number; dayStartValuePaise: number; symbols: Record<string, { net: number; workingBuy: number; workingSell: number }> }> = {};
    const book = (portfolioId: string, symbol: string) => {
      const portfolio = (books[portfolioId] ??= {
        dayCashFlowPaise: encoded?.manager?.portfolios?.[portfolioId]?.dayCashFlowPaise ?? 0,
        dayStartValuePaise: encoded?.manager?.portfolios?.[portfolioId]?.dayStartValuePaise ?? 0,
        symbols: {},
      });
      return (portfolio.symbols[symbol] ??= { net: 0, workingBuy: 0, workingSell: 0 });
    };
    for (const fill of folded.fills) book(fill.portfolioId, fill.symbol).net += signedOf(fill.side, fill.quantity);
    for (const order of openOrders) {
      const remaining = order.quantity - order.filledQuantity;
      if (order.side === 'BUY') book(order.portfolioId, order.symbol).workingBuy += remaining;
      else book(order.portfolioId, order.symbol).workingSell += remaining;
    }
    const state = {
      approved: encoded?.approved ?? 0,
      rejected: encoded?.rejected ?? 0,
      day: encoded?.day ?? '',
      manager: { version: 1, marks: encoded?.manager?.marks ?? {}, portfolios: books, killSwitch: encoded?.manager?.killSwitch ?? null },
    };
    rewrite(target, '/risk', state as unknown as Json, previous, 1, nowMs);
  }

  // 5. strategies: intent numbering past every journaled intent; positions and working orders from the journal
  for (const path of paths.filter((candidate) => candidate.startsWith('/strategies/'))) {
    const strategyId = path.slice('/strategies/'.length);
    const previous = target.restoredSnapshot(path);
    if (!previous) continue; // a strategy without a snapshot: the execution actor refuses any id it repeats, and it moves on
    const mine = [...folded.orders.values()].filter((order) => order.strategyId === strategyId);
    if (mine.length === 0) continue;
    const host = structuredClone(previous.state) as {
      sequence: number;
      positions: Record<string, number>;
      working: Record<string, { symbol: string; clientOrderId: string; remaining: number }>;
      workingBySymbol: Record<string, number>;
    };
    let next = host.sequence;
    const positions: Record<string, number> = {};
    const working: typeof host.working = {};
    const workingBySymbol: Record<string, number> = {};
    for (const order of mine) {
      const [owner, sequence] = [order.intentId.slice(0, order.intentId.lastIndexOf(':')), Number(order.intentId.slice(order.intentId.lastIndexOf(':') + 1))];
      if (owner === strategyId && Number.isSafeInteger(sequence)) next = Math.max(next, sequence + 1);
      if (order.filledQuantity > 0) positions[order.symbol] = (positions[order.symbol] ?? 0) + signedOf(order.side, order.filledQuantity);
      if (!isTerminal(order.status)) {
        const remaining = signedOf(order.side, order.quantity - order.filledQuantity);
        working[order.intentId] = { symbol: order.symbol, clientOrderId: order.clientOrderId, remaining };
        workingBySymbol[order.symbol] = (workingBySymbol[order.symbol] ?? 0) + remaining;
      }
    }
    rewrite(target, path, { ...host, sequence: next, positions, working, workingBySymbol }, previous, previous.version, nowMs);
  }

  const placedMoreThanOnce = [...folded.placed].filter(([, count]) => count > 1).map(([id]) => id);
  const report: RecoveryReport = {
    journalEntries: folded.entries,
    orders: folded.orders.size,
    openOrders: openOrders.length,
    fills: folded.fills.length,
    replayedFills,
    placedMoreThanOnce,
    alerts,
    durationMs: Date.now() - started,
  };
  log?.info({ ...report, alerts: alerts.length }, 'recovered from the journal');
  return report;
}
