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
import type { HoldingSnapshot, PaperBrokerConfig } from '../brokers/paper/index.js';
import { recoverPaperVenue } from '../brokers/paper/paper-recovery.js';
import { recoverExecutionState } from '../actors/execution/execution.recovery.js';
import { applyFillToPortfolio, applyMisFill, isTerminal, misBookOf, newPortfolio, type Fill, type Instrument, type MisNet, type Order, type PortfolioState, type RiskAlert } from '../model/index.js';
import type { Logger } from '../runtime/logger.js';
import { EXECUTION_STREAM, fromJournalRecord, readStream, toJournalEntry } from './journal-orders.js';
import type { Queryable } from './database.js';
import type { Journal, JournalRecord } from './journal.js';

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
  /** Journal watermark: start from the stored checkpoint and read only the entries after it. */
  readonly checkpoints?: CheckpointStore;
  /** Finished orders the execution actor keeps (see KEEP_FINISHED_ORDERS). */
  readonly keepFinishedOrders?: number;
}

/** What recovery found and did. */
export interface RecoveryReport {
  /** Journal entries the recovered state covers (checkpoint included). */
  readonly journalEntries: number;
  /** Entries actually read: the tail after the checkpoint (all of them without one). */
  readonly journalEntriesRead: number;
  /** The sequence reading started after (the checkpoint's, or 0). */
  readonly fromSequence: number;
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

/** Replays the whole journal stream into the latest order versions and the fills, in journal order. */
export async function foldJournal(journal: Journal, stream = EXECUTION_STREAM): Promise<Folded> {
  const folder = new JournalFolder();
  await folder.readFrom(journal, stream);
  return folder;
}

const signedOf = (side: 'BUY' | 'SELL', quantity: number): number => (side === 'BUY' ? quantity : -quantity);
const digitsIn = (id: string | undefined): number => {
  const digits = id === undefined ? undefined : /(\d+)$/.exec(id)?.[1];
  return digits === undefined ? 0 : Number(digits);
};
const intentSequence = (order: Order): { owner: string; next: number } | undefined => {
  const at = order.intentId.lastIndexOf(':');
  const sequence = Number(order.intentId.slice(at + 1));
  return at > 0 && Number.isSafeInteger(sequence) ? { owner: order.intentId.slice(0, at), next: sequence + 1 } : undefined;
};

/**
 * The journal watermark: the fold of a journal stream up to `sequence`, compact enough to store
 * (`journal_checkpoints`). Recovery starts from it and reads only the entries after it.
 * Everything recovery needs of the prefix is here: the orders still open, the last finished ones
 * (the execution actor keeps that many), per portfolio the fill count and net quantities, per
 * strategy the next intent number and the position from finished orders, the broker's highest
 * order and fill numbers, and the last fill ids (a fill journaled twice across the mark is
 * still counted once).
 */
export interface JournalCheckpoint {
  readonly version: 1;
  readonly stream: string;
  /** The last journal sequence folded in. */
  readonly sequence: number;
  readonly entries: number;
  readonly open: readonly Order[];
  readonly recentFinished: readonly Order[];
  readonly fillCounts: Readonly<Record<string, number>>;
  readonly net: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly strategies: Readonly<Record<string, { readonly next: number; readonly positions: Readonly<Record<string, number>> }>>;
  readonly maxOrderNumber: number;
  readonly maxFillNumber: number;
  readonly recentFillIds: readonly string[];
  readonly placedMoreThanOnce: readonly string[];
  /** Open MIS positions by portfolio, strategy and symbol (what the paper broker's square-off closes); absent in older checkpoints. */
  readonly mis?: readonly MisNet[];
}

/** Where checkpoints are kept. */
export interface CheckpointStore {
  load(stream: string): Promise<JournalCheckpoint | undefined>;
  save(checkpoint: JournalCheckpoint): Promise<void>;
}

/** {@link CheckpointStore} in `journal_checkpoints` (PostgreSQL or PGlite). A save never moves a checkpoint backwards. */
export class SqlCheckpointStore implements CheckpointStore {
  constructor(private readonly db: Queryable) {}

