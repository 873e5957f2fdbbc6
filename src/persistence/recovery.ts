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
import { encodeJson, type Json, type Snapshot } from '../actors/core/index.js';
import type { JournalReplay } from '../actors/journal-replay.js';
import { ACTOR_PATHS, strategyIdOfPath } from '../actors/paths.js';
import { applyJournalToPortfolio, decodePortfolioSnapshot, portfolioCodec } from '../actors/portfolio/portfolio.snapshot.js';
import { applyJournalToRisk, decodeRiskSnapshot, RiskSnapshotSchema } from '../actors/risk/risk.snapshot.js';
import { applyJournalToStrategyHost, decodeStrategyHostSnapshot, StrategyHostSnapshotSchema } from '../actors/strategy/strategy.snapshot.js';
import type { HoldingSnapshot, PaperBrokerConfig } from '../brokers/paper/index.js';
import { recoverPaperVenue } from '../brokers/paper/paper-recovery.js';
import { recoverExecutionState } from '../actors/execution/execution.recovery.js';
import { applyMisFill, copyPortfolio, isTerminal, misBookOf, type Fill, type Instrument, type MisNet, type Order, type RiskAlert } from '../model/index.js';
import type { Logger } from '../observability/logger.js';
import { EXECUTION_STREAM } from '../brokers/paper/paper-adapter.js';
import { fromJournalRecord, readStream, toJournalEntry, type Journal, type JournalRecord } from '../actors/journal.js';
import type { Queryable } from './database.js';

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
    for (const [strategyId, { next, positions }] of Object.entries(checkpoint.strategies))
      this.strategiesBefore.set(strategyId, { next, positions: new Map(Object.entries(positions)) });
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
    return this.foldStrategies(false);
  }

  /**
   * The strategies before the checkpoint with this journal's orders folded in: every order moves
   * the next intent number; the fills count of every order (`finishedOnly`: of finished orders only,
   * as the checkpoint's aggregate keeps them; open ones are kept whole).
   */
  private foldStrategies(finishedOnly: boolean): Map<string, { next: number; positions: Map<string, number> }> {
    const books = new Map([...this.strategiesBefore].map(([strategyId, book]) => [strategyId, { next: book.next, positions: new Map(book.positions) }]));
    for (const order of this.orders.values()) {
      const book = books.get(order.strategyId) ?? { next: 0, positions: new Map<string, number>() };
      books.set(order.strategyId, book);
      const intent = intentSequence(order);
      if (intent && intent.owner === order.strategyId) book.next = Math.max(book.next, intent.next);
      if ((finishedOnly && !isTerminal(order.status)) || this.terminalAtCheckpoint.has(order.clientOrderId) || order.filledQuantity === 0) continue;
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
    const books = this.foldStrategies(true);
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
  for (const portfolioId of new Set(
    pending.filter((record) => record.type === 'Fill').map((record) => (record.payload as { fill?: Fill } | null)?.fill?.portfolioId ?? ''),
  )) {
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

/** Sets the snapshot `start()` restores `path` from, keeping the stored one's version and sequence. */
function rewrite(target: RecoveryTarget, path: string, state: Json, previous: Snapshot | undefined, version: number, nowMs: number): void {
  target.setRestoredSnapshot({ key: path, version: previous?.version ?? version, state, sequence: previous?.sequence ?? 0, atMs: nowMs });
}

/** The fold to recover from: from the watermark when there is one and every portfolio snapshot is at or after it; else the whole stream. */
async function foldForRecovery(options: RecoveryOptions, stream: string): Promise<JournalFolder> {
  const { target, log } = options;
  const checkpoint = await options.checkpoints?.load(stream);
  const folded = new JournalFolder(checkpoint);
  if (!checkpoint) return folded;
  const behind = options.portfolios.filter(({ portfolioId }) => {
    const previous = target.restoredSnapshot(ACTOR_PATHS.portfolio(portfolioId));
    return (previous === undefined ? 0 : decodePortfolioSnapshot(previous.state).fillCount) < folded.fillsBeforeOf(portfolioId);
  });
  if (behind.length > 0) {
    log?.warn(
      { portfolios: behind.map((p) => p.portfolioId), checkpoint: checkpoint.sequence },
      'a portfolio snapshot is older than the journal checkpoint: reading the whole journal',
    );
    return new JournalFolder();
  }
  if (checkpoint.mis === undefined) {
    log?.info({ checkpoint: checkpoint.sequence }, 'the journal checkpoint predates the MIS book: reading the whole journal');
    return new JournalFolder();
  }
  return folded;
}

/** Open orders against the broker's truth: each discrepancy corrected from the broker, journaled and returned as an alert. */
async function reconcileOpenOrders(options: RecoveryOptions, folded: JournalFolder, stream: string, nowMs: number): Promise<RiskAlert[]> {
  const { journal, log } = options;
  const alerts: RiskAlert[] = [];
  const open = [...folded.orders.values()].filter((order) => !isTerminal(order.status));
  if (open.length === 0) return alerts;
  const reconciler = (options.reconciler ?? ((journaled) => new PaperReconciler(journaled)))(folded.orders);
  const truth = await reconciler.fetchOrders(open.map((order) => order.clientOrderId));
  const corrections: { order: Order; reason: string }[] = [];
  for (const order of open) {
    const broker = truth.get(order.clientOrderId);
    if (!broker) {
      const reason = `order ${order.clientOrderId} was journaled but the ${reconciler.name} broker does not have it after the restart: closed as rejected, never re-sent`;
      corrections.push({
        order: {
          ...order,
          status: 'REJECTED',
          statusMessage: 'Not at the broker after a restart.',
          cancelledQuantity: order.quantity - order.filledQuantity,
          updatedAtMs: Math.max(order.updatedAtMs, nowMs),
        },
        reason,
      });
    } else if (broker.status !== order.status || broker.filledQuantity !== order.filledQuantity) {
      const reason = `order ${order.clientOrderId}: journal had ${order.status} ${order.filledQuantity}/${order.quantity}, the ${reconciler.name} broker has ${broker.status} ${broker.filledQuantity}/${broker.quantity}: corrected from the broker`;
      corrections.push({ order: broker, reason });
    }
  }
  if (corrections.length === 0) return alerts;
  await journal.append(corrections.map(({ order, reason }) => toJournalEntry(stream, { type: 'OrderReconciled', order, reason })));
  for (const { order, reason } of corrections) {
    folded.orders.set(order.clientOrderId, order);
    if (isTerminal(order.status)) folded.finished.push(order.clientOrderId);
    alerts.push({
      type: 'RiskAlert',
      severity: 'warning',
      code: 'reconciliation',
      message: reason,
      atMs: nowMs,
      strategyId: order.strategyId,
      symbol: order.symbol,
    });
    log?.warn({ clientOrderId: order.clientOrderId, status: order.status }, reason);
  }
  return alerts;
}

/** The folded journal as the actor kinds read it. */
function replayOf(folded: JournalFolder): JournalReplay {
  return {
    entries: folded.entries,
    fills: folded.fills,
    openOrders: [...folded.orders.values()].filter((order) => !isTerminal(order.status)),
    fillsBeforeOf: (portfolioId) => folded.fillsBeforeOf(portfolioId),
    netPositions: () => folded.netPositions(),
    strategyBooks: () => folded.strategyBooks(),
  };
}

/** Portfolios: each kind's `applyJournalToPortfolio`; returns the fills replayed per portfolio and the CNC holdings (the paper broker's). */
function recoverPortfolios(
  options: RecoveryOptions,
  replay: JournalReplay,
  nowMs: number,
): { replayedFills: Record<string, number>; holdings: HoldingSnapshot[] } {
  const { target } = options;
  const holdings: HoldingSnapshot[] = [];
  const replayedFills: Record<string, number> = {};
  for (const { portfolioId, initialCashPaise } of options.portfolios) {
    const path = ACTOR_PATHS.portfolio(portfolioId);
    const previous = target.restoredSnapshot(path);
    const { state, replayed } = applyJournalToPortfolio(
      previous === undefined ? undefined : decodePortfolioSnapshot(previous.state),
      replay,
      portfolioId,
      initialCashPaise,
    );
    replayedFills[portfolioId] = replayed;
    for (const position of Object.values(state.positions)) {
      if (position.product === 'CNC' && position.netQuantity !== 0) holdings.push({ portfolioId, symbol: position.symbol, quantity: position.netQuantity });
    }
    if (replayed > 0) rewrite(target, path, portfolioCodec.encode(copyPortfolio(state)), previous, portfolioCodec.version, nowMs);
  }
  return { replayedFills, holdings };
}

/** Risk: `applyJournalToRisk` on its snapshot. */
function recoverRisk(target: RecoveryTarget, replay: JournalReplay, nowMs: number): void {
  const previous = target.restoredSnapshot(ACTOR_PATHS.risk);
  const recovered = applyJournalToRisk(previous === undefined ? undefined : decodeRiskSnapshot(previous.state), replay);
  rewrite(target, ACTOR_PATHS.risk, encodeJson(RiskSnapshotSchema, recovered), previous, 1, nowMs);
}

/** Strategy hosts: `applyJournalToStrategyHost` on each snapshot (a host without one: execution refuses any id it repeats, and it moves on). */
function recoverStrategies(target: RecoveryTarget, paths: readonly string[], replay: JournalReplay, nowMs: number): void {
  const books = replay.strategyBooks();
  for (const path of paths) {
    const strategyId = strategyIdOfPath(path);
    const previous = strategyId === undefined ? undefined : target.restoredSnapshot(path);
    if (strategyId === undefined || previous === undefined) continue;
    const recovered = applyJournalToStrategyHost(decodeStrategyHostSnapshot(previous.state), strategyId, books.get(strategyId), replay);
    if (recovered) rewrite(target, path, encodeJson(StrategyHostSnapshotSchema, recovered), previous, previous.version, nowMs);
  }
}

/**
 * Replays the journal onto the restored snapshots and reconciles with the broker. Call after
 * `restoreFrom`, before `start`. Recovery only orchestrates: how the journal applies to a
 * snapshot is each actor kind's (`applyJournalTo…` beside its codec in `src/actors/<kind>/`).
 */
export async function recoverFromJournal(options: RecoveryOptions): Promise<RecoveryReport> {
  const started = Date.now();
  const { journal, target, log } = options;
  const stream = options.stream ?? EXECUTION_STREAM;
  const nowMs = options.nowMs();
  const folded = await foldForRecovery(options, stream);
  const fromSequence = folded.sequence;
  await folded.readFrom(journal, stream);
  // 1. open orders against the broker's truth
  const alerts = await reconcileOpenOrders(options, folded, stream, nowMs);
  const replay = replayOf(folded);
  const paths = target.statefulActorPaths();
  // 2. portfolios: the fills after each snapshot's fillCount (their CNC positions are the paper broker's holdings)
  const { replayedFills, holdings } = recoverPortfolios(options, replay, nowMs);
  // 3. execution (paper): orders from the journal (the actor's own recovery), the paper broker's resting orders rebuilt from them, its CNC holdings from the portfolios
  const executionPath = ACTOR_PATHS.execution('paper');
  if (paths.includes(executionPath) && folded.entries > 0) {
    const previous = target.restoredSnapshot(executionPath);
    const facts = {
      openOrders: replay.openOrders,
      misPositions: folded.misPositions(),
      maxOrderNumber: folded.maxOrderNumber,
      maxFillNumber: folded.maxFillNumber,
      holdings,
      portfolioIds: options.portfolios.map((p) => p.portfolioId),
    };
    const venue = { ...(options.brokerConfig ? { config: options.brokerConfig } : {}), instruments: target.instruments, ...(log ? { log } : {}) };
    const state = recoverExecutionState(
      previous?.state,
      folded,
      () => recoverPaperVenue(previous?.state, folded.orders, facts, venue),
      options.keepFinishedOrders,
    );
    rewrite(target, executionPath, state, previous, 1, nowMs);
  }
  // 4. risk: its book recomputed from fills and open orders
  if (paths.includes(ACTOR_PATHS.risk) && folded.entries > 0) recoverRisk(target, replay, nowMs);
  // 5. strategies: intent numbering past every journaled intent; positions and working orders from the journal
  recoverStrategies(target, paths, replay, nowMs);

  let fillsTotal = folded.fills.length;
  for (const count of folded.fillsBefore.values()) fillsTotal += count;
  const report: RecoveryReport = {
    journalEntries: folded.entries,
    journalEntriesRead: folded.read,
    fromSequence,
    orders: folded.orders.size,
    openOrders: replay.openOrders.length,
    fills: fillsTotal,
    replayedFills,
    placedMoreThanOnce: folded.placedMoreThanOnce(),
    alerts,
    durationMs: Date.now() - started,
  };
  log?.info({ ...report, alerts: alerts.length }, 'recovered from the journal');
  return report;
}

/** A portfolio's fill count in its durable snapshot (`actor_snapshots`), 0 without one. */
export function durableFillCount(db: Queryable): (portfolioId: string) => Promise<number> {
  return async (portfolioId) => {
    const rows = await db.query<{ n: number | null }>("SELECT (state->>'fillCount')::int AS n FROM actor_snapshots WHERE key = $1", [
      ACTOR_PATHS.portfolio(portfolioId),
    ]);
    return rows[0]?.n ?? 0;
  };
}

/**
 * Moves the journal watermark forward every `intervalMs` (default 60 s) and once more on `stop`
 * (after the final snapshots), so a restart reads only the journal after it. Failures are logged
 * and retried next time: the watermark only makes recovery faster, never more correct.
 */
export function scheduleCheckpoints(options: {
  readonly db: Queryable;
  readonly journal: Journal;
  readonly stream?: string;
  readonly intervalMs?: number;
  readonly log?: Logger;
}): { run(): Promise<void>; stop(): Promise<void> } {
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
