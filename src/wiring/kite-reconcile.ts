/**
 * Kite-mode recovery, on top of the persistence module's `recoverFromJournal` (which replays the
 * journal onto the snapshots: portfolios, risk, strategies):
 *
 * 1. {@link KiteReconciler} answers "what does the broker know of these journaled orders" by
 *    looking each client order id up as Kite's `tag`. An order journaled but not at Kite was
 *    never sent (or never arrived): closed as REJECTED, never re-sent. One Kite has but whose
 *    acknowledgement was lost is moved to OPEN with its Kite order id. Fills are NOT taken from
 *    the order snapshot: they come from Kite's trades through the execution actor (journaled
 *    as `Fill`s with exact prices), so the portfolio and risk see every one of them once.
 * 2. {@link rebuildKiteExecutionSnapshot}: the execution actor (Kite adapter) restarts from the journal's
 *    truth (a snapshot can be ahead of the journal: the journal wins), with the trades the
 *    journal has as applied; its first poll fetches what happened while Troupe was away.
 * 3. {@link auditKite}: Kite's trades, positions and holdings vs the journal; trades the journal
 *    lacks (they are about to be applied) and positions the journal cannot explain become
 *    RiskAlerts.
 */
import { recoverExecutionState } from '../actors/execution/execution.recovery.js';
import { isTerminal, type Fill, type Order, type RiskAlert } from '../model/index.js';
import type { BrokerJson } from '../actors/execution/broker-port.js';
import { decodeSnapshot } from '../actors/execution/snapshot-schemas.js';
import { KITE_EXECUTION_STREAM, KiteVenueSchema } from '../brokers/kite/kite-adapter.js';
import type { Journal } from '../actors/journal.js';
import {
  foldJournal,
  recoverFromJournal,
  type BrokerReconciler,
  type CheckpointStore,
  type RecoveryReport,
  type RecoveryTarget,
} from '../persistence/recovery.js';
import { istDate } from '../model/time.js';
import { applyMisFill, type MisNet } from '../model/square-off.js';
import type { Logger } from '../observability/logger.js';
import type { KiteOrderView, KiteTradeView } from '../brokers/kite/order-view.js';

/** What reconciliation reads from Kite (a `KiteBroker` fits). */
export interface KiteTruth {
  orders(): Promise<KiteOrderView[]>;
  trades(): Promise<KiteTradeView[]>;
  positions(): Promise<{ symbol: string; product: string; quantity: number }[]>;
  holdings(): Promise<{ symbol: string; quantity: number }[]>;
}