  async load(stream: string): Promise<JournalCheckpoint | undefined> {
    const rows = await this.db.query<{ state: JournalCheckpoint }>('SELECT state FROM journal_checkpoints WHERE stream = $1', [stream]);
    const state = rows[0]?.state;
    return state?.version === 1 ? state : undefined;
  }

  async save(checkpoint: JournalCheckpoint): Promise<void> {
    await this.db.query(
      `INSERT INTO journal_checkpoints (stream, sequence, state, at) VALUES ($1, $2, $3::jsonb, now())
       ON CONFLICT (stream) DO UPDATE SET sequence = EXCLUDED.sequence, state = EXCLUDED.state, at = now()
       WHERE journal_checkpoints.sequence < EXCLUDED.sequence`,
      [checkpoint.stream, checkpoint.sequence, JSON.stringify(checkpoint)],
    );
  }
}

const RECENT_FILL_IDS = 2_000;

/**
 * Folds journal records into the latest order versions, the fills and the aggregates a
 * checkpoint keeps; starts empty or from a {@link JournalCheckpoint}.
 */
export class JournalFolder implements Folded {
  readonly orders = new Map<string, Order>();
  readonly finished: string[] = [];
  /** Fills after the checkpoint (all of them without one). */
  readonly fills: Fill[] = [];
  readonly placed = new Map<string, number>();
  /** Records folded in total (checkpoint included). */
  entries = 0;
  /** Records read from the journal by this folder (the tail). */
  read = 0;
  /** The last sequence folded in. */
  sequence = 0;
  /** Per portfolio, fills before the checkpoint. */
  readonly fillsBefore = new Map<string, number>();
  private readonly netBefore = new Map<string, Map<string, number>>();
  private readonly strategiesBefore = new Map<string, { next: number; positions: Map<string, number> }>();
  /** Orders already finished at the checkpoint: their fills are in the aggregates. */
  readonly terminalAtCheckpoint = new Set<string>();
  private readonly seenFills = new Set<string>();
  private readonly recentFillIds: string[] = [];
  private readonly placedTwiceBefore: string[] = [];
  /** Open MIS positions before the checkpoint; undefined when the checkpoint predates them (a full read is needed). */
  readonly misBefore: ReadonlyMap<string, MisNet> | undefined = new Map();
  maxOrderNumber = 0;
  maxFillNumber = 0;

  constructor(checkpoint?: JournalCheckpoint) {
    if (!checkpoint) return;
    this.sequence = checkpoint.sequence;
    this.entries = checkpoint.entries;
    for (const order of checkpoint.recentFinished) {
      this.orders.set(order.clientOrderId, order);
      this.finished.push(order.clientOrderId);
      this.terminalAtCheckpoint.add(order.clientOrderId);
    }
    for (const order of checkpoint.open) this.orders.set(order.clientOrderId, order);
    for (const [portfolioId, count] of Object.entries(checkpoint.fillCounts)) this.fillsBefore.set(portfolioId, count);
    for (const [portfolioId, symbols] of Object.entries(checkpoint.net)) this.netBefore.set(portfolioId, new Map(Object.entries(symbols)));
    for (const [strategyId, { next, positions }] of Object.entries(checkpoint.strategies)) this.strategiesBefore.set(strategyId, { next, positions: new Map(Object.entries(positions)) });
    for (const id of checkpoint.recentFillIds) this.seenFills.add(id);
    this.recentFillIds.push(...checkpoint.recentFillIds);
    this.placedTwiceBefore.push(...checkpoint.placedMoreThanOnce);
    this.misBefore = checkpoint.mis === undefined ? undefined : misBookOf(checkpoint.mis);
    this.maxOrderNumber = checkpoint.maxOrderNumber;
    this.maxFillNumber = checkpoint.maxFillNumber;
  }