const BEFORE_ACCEPT = new Set(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING']);
const KITE_NOT_LIVE = new Set(['PUT ORDER REQ RECEIVED', 'VALIDATION PENDING', 'OPEN PENDING', 'AMO REQ RECEIVED']);

/** The broker's truth for `recoverFromJournal`, by tag. */
export class KiteReconciler implements BrokerReconciler {
  readonly name = 'Kite';
  /** Kite's orders by tag, as last fetched. */
  byTag = new Map<string, KiteOrderView>();

  constructor(
    private readonly kite: Pick<KiteTruth, 'orders'>,
    private readonly journaled: ReadonlyMap<string, Order>,
    private readonly nowMs: () => number,
  ) {}

  async fetchOrders(clientOrderIds: readonly string[]): Promise<ReadonlyMap<string, Order>> {
    this.byTag = new Map();
    for (const view of await this.kite.orders()) if (view.clientOrderId !== null) this.byTag.set(view.clientOrderId, view);
    const out = new Map<string, Order>();
    for (const id of clientOrderIds) {
      const order = this.journaled.get(id);
      const view = this.byTag.get(id);
      if (order === undefined || view === undefined) continue;
      const atMs = Math.max(order.updatedAtMs, this.nowMs());
      if (!BEFORE_ACCEPT.has(order.status)) out.set(id, order.brokerOrderId === undefined ? { ...order, brokerOrderId: view.brokerOrderId } : order);
      else if (view.status === 'REJECTED' && view.filledQuantity === 0)
        out.set(id, {
          ...order,
          brokerOrderId: view.brokerOrderId,
          status: 'REJECTED',
          statusMessage: view.statusMessage ?? 'rejected by Kite',
          cancelledQuantity: order.quantity - order.filledQuantity,
          updatedAtMs: atMs,
        });
      else if (KITE_NOT_LIVE.has(view.status)) out.set(id, { ...order, brokerOrderId: view.brokerOrderId });
      else
        out.set(id, { ...order, brokerOrderId: view.brokerOrderId, status: view.status === 'TRIGGER PENDING' ? 'TRIGGER PENDING' : 'OPEN', updatedAtMs: atMs });
    }
    return out;
  }
}

/** The Kite adapter's recovered snapshot fields, given the recovered orders and every journaled fill. */
export function recoverKiteVenue(previous: unknown, orders: ReadonlyMap<string, Order>, fills: readonly Fill[]): { readonly [key: string]: BrokerJson } {
  const saved = previous === undefined ? undefined : decodeSnapshot(KiteVenueSchema, previous, 'Kite execution');
  const misBook = new Map<string, MisNet>();
  for (const fill of fills) applyMisFill(misBook, fill);
  const byBrokerId: [string, string][] = [];
  for (const order of orders.values()) if (order.brokerOrderId !== undefined) byBrokerId.push([order.brokerOrderId, order.clientOrderId]);
  const finishedOrder = (id: string | null): boolean => {
    const order = id === null ? undefined : orders.get(id);
    return order !== undefined && isTerminal(order.status);
  };
  const venue = {
    byBrokerId,
    // views only of finished orders: open ones are fetched afresh by the first poll
    views: (saved?.views ?? []).filter((v) => finishedOrder(v.clientOrderId)),
    appliedTrades: fills.map((f) => f.fillId),
    brokerage: (saved?.brokerage ?? []).filter(([id]) => orders.has(id)),
    ledgers: saved?.ledgers ?? [],
    unknownOutcome: [...orders.values()].filter((o) => BEFORE_ACCEPT.has(o.status)).map((o) => [o.clientOrderId, 0]),
    // the MIS book from every journaled fill: whose positions an RMS square-off closes
    misPositions: [...misBook.values()],
    // a restart comes with a (new) login: placement is not halted by an old session's expiry
    halted: null,
  };
  // JSON-safe data (the adapter's snapshot shape, `KiteVenueSchema`)
  return JSON.parse(JSON.stringify(venue)) as never;
}

/** The execution actor's snapshot (Kite adapter) rebuilt from the journal (the journal wins over a snapshot ahead of it). */
export async function rebuildKiteExecutionSnapshot(
  journal: Journal,
  target: RecoveryTarget,
  nowMs: number,
  stream = KITE_EXECUTION_STREAM,
  keepFinished = 5_000,
): Promise<void> {
  const path = '/execution/kite';
  if (!target.statefulActorPaths().includes(path)) return;
  const folded = await foldJournal(journal, stream);
  if (folded.entries === 0) return;
  const previous = target.restoredSnapshot(path);
  const state = recoverExecutionState(previous?.state, folded, (orders) => recoverKiteVenue(previous?.state, orders, folded.fills), keepFinished);
  target.setRestoredSnapshot({ key: path, version: previous?.version ?? 1, state, sequence: previous?.sequence ?? 0, atMs: nowMs });
}

/** What {@link auditKite} found. */
export interface KiteAudit {
  /** Kite trades of Troupe's orders that the journal does not have yet (the execution actor applies them). */
  readonly missingTrades: number;
  /** Symbols whose Kite net position differs from what the journal (plus the missing trades) explains. */
  readonly positionMismatches: readonly { readonly symbol: string; readonly kite: number; readonly journal: number }[];
  readonly holdings: number;
  readonly alerts: readonly RiskAlert[];
}

/**
 * Kite's trades, positions and holdings vs the journal. Positions (today's, all products) are
 * compared per symbol with the journal's fills of the day of Kite's latest trade, for the
 * symbols Troupe traded that day; holdings are counted.
 */
export async function auditKite(kite: KiteTruth, journal: Journal, nowMs: number, stream = KITE_EXECUTION_STREAM): Promise<KiteAudit> {
  const folded = await foldJournal(journal, stream);
  const [kiteOrders, trades, positions, holdings] = await Promise.all([kite.orders(), kite.trades(), kite.positions(), kite.holdings()]);
  const tagOf = new Map<string, string>();
  for (const view of kiteOrders) if (view.clientOrderId !== null && folded.orders.has(view.clientOrderId)) tagOf.set(view.brokerOrderId, view.clientOrderId);
  const journaledFills = new Set(folded.fills.map((f) => f.fillId));
  const net = new Map<string, number>();
  const signed = (side: 'BUY' | 'SELL', q: number): number => (side === 'BUY' ? q : -q);
  // Kite's positions and trades are today's: compare with the journal's fills of that day (the day of Kite's latest trade)
  const latestTrade = trades.reduce((max, t) => (Number.isFinite(t.atMs) && t.atMs > max ? t.atMs : max), Number.NEGATIVE_INFINITY);
  const day = Number.isFinite(latestTrade) ? istDate(latestTrade) : undefined;
  for (const fill of folded.fills) if (istDate(fill.atMs) === day) net.set(fill.symbol, (net.get(fill.symbol) ?? 0) + signed(fill.side, fill.quantity));
  const alerts: RiskAlert[] = [];
  let missingTrades = 0;
  for (const trade of trades) {
    const clientOrderId = tagOf.get(trade.brokerOrderId);
    if (clientOrderId === undefined || journaledFills.has(`kite:${trade.tradeId}`)) continue;
    missingTrades += 1;
    const order = folded.orders.get(clientOrderId)!;
    net.set(order.symbol, (net.get(order.symbol) ?? 0) + signed(order.side, trade.quantity));
    alerts.push({
      type: 'RiskAlert',
      severity: 'warning',
      code: 'reconciliation',
      message: `Kite trade ${trade.tradeId} (${trade.quantity} ${order.symbol} of order ${clientOrderId}) is not in the journal: applied from Kite`,
      atMs: nowMs,
      strategyId: order.strategyId,
      symbol: order.symbol,
    });
  }
  const kiteNet = new Map<string, number>();
  for (const p of positions) kiteNet.set(p.symbol, (kiteNet.get(p.symbol) ?? 0) + p.quantity);
  const positionMismatches: { symbol: string; kite: number; journal: number }[] = [];
  for (const symbol of day === undefined ? [] : net.keys()) {
    const k = kiteNet.get(symbol) ?? 0;
    const j = net.get(symbol) ?? 0;
    if (k === j) continue;
    positionMismatches.push({ symbol, kite: k, journal: j });
    alerts.push({
      type: 'RiskAlert',
      severity: 'critical',
      code: 'position-mismatch',
      message: `Kite holds a net ${k} ${symbol}, Troupe's journal explains ${j}: trades outside Troupe, or a lost fill; check before trading ${symbol}`,
      atMs: nowMs,
      symbol,
    });
  }
  return { missingTrades, positionMismatches, holdings: holdings.length, alerts };
}

/** Everything Kite-mode recovery did. */
export interface KiteRecoveryReport {
  readonly journal: RecoveryReport;
  readonly audit: KiteAudit;
  readonly alerts: readonly RiskAlert[];
}

/** Recovery at start-up in Kite mode: call after `runtime.restoreFrom`, before `runtime.start`. */
export async function recoverKite(options: {
  readonly journal: Journal;
  readonly target: RecoveryTarget;
  readonly kite: KiteTruth;
  readonly portfolios: readonly { readonly portfolioId: string; readonly initialCashPaise: number }[];
  readonly nowMs: () => number;
  readonly log?: Logger;
  /** Journal watermark for the replay (the rebuild of the execution state and the audit read the whole stream: they need every fill id). */
  readonly checkpoints?: CheckpointStore;
}): Promise<KiteRecoveryReport> {
  const journalReport = await recoverFromJournal({
    journal: options.journal,
    target: options.target,
    portfolios: options.portfolios,
    stream: KITE_EXECUTION_STREAM,
    reconciler: (journaled) => new KiteReconciler(options.kite, journaled, options.nowMs),
    nowMs: options.nowMs,
    ...(options.log ? { log: options.log } : {}),
    ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
  });
  await rebuildKiteExecutionSnapshot(options.journal, options.target, options.nowMs());
  const audit = await auditKite(options.kite, options.journal, options.nowMs());
  if (audit.alerts.length > 0)
    options.log?.warn(
      { missingTrades: audit.missingTrades, positionMismatches: audit.positionMismatches },
      'Kite and the journal differ: corrected from Kite where it can be',
    );
  return { journal: journalReport, audit, alerts: [...journalReport.alerts, ...audit.alerts] };
}