  /** Folds one record; false when the record is not an order entry. */
  fold(record: JournalRecord): void {
    this.entries += 1;
    this.sequence = Math.max(this.sequence, record.sequence);
    const entry = fromJournalRecord(record);
    if (!entry) return;
    const id = entry.order.clientOrderId;
    if (entry.type === 'OrderPlaced') this.placed.set(id, (this.placed.get(id) ?? (this.terminalAtCheckpoint.has(id) || this.orders.has(id) ? 1 : 0)) + 1);
    if (entry.type === 'Fill') {
      if (this.seenFills.has(entry.fill.fillId)) return;
      this.seenFills.add(entry.fill.fillId);
      this.recentFillIds.push(entry.fill.fillId);
      if (this.recentFillIds.length > 2 * RECENT_FILL_IDS) this.recentFillIds.splice(0, this.recentFillIds.length - RECENT_FILL_IDS);
      this.fills.push(entry.fill);
      this.maxFillNumber = Math.max(this.maxFillNumber, digitsIn(entry.fill.fillId));
    }
    this.maxOrderNumber = Math.max(this.maxOrderNumber, digitsIn(entry.order.brokerOrderId));
    const known = this.orders.get(id);
    if (known && isTerminal(known.status)) return; // terminal is final
    this.orders.set(id, entry.order);
    if (isTerminal(entry.order.status)) this.finished.push(id);
  }

  /** Reads and folds every record of `stream` after `this.sequence`; `until` stops before a record it refuses. */
  async readFrom(journal: Journal, stream: string, until?: (record: JournalRecord) => boolean): Promise<void> {
    for await (const record of readStream(journal, stream, this.sequence)) {
      if (until && !until(record)) return;
      this.read += 1;
      this.fold(record);
    }
  }

  /** Fills of `portfolioId` before the checkpoint. */
  fillsBeforeOf(portfolioId: string): number {
    return this.fillsBefore.get(portfolioId) ?? 0;
  }

  /** Net quantity per portfolio and symbol: Σ of all fills. */
  netPositions(): Map<string, Map<string, number>> {
    const net = new Map([...this.netBefore].map(([portfolioId, symbols]) => [portfolioId, new Map(symbols)]));
    for (const fill of this.fills) {
      const symbols = net.get(fill.portfolioId) ?? new Map<string, number>();
      symbols.set(fill.symbol, (symbols.get(fill.symbol) ?? 0) + signedOf(fill.side, fill.quantity));
      net.set(fill.portfolioId, symbols);
    }
    return net;
  }

  /**
   * Open MIS positions by portfolio, strategy and symbol: Σ of every MIS fill (square-off fills
   * included). Undefined when the folder started from a checkpoint that predates them.
   */
  misPositions(): Map<string, MisNet> | undefined {
    if (this.misBefore === undefined) return undefined;
    const book = new Map(this.misBefore);
    for (const fill of this.fills) applyMisFill(book, fill);
    return book;
  }

  /** Per strategy: the next intent number and the position from every order's fills. */
  strategyBooks(): Map<string, { next: number; positions: Map<string, number> }> {
    const books = new Map([...this.strategiesBefore].map(([strategyId, book]) => [strategyId, { next: book.next, positions: new Map(book.positions) }]));
    for (const order of this.orders.values()) {
      const book = books.get(order.strategyId) ?? { next: 0, positions: new Map<string, number>() };
      books.set(order.strategyId, book);
      const intent = intentSequence(order);
      if (intent && intent.owner === order.strategyId) book.next = Math.max(book.next, intent.next);
      if (this.terminalAtCheckpoint.has(order.clientOrderId) || order.filledQuantity === 0) continue; // already in the aggregate
      book.positions.set(order.symbol, (book.positions.get(order.symbol) ?? 0) + signedOf(order.side, order.filledQuantity));
    }
    return books;
  }

  /** Ids placed more than once (before and after the checkpoint). */
  placedMoreThanOnce(): string[] {
    return [...new Set([...this.placedTwiceBefore, ...[...this.placed].filter(([, count]) => count > 1).map(([id]) => id)])];
  }

  /** The checkpoint of what was folded so far. */
  checkpoint(stream: string, keepFinished = 5_000): JournalCheckpoint {
    const fillCounts: Record<string, number> = Object.fromEntries(this.fillsBefore);
    for (const fill of this.fills) fillCounts[fill.portfolioId] = (fillCounts[fill.portfolioId] ?? 0) + 1;
    const strategies: Record<string, { next: number; positions: Record<string, number> }> = {};
    const books = new Map([...this.strategiesBefore].map(([strategyId, book]) => [strategyId, { next: book.next, positions: new Map(book.positions) }]));
    for (const order of this.orders.values()) {
      const book = books.get(order.strategyId) ?? { next: 0, positions: new Map<string, number>() };
      books.set(order.strategyId, book);
      const intent = intentSequence(order);
      if (intent && intent.owner === order.strategyId) book.next = Math.max(book.next, intent.next);
      // only finished orders go into the aggregate; open ones are kept whole
      if (!isTerminal(order.status) || this.terminalAtCheckpoint.has(order.clientOrderId) || order.filledQuantity === 0) continue;
      book.positions.set(order.symbol, (book.positions.get(order.symbol) ?? 0) + signedOf(order.side, order.filledQuantity));
    }
    for (const [strategyId, book] of books) strategies[strategyId] = { next: book.next, positions: Object.fromEntries(book.positions) };
    const finishedIds = [...new Set(this.finished)].slice(-keepFinished);
    return {
      version: 1,
      stream,
      sequence: this.sequence,
      entries: this.entries,
      open: [...this.orders.values()].filter((order) => !isTerminal(order.status)),
      recentFinished: finishedIds.map((id) => this.orders.get(id)).filter((order): order is Order => order !== undefined),
      fillCounts,
      net: Object.fromEntries([...this.netPositions()].map(([portfolioId, symbols]) => [portfolioId, Object.fromEntries(symbols)])),
      strategies,
      maxOrderNumber: this.maxOrderNumber,
      maxFillNumber: this.maxFillNumber,
      recentFillIds: this.recentFillIds.slice(-RECENT_FILL_IDS),
      placedMoreThanOnce: this.placedMoreThanOnce(),
      ...(this.misBefore === undefined ? {} : { mis: [...(this.misPositions() ?? new Map<string, MisNet>()).values()] }),
    };
  }
}

/**
 * Moves the checkpoint of `stream` forward to the end of the journal, but never past a fill that
 * a portfolio's stored snapshot does not hold yet (`snapshotFillCount`): recovery then always
 * finds each portfolio snapshot at or after the mark and reads only the tail. Returns the new
 * checkpoint (or the old one when nothing moved).
 */
export async function advanceCheckpoint(options: {
  readonly journal: Journal;
  readonly checkpoints: CheckpointStore;
  readonly stream?: string;
  readonly snapshotFillCount: (portfolioId: string) => Promise<number>;
  readonly keepFinished?: number;
}): Promise<JournalCheckpoint | undefined> {
  const stream = options.stream ?? EXECUTION_STREAM;
  const previous = await options.checkpoints.load(stream);
  const folder = new JournalFolder(previous);
  const caps = new Map<string, number>();
  const counts = new Map<string, number>();
  const pending: JournalRecord[] = [];
  for await (const record of readStream(options.journal, stream, folder.sequence)) pending.push(record);
  for (const portfolioId of new Set(pending.filter((record) => record.type === 'Fill').map((record) => (record.payload as { fill?: Fill } | null)?.fill?.portfolioId ?? ''))) {
    caps.set(portfolioId, await options.snapshotFillCount(portfolioId));
  }
  for (const record of pending) {
    if (record.type === 'Fill') {
      const fill = (record.payload as { fill?: Fill } | null)?.fill;
      if (fill) {
        const portfolioId = fill.portfolioId;
        const count = (counts.get(portfolioId) ?? folder.fillsBeforeOf(portfolioId) + folder.fills.filter((f) => f.portfolioId === portfolioId).length) + 1;
        if (count > (caps.get(portfolioId) ?? 0)) break; // the snapshot does not hold this fill yet
        counts.set(portfolioId, count);
      }
    }
    folder.read += 1;
    folder.fold(record);
  }
  if (folder.read === 0) return previous;
  const checkpoint = folder.checkpoint(stream, options.keepFinished);
  await options.checkpoints.save(checkpoint);
  return checkpoint;
}


function rewrite(target: RecoveryTarget, path: string, state: Json, previous: Snapshot | undefined, version: number, nowMs: number): void {
  target.setRestoredSnapshot({ key: path, version: previous?.version ?? version, state, sequence: previous?.sequence ?? 0, atMs: nowMs });
}

/** Replays the journal onto the restored snapshots and reconciles with the broker. Call after `restoreFrom`, before `start`. */
export async function recoverFromJournal(options: RecoveryOptions): Promise<RecoveryReport> {
  const started = Date.now();
  const { journal, target, log } = options;
  const stream = options.stream ?? EXECUTION_STREAM;
  const nowMs = options.nowMs();
  // from the watermark when there is one and every portfolio snapshot is at or after it; else the whole stream
  const checkpoint = await options.checkpoints?.load(stream);
  let folded = new JournalFolder(checkpoint);
  if (checkpoint) {
    const behind = options.portfolios.filter(({ portfolioId }) => {
      const state = target.restoredSnapshot(`/portfolios/${portfolioId}`)?.state as unknown as PortfolioState | undefined;
      return (state?.fillCount ?? 0) < folded.fillsBeforeOf(portfolioId);
    });
    if (behind.length > 0) {
      log?.warn({ portfolios: behind.map((p) => p.portfolioId), checkpoint: checkpoint.sequence }, 'a portfolio snapshot is older than the journal checkpoint: reading the whole journal');
      folded = new JournalFolder();
    } else if (checkpoint.mis === undefined) {
      log?.info({ checkpoint: checkpoint.sequence }, 'the journal checkpoint predates the MIS book: reading the whole journal');
      folded = new JournalFolder();
    }
  }
  const fromSequence = folded.sequence;
  await folded.readFrom(journal, stream);
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

  // 2. portfolios: the fills after each snapshot's fillCount (their CNC positions are the paper broker's holdings)
  const holdings: HoldingSnapshot[] = [];
  const replayedFills: Record<string, number> = {};
  for (const { portfolioId, initialCashPaise } of options.portfolios) {
    const path = `/portfolios/${portfolioId}`;
    const fills = folded.fills.filter((fill) => fill.portfolioId === portfolioId);
    const previous = target.restoredSnapshot(path);
    let state = (previous?.state as unknown as PortfolioState | undefined) ?? newPortfolio(portfolioId, initialCashPaise);
    const missing = fills.slice(state.fillCount - folded.fillsBeforeOf(portfolioId));
    replayedFills[portfolioId] = missing.length;
    for (const fill of missing) state = applyFillToPortfolio(state, fill);
    for (const position of Object.values(state.positions)) {
      if (position.product === 'CNC' && position.netQuantity !== 0) holdings.push({ portfolioId, symbol: position.symbol, quantity: position.netQuantity });
    }
    if (missing.length === 0) continue;
    rewrite(target, path, state as unknown as Json, previous, 1, nowMs);
  }


  // 3. execution: orders from the journal (the actor's own recovery), the paper broker's resting orders rebuilt from them, its CNC holdings from the portfolios
  const executionPath = paths.find((path) => path.startsWith('/execution/'));
  if (executionPath === '/execution/paper' && folded.entries > 0) {
    const previous = target.restoredSnapshot(executionPath);
    const facts = { openOrders, misPositions: folded.misPositions(), maxOrderNumber: folded.maxOrderNumber, maxFillNumber: folded.maxFillNumber, holdings, portfolioIds: options.portfolios.map((p) => p.portfolioId) };
    const venue = { ...(options.brokerConfig ? { config: options.brokerConfig } : {}), instruments: target.instruments, ...(log ? { log } : {}) };
    const state = recoverExecutionState(previous?.state, folded, () => recoverPaperVenue(previous?.state, folded.orders, facts, venue), options.keepFinishedOrders);
    rewrite(target, executionPath, state, previous, 1, nowMs);
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
    for (const [portfolioId, symbols] of folded.netPositions()) for (const [symbol, net] of symbols) book(portfolioId, symbol).net += net;
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
  const books = folded.strategyBooks();
  for (const path of paths.filter((candidate) => candidate.startsWith('/strategies/'))) {
    const strategyId = path.slice('/strategies/'.length);
    const previous = target.restoredSnapshot(path);
    if (!previous) continue; // a strategy without a snapshot: the execution actor refuses any id it repeats, and it moves on
    const strategyBook = books.get(strategyId);
    if (strategyBook === undefined) continue;
    const host = structuredClone(previous.state) as {
      sequence: number;
      positions: Record<string, number>;
      working: Record<string, { symbol: string; clientOrderId: string; remaining: number }>;
      workingBySymbol: Record<string, number>;
    };
    const next = Math.max(host.sequence, strategyBook.next);
    const positions: Record<string, number> = {};
    for (const [symbol, quantity] of strategyBook.positions) positions[symbol] = quantity;
    const working: typeof host.working = {};
    const workingBySymbol: Record<string, number> = {};
    for (const order of openOrders) {
      if (order.strategyId !== strategyId) continue;
      const remaining = signedOf(order.side, order.quantity - order.filledQuantity);
      working[order.intentId] = { symbol: order.symbol, clientOrderId: order.clientOrderId, remaining };
      workingBySymbol[order.symbol] = (workingBySymbol[order.symbol] ?? 0) + remaining;
    }
    // intents that waited in risk's pacing queue were never journaled: like risk's rewritten book, the host forgets them
    rewrite(target, path, { ...host, sequence: next, positions, working, workingBySymbol, pending: {} }, previous, previous.version, nowMs);
  }

  const placedMoreThanOnce = folded.placedMoreThanOnce();
  let fillsTotal = folded.fills.length;
  for (const count of folded.fillsBefore.values()) fillsTotal += count;
  const report: RecoveryReport = {
    journalEntries: folded.entries,
    journalEntriesRead: folded.read,
    fromSequence,
    orders: folded.orders.size,
    openOrders: openOrders.length,
    fills: fillsTotal,
    replayedFills,
    placedMoreThanOnce,
    alerts,
    durationMs: Date.now() - started,
  };
  log?.info({ ...report, alerts: alerts.length }, 'recovered from the journal');
  return report;
}

/** A portfolio's fill count in its durable snapshot (`actor_snapshots`), 0 without one. */
export function durableFillCount(db: Queryable): (portfolioId: string) => Promise<number> {
  return async (portfolioId) => {
    const rows = await db.query<{ n: number | null }>("SELECT (state->>'fillCount')::int AS n FROM actor_snapshots WHERE key = $1", [`/portfolios/${portfolioId}`]);
    return rows[0]?.n ?? 0;
  };
}

/**
 * Moves the journal watermark forward every `intervalMs` (default 60 s) and once more on `stop`
 * (after the final snapshots), so a restart reads only the journal after it. Failures are logged
 * and retried next time: the watermark only makes recovery faster, never more correct.
 */
export function scheduleCheckpoints(options: { readonly db: Queryable; readonly journal: Journal; readonly stream?: string; readonly intervalMs?: number; readonly log?: Logger }): { run(): Promise<void>; stop(): Promise<void> } {
  const checkpoints = new SqlCheckpointStore(options.db);
  let running: Promise<void> = Promise.resolve();
  const run = (): Promise<void> => {
    running = running.then(async () => {
      try {
        const checkpoint = await advanceCheckpoint({
          journal: options.journal,
          checkpoints,
          ...(options.stream ? { stream: options.stream } : {}),
          snapshotFillCount: durableFillCount(options.db),
        });
        if (checkpoint) options.log?.debug({ sequence: checkpoint.sequence, entries: checkpoint.entries }, 'journal checkpoint moved');
      } catch (error) {
        options.log?.warn({ err: error }, 'journal checkpoint failed (recovery reads more of the journal until the next one)');
      }
    });
    return running;
  };
  const timer = setInterval(() => void run(), options.intervalMs ?? 60_000);
  timer.unref();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await run();
    },
  };
}
