/**
 * ActorCell: the core's bookkeeping around one nact actor - behavior, supervision, snapshots,
 * statistics, children and termination. The nact actor owns the mailbox and the state; the cell
 * owns everything nact gets wrong or lacks (see docs in index.ts).
 */

import { backoffDelayMs, DEFAULT_SUPERVISION } from './behavior.js';
import { ActorInitError, EscalatedFailure, errorMessage, InjectedFault } from './errors.js';
import {
  type AnySignal,
  type BatchSource,
  type CellHost,
  ChildFailedSignal,
  DrainSignal,
  NO_BATCH,
  PipeEnvelope,
  RetryInitSignal,
  type Signal,
  UserBatchSignal,
} from './internal.js';
import { findNactActor, NACT_DIRECTIVES, type NactActor, type NactContext, type NactRef, spawnNact } from './nact-bridge.js';
import type {
  ActorContext,
  ActorHealth,
  ActorRef,
  ActorSystem,
  Behavior,
  Json,
  Logger,
  PipeResult,
  Snapshot,
  SpawnOptions,
  StopReason,
  SupervisionDirective,
  SupervisionPolicy,
} from './types.js';

// Cells of any protocol live side by side in one tree; `any` stays inside the core.
export type AnyCell = ActorCell<any, any>;

/** How many stopped-by-failure children a parent keeps listed in health. */
const RETAINED_STOPPED_CHILDREN = 64;

const RETRY_INIT = new RetryInitSignal();

/**
 * At most this many queued user messages are processed per nact turn; a longer run continues with
 * a signal at the front of the mailbox, so other actors get their turns in between.
 */
export const MAX_USER_MESSAGES_PER_TURN = 10_000;

/** A drained-from-the-front queue is compacted once its dead prefix is this long (and half of it). */
const QUEUE_COMPACT_AT = 1_024;

/** Escalated failures → the child that escalated, so a resuming parent can resume it. */
const escalations = new WeakMap<object, AnyCell>();

/**
 * The concrete ref object. `cell` caches the resolved cell so `tell` skips any lookup; when that
 * cell has terminated, the system re-resolves the path. `sink` is set for ask reply refs.
 */
export class ActorRefImpl<M> implements ActorRef<M> {
  declare readonly __protocol?: (message: M) => void;
  constructor(
    readonly path: string,
    public cell: AnyCell | undefined,
    readonly sink: ((message: unknown) => boolean) | undefined,
  ) {}

  toJSON(): { path: string } {
    return { path: this.path };
  }
}

/** The `ActorContext` handed to behaviors: one object per cell. */
class CellContext<M> implements ActorContext<M> {
  constructor(private readonly cell: ActorCell<M, unknown>) {}
  get self(): ActorRef<M> {
    return this.cell.self;
  }
  get path(): string {
    return this.cell.path;
  }
  get system(): ActorSystem {
    return this.cell.host.api;
  }
  get restarts(): number {
    return this.cell.restarts;
  }
  get log(): Logger {
    return this.cell.log;
  }
  spawn<C, CS>(name: string, behavior: Behavior<C, CS>, options?: SpawnOptions<CS>): ActorRef<C> {
    return this.cell.spawnChild(name, behavior, options).self;
  }
  pipeToSelf<T>(work: Promise<T>, onDone: (result: PipeResult<T>) => M): void {
    this.cell.pipeToSelf(work, onDone);
  }
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Validates an actor name: non-empty, no `/`, not starting with `$` (reserved). */
export function assertValidName(name: string): void {
  if (name.length === 0 || name.includes('/') || name.startsWith('$')) {
    throw new TypeError(`invalid actor name "${name}": non-empty, no "/", not starting with "$"`);
  }
}

/**
 * nact takes only `[a-z0-9-$_.+!*'(),]` in names; our paths keep the name as given
 * ("/market/M&M"). Percent-encoding with `$` for `%` is injective: a literal `$` is
 * encoded too.
 */
export function nactName(name: string): string {
  return encodeURIComponent(name).replace(/~/g, '%7E').replace(/%/g, '$');
}

/**
 * Creates a cell and its nact actor. `siblings` is the parent's child map (or the system's
 * top-level map); `nactParent` the nact reference to spawn under.
 */
export function spawnCell<M, S>(
  host: CellHost,
  parent: AnyCell | undefined,
  siblings: Map<string, AnyCell>,
  nactParent: NactRef,
  name: string,
  behavior: Behavior<M, S>,
  options: SpawnOptions<S> | undefined,
): ActorCell<M, S> {
  assertValidName(name);
  const path = `${parent === undefined ? '' : parent.path}/${name}`;
  const existing = siblings.get(name);
  if (existing !== undefined && !existing.terminated) throw new Error(`actor ${path} already exists`);
  const cell = new ActorCell<M, S>(host, parent, siblings, name, path, behavior, options);
  siblings.delete(name);
  siblings.set(name, cell);
  host.register(path, cell);
  try {
    cell.nactRef = spawnNact(nactParent, (state, message) => cell.process(state as S, message), nactName(name), {
      onCrash: (_message, error) =>
        cell.handleFailure(error).catch((internal: unknown) => {
          cell.log.error({ err: internal }, 'supervision failed; stopping actor');
          cell.terminate('supervision', true);
          return NACT_DIRECTIVES.resume;
        }),
      initialStateFunc: (ctx) => cell.init(ctx),
    });
  } catch (error) {
    siblings.delete(name);
    host.unregister(path, cell);
    throw error;
  }
  return cell;
}

/** One actor's bookkeeping. Created by `spawnCell`. */
export class ActorCell<M, S> {
  readonly self: ActorRefImpl<M>;
  readonly context: ActorContext<M>;
  readonly log: Logger;
  readonly kind: string;
  readonly children = new Map<string, AnyCell>();
  readonly policy: SupervisionPolicy;
  readonly snapshotKey: string;
  nactRef: NactRef | undefined;
  private actor: NactActor | undefined;

  status: 'running' | 'restarting' | 'stopped' = 'running';
  terminated = false;
  /** False once a graceful stop began (or the cell terminated): user messages become dead letters. */
  accepting = true;

  /**
   * User messages (and `PipeEnvelope`s), oldest at `queue[queueHead]`: a deque over an array,
   * compacted as the head advances. They are not in the nact mailbox; `UserBatchSignal`s there
   * cover ranges of absolute positions (`takenTotal` … `queuedTotal`).
   */
  private queue: unknown[] = [];
  private queueHead = 0;
  /** Messages ever queued / ever taken off the queue (absolute positions). Depth = the difference. */
  private queuedTotal = 0;
  private takenTotal = 0;
  /** The signal in the mailbox that newly queued user messages join; undefined when none is open. */
  private openBatch: UserBatchSignal | undefined;
  /** Signals of this cell waiting on the system's run queue. */
  private inRunQueue = 0;
  /** True while `runScheduled` runs this cell's signal (nact's `busy` is set then too). */
  private runningScheduled = false;
  processed = 0;
  failures = 0;
  restarts = 0;
  shed = 0;
  snapshotFailures = 0;
  private processingTimeUsTotal = 0;
  private processingTimeUsMax = 0;
  private lastError: { message: string; atMs: number } | undefined;

  lastSnapshot: Snapshot | undefined;
  private lastSnapshotAtMs: number | undefined;
  private sequence = 0;
  private sinceSnapshot = 0;
  private snapshotWindowStartMs: number;

  private stateInvalid = false;
  private initFailure: unknown;
  private restartTimes: number[] = [];
  private wake: (() => void) | undefined;
  private suspension: ((outcome: 'resume' | 'stopped') => void) | undefined;
  private readonly drainWaiters = new Set<() => void>();
  private readonly inlets = new Set<BatchSource & { readonly pending: number }>();

  constructor(
    readonly host: CellHost,
    readonly parent: AnyCell | undefined,
    private readonly siblings: Map<string, AnyCell>,
    readonly name: string,
    readonly path: string,
    readonly behavior: Behavior<M, S>,
    options: SpawnOptions<S> | undefined,
  ) {
    this.kind = behavior.kind;
    this.policy = options?.supervision ?? DEFAULT_SUPERVISION;
    this.snapshotKey = behavior.snapshot?.key ?? path;
    this.self = new ActorRefImpl<M>(path, this, undefined);
    this.log = host.logger.child === undefined ? host.logger : host.logger.child({ actor: path });
    this.context = new CellContext<M>(this);
    this.snapshotWindowStartMs = host.clock.nowMs();
    const initial = options?.initialSnapshot;
    if (initial !== undefined) {
      if (behavior.snapshot === undefined) {
        this.log.warn({ key: initial.key }, 'initialSnapshot ignored: behavior has no snapshot codec');
      } else {
        this.lastSnapshot = initial;
        this.lastSnapshotAtMs = initial.atMs;
      }
    }
  }

  /** The concrete nact actor (resolved once, by one path walk). */
  private concrete(): NactActor | undefined {
    if (this.actor === undefined && this.nactRef !== undefined) {
      this.actor = findNactActor(this.host.nactSystemName, this.nactRef);
    }
    return this.actor;
  }

  // ---------------------------------------------------------------- intake

  /** Queues a user message (the system already checked `accepting`). */
  tellUser(message: unknown): void {
    if (!this.enqueueUser(message)) this.host.deadLetter(this.path, 'stopped', message, 1);
  }

  /**
   * Appends to the user queue; dispatches a `UserBatchSignal` to nact only when none is open, so
   * all messages told until the actor runs are processed in one nact turn. False if the cell is gone.
   */
  private enqueueUser(entry: unknown): boolean {
    if (this.terminated) return false;
    if (this.openBatch === undefined) {
      const actor = this.concrete();
      if (actor === undefined) return false;
      const signal = new UserBatchSignal();
      this.openBatch = signal;
      this.queue.push(entry);
      this.queuedTotal += 1;
      this.post(actor, signal);
    } else {
      this.queue.push(entry);
      this.queuedTotal += 1;
    }
    return true;
  }

  /** Takes the oldest queued user message (the caller checked the queue is not empty). */
  private takeUser(): unknown {
    const queue = this.queue;
    const head = this.queueHead;
    const entry = queue[head];
    queue[head] = undefined;
    this.takenTotal += 1;
    const nextHead = head + 1;
    if (nextHead === queue.length) {
      queue.length = 0;
      this.queueHead = 0;
    } else if (nextHead >= QUEUE_COMPACT_AT && nextHead * 2 >= queue.length) {
      queue.copyWithin(0, nextHead);
      queue.length -= nextHead;
      this.queueHead = 0;
    } else {
      this.queueHead = nextHead;
    }
    return entry;
  }

  /**
   * Queues an internal signal at the back of the mailbox. False if the cell is gone. The open
   * `UserBatchSignal` (if any) is closed first: user messages told before this signal are processed
   * before it, later ones after it (the order a plain FIFO mailbox would give).
   */
  enqueueSignal(signal: Signal): boolean {
    const actor = this.concrete();
    if (actor === undefined || this.terminated) return false;
    const open = this.openBatch;
    if (open !== undefined) {
      open.end = this.queuedTotal;
      this.openBatch = undefined;
    }
    this.post(actor, signal);
    return true;
  }

  /**
   * Hands a signal on for processing. An idle, healthy actor's signals go to the system's run
   * queue, which runs many actors' signals per event-loop turn in posting order (nact gives every
   * message a turn of its own). nact's own mailbox takes over while nact is busy with this actor
   * (a failure being supervised, a priority signal, a bounded batch continuing) or its state is
   * invalid; signals already on the run queue keep their order (they join nact's mailbox behind).
   */
  private post(actor: NactActor, signal: Signal): void {
    if (this.inRunQueue === 0 && !this.runningScheduled && (actor.busy || actor.mailbox.length > 0 || this.stateInvalid)) {
      actor.dispatch(signal);
      return;
    }
    this.inRunQueue += 1;
    this.host.schedule(this, signal);
  }

  /** Runs a signal from the run queue the way nact's `handleMessage` would, failures included. */
  runScheduled(signal: Signal): void {
    this.inRunQueue -= 1;
    const actor = this.concrete();
    if (actor === undefined || this.terminated || actor.stopped) return; // terminate() dead-lettered what was queued
    if (actor.busy || actor.mailbox.length > 0 || this.stateInvalid) {
      actor.dispatch(signal);
      return;
    }
    actor.busy = true;
    this.runningScheduled = true;
    let next: unknown;
    try {
      next = this.process(actor.state as S, signal);
    } catch (error) {
      this.runningScheduled = false;
      void actor.handleFault(signal, undefined, error);
      return;
    }
    this.runningScheduled = false;
    actor.state = next;
    if (actor.mailbox.length > 0) actor.processNext();
    else actor.busy = false;
  }

  /** Queues an internal signal at the front of the mailbox (after the message already scheduled). */
  enqueuePriority(signal: Signal): boolean {
    const actor = this.concrete();
    if (actor === undefined || this.terminated) return false;
    if (actor.busy) actor.mailbox.unshift({ message: signal, sender: undefined });
    else actor.dispatch(signal);
    return true;
  }

  /** See `ActorContext.pipeToSelf`. The result joins the user queue (in order with `tell`s). */
  pipeToSelf<T>(work: Promise<T>, onDone: (result: PipeResult<T>) => M): void {
    const deliver = (result: PipeResult<T>): void => {
      if (!this.enqueueUser(new PipeEnvelope<T>(result, onDone))) this.host.deadLetter(this.path, 'stopped', result, 1);
    };
    void work.then(
      (value) => deliver({ ok: true, value }),
      (error: unknown) => deliver({ ok: false, error }),
    );
  }

  /** An inlet now targets this cell (its items count in mailbox depth). */
  attachInlet(inlet: BatchSource & { readonly pending: number }): void {
    this.inlets.add(inlet);
  }

  /** Resolves when everything queued before this call has been processed (or the cell terminated). */
  requestDrain(): Promise<void> {
    if (this.terminated) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.drainWaiters.delete(done);
        resolve();
      };
      this.drainWaiters.add(done);
      if (!this.enqueueSignal(new DrainSignal(done))) done();
    });
  }

  spawnChild<C, CS>(name: string, behavior: Behavior<C, CS>, options: SpawnOptions<CS> | undefined): ActorCell<C, CS> {
    if (this.terminated || this.nactRef === undefined) throw new Error(`cannot spawn ${name}: ${this.path} has stopped`);
    return spawnCell(this.host, this, this.children, this.nactRef, name, behavior, options);
  }

  // ---------------------------------------------------------------- processing (inside nact)

  /** nact's `initialStateFunc`: at spawn and on every restart (`reset`). Never throws. */
  init(nactContext: NactContext): unknown {
    this.nactRef ??= nactContext.self;
    const snapshot = this.lastSnapshot;
    const settings = this.behavior.snapshot;
    try {
      const restored = snapshot !== undefined && settings !== undefined ? settings.codec.decode(snapshot.state, snapshot.version) : undefined;
      const state = this.behavior.initial(this.context, restored);
      if (isThenable(state)) throw new TypeError(`${this.path}: initial returned a promise; it must be synchronous`);
      this.stateInvalid = false;
      this.initFailure = undefined;
      this.sequence = snapshot?.sequence ?? 0;
      this.sinceSnapshot = 0;
      this.snapshotWindowStartMs = this.host.clock.nowMs();
      this.status = 'running';
      return state;
    } catch (error) {
      // nact would call handleFault concurrently and then process messages on an undefined
      // state; instead mark the state invalid and let a front-of-mailbox signal fail properly.
      this.stateInvalid = true;
      this.initFailure = error;
      this.enqueuePriority(RETRY_INIT);
      return undefined;
    }
  }

  /** nact's actor function: one mailbox entry (always a signal). Throwing hands the failure to `onCrash`. */
  process(state: S, raw: unknown): S {
    if (!this.runningScheduled) {
      // nact runs this on a turn of its own
      this.host.refreshRecentNow();
      this.host.stamp = performance.now();
    }
    if (this.stateInvalid) {
      if (raw !== RETRY_INIT) this.concrete()?.mailbox.unshift({ message: raw, sender: undefined });
      throw new ActorInitError(this.path, this.initFailure);
    }
    const signal = raw as AnySignal;
    switch (signal.kind) {
      case 'user-batch':
        return this.processUserBatch(state, signal);
      case 'batch': {
        const batch = signal.source.takeBatch();
        if (batch === NO_BATCH) return state;
        return this.receiveOne(state, batch as M);
      }
      case 'fault':
        throw new InjectedFault(this.path, signal.reason);
      case 'drain':
        signal.done();
        return state;
      case 'child-failed': {
        const child = signal.child as AnyCell;
        if (child.parent === this && !child.terminated && child.suspension !== undefined) {
          const failure = new EscalatedFailure(child.path, signal.error);
          escalations.set(failure, child);
          throw failure;
        }
        return state;
      }
      case 'retry-init':
        return state;
    }
  }

  /**
   * Processes the queued user messages `signal` covers, one by one, at most
   * `MAX_USER_MESSAGES_PER_TURN` of them. Messages told meanwhile join a new signal. If more of
   * this range remain (the bound was hit, or a message failed), the signal goes back to the front of
   * the mailbox: after the supervision directive, or after other actors had a turn, they come next.
   */
  private processUserBatch(state: S, signal: UserBatchSignal): S {
    if (this.openBatch === signal) this.openBatch = undefined;
    const end = signal.end ?? this.queuedTotal;
    signal.end = end;
    const limit = Math.min(end, this.takenTotal + MAX_USER_MESSAGES_PER_TURN);
    const actor = this.concrete();
    let current = state;
    while (this.takenTotal < limit) {
      const entry = this.takeUser();
      try {
        current = this.receiveOne(current, entry instanceof PipeEnvelope ? (entry.onDone(entry.result) as M) : (entry as M));
      } catch (error) {
        // nact keeps its pre-turn state on a throw; resume must see the state after the messages before this one.
        if (actor !== undefined) actor.state = current;
        if (this.takenTotal < end && !this.terminated) this.enqueuePriority(signal);
        throw error;
      }
      if (this.terminated) return current;
      // So that a stop or a failure in the middle of the run sees the state so far.
      if (actor !== undefined) actor.state = current;
    }
    if (this.takenTotal < end) this.enqueuePriority(signal);
    return current;
  }

  /** One user message through `receive`, with timing, counters and the snapshot cadence check. */
  private receiveOne(state: S, message: M): S {
    const host = this.host;
    const startedAt = host.stamp;
    const next = this.behavior.receive(state, message, this.context);
    // an async handler's promise (reading `.then` on every actor's state would be a megamorphic load per message)
    if (next instanceof Promise) throw new TypeError(`${this.path}: receive returned a promise; handlers must be synchronous (use pipeToSelf)`);
    const endedAt = performance.now();
    host.stamp = endedAt;
    const tookUs = (endedAt - startedAt) * 1000;
    this.processingTimeUsTotal += tookUs;
    if (tookUs > this.processingTimeUsMax) this.processingTimeUsMax = tookUs;
    this.processed += 1;
    this.sequence += 1;
    this.sinceSnapshot += 1;
    const settings = this.behavior.snapshot;
    if (settings !== undefined) {
      const { everyMessages, everyMs } = settings;
      if (
        (everyMessages !== undefined && this.sinceSnapshot >= everyMessages) ||
        (everyMs !== undefined && this.host.recentNowMs - this.snapshotWindowStartMs >= everyMs)
      ) {
        this.takeSnapshot(next);
      }
    }
    return next;
  }

  private takeSnapshot(state: S): void {
    const settings = this.behavior.snapshot;
    if (settings === undefined) return;
    const now = this.host.clock.nowMs();
    this.sinceSnapshot = 0;
    this.snapshotWindowStartMs = now;
    let encoded: Json;
    try {
      encoded = settings.codec.encode(state);
    } catch (error) {
      this.snapshotFailed(error);
      return;
    }
    const snapshot: Snapshot = { key: this.snapshotKey, version: settings.codec.version, state: encoded, sequence: this.sequence, atMs: now };
    this.lastSnapshot = snapshot;
    this.lastSnapshotAtMs = now;
    this.host.saveSnapshot(snapshot, (error) => this.snapshotFailed(error));
  }

  private snapshotFailed(error: unknown): void {
    this.snapshotFailures += 1;
    this.log.error({ err: error, key: this.snapshotKey }, 'snapshot failed');
    this.host.emit({ type: 'SnapshotFailed', path: this.path, key: this.snapshotKey, error, atMs: this.host.clock.nowMs() });
  }

  // ---------------------------------------------------------------- supervision (nact onCrash)

  /** Decides and applies the directive. While the returned promise is pending, messages queue. */
  async handleFailure(error: unknown): Promise<symbol> {
    if (this.terminated) return NACT_DIRECTIVES.resume;
    const now = this.host.clock.nowMs();
    this.failures += 1;
    this.lastError = { message: errorMessage(error), atMs: now };
    const policy = this.policy;
    let directive: SupervisionDirective = policy.strategy;
    let restartLimitExceeded = false;
    if (policy.strategy === 'restart') {
      const windowStart = now - policy.withinMs;
      this.restartTimes = this.restartTimes.filter((at) => at > windowStart);
      if (this.restartTimes.length >= policy.maxRestarts) {
        directive = 'escalate';
        restartLimitExceeded = true;
      }
    }
    if (directive === 'resume' && this.stateInvalid) directive = 'stop';
    this.log.error({ err: error, directive, restartLimitExceeded }, 'actor failed');
    this.host.emit({
      type: 'ActorFailed',
      path: this.path,
      kind: this.kind,
      error,
      errorMessage: errorMessage(error),
      directive,
      restartLimitExceeded,
      atMs: now,
    });
    switch (directive) {
      case 'resume':
        this.resumeEscalatedChild(error);
        return NACT_DIRECTIVES.resume;
      case 'stop':
        this.terminate('supervision', true);
        return NACT_DIRECTIVES.resume;
      case 'restart':
        return this.restartAfterBackoff(backoffDelayMs(policy, this.restartTimes.length));
      case 'escalate':
        return this.escalate(error);
    }
  }

  private async restartAfterBackoff(backoffMs: number): Promise<symbol> {
    this.status = 'restarting';
    if (backoffMs > 0) await this.sleep(backoffMs);
    if (this.terminated) return NACT_DIRECTIVES.resume;
    this.restarts += 1;
    this.restartTimes.push(this.host.clock.nowMs());
    for (const child of [...this.children.values()]) child.terminate('parent-restarted', false);
    this.children.clear();
    this.host.emit({
      type: 'ActorRestarted',
      path: this.path,
      kind: this.kind,
      restarts: this.restarts,
      backoffMs,
      restoredFromSequence: this.lastSnapshot?.sequence ?? null,
      atMs: this.host.clock.nowMs(),
    });
    // nact's reset(): stops nact children (none left), calls init(), then processes the mailbox.
    return NACT_DIRECTIVES.reset;
  }

  private async escalate(error: unknown): Promise<symbol> {
    const parent = this.parent;
    if (parent === undefined || parent.terminated) {
      this.terminate('escalated', true);
      return NACT_DIRECTIVES.resume;
    }
    this.status = 'restarting';
    const outcome = await new Promise<'resume' | 'stopped'>((resolve) => {
      this.suspension = resolve;
      if (!parent.enqueuePriority(new ChildFailedSignal(this, error))) resolve('stopped');
    });
    this.suspension = undefined;
    if (outcome === 'stopped' || this.terminated) return NACT_DIRECTIVES.resume;
    if (this.stateInvalid) {
      this.terminate('supervision', true);
      return NACT_DIRECTIVES.resume;
    }
    this.status = 'running';
    this.resumeEscalatedChild(error);
    return NACT_DIRECTIVES.resume;
  }

  /** A parent that resumes after an escalation resumes the child that escalated. */
  private resumeEscalatedChild(error: unknown): void {
    if (typeof error !== 'object' || error === null) return;
    const child = escalations.get(error);
    if (child === undefined) return;
    escalations.delete(error);
    child.suspension?.('resume');
  }

  private sleep(delayMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const handle = this.host.timers.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, delayMs);
      this.wake = () => {
        this.host.timers.clearTimeout(handle);
        this.wake = undefined;
        resolve();
      };
    });
  }

  // ---------------------------------------------------------------- termination

  /**
   * Stops this cell and its subtree now (children first). Unless `ownFailure`, an actor with a
   * valid state writes a final snapshot and runs `onStop`. What is left in the mailbox and in
   * inlets becomes dead letters. A cell stopped by its own failure stays listed in health.
   */
  terminate(reason: StopReason, ownFailure: boolean): void {
    if (this.terminated) return;
    const childReason: StopReason = reason === 'shutdown' ? 'shutdown' : 'parent-stopped';
    for (const child of [...this.children.values()]) child.terminate(childReason, false);
    this.terminated = true;
    this.accepting = false;
    this.status = 'stopped';
    this.wake?.();
    const actor = this.concrete();
    if (!ownFailure && !this.stateInvalid && actor !== undefined) {
      const state = actor.state as S;
      const settings = this.behavior.snapshot;
      if (settings !== undefined && (this.sinceSnapshot > 0 || this.lastSnapshot === undefined)) this.takeSnapshot(state);
      if (this.behavior.onStop !== undefined) {
        try {
          this.behavior.onStop(state, this.context);
        } catch (error) {
          this.log.error({ err: error }, 'onStop threw');
        }
      }
    }
    const queue = this.queue;
    const head = this.queueHead;
    this.queue = [];
    this.queueHead = 0;
    this.takenTotal = this.queuedTotal;
    this.openBatch = undefined;
    for (let at = head; at < queue.length; at++) {
      const entry = queue[at];
      this.host.deadLetter(this.path, 'stopped', entry instanceof PipeEnvelope ? (entry as PipeEnvelope<unknown>).result : entry, 1);
    }
    for (const inlet of [...this.inlets]) {
      const dropped = inlet.detach(this);
      if (dropped > 0) this.host.deadLetter(this.path, 'stopped', undefined, dropped);
    }
    this.inlets.clear();
    this.suspension?.('stopped');
    for (const done of [...this.drainWaiters]) done();
    this.host.unregister(this.path, this);
    if (ownFailure) this.retainInSiblings();
    else if (this.siblings.get(this.name) === this) this.siblings.delete(this.name);
    actor?.stop();
    this.log.info({ reason }, 'actor stopped');
    this.host.emit({ type: 'ActorStopped', path: this.path, kind: this.kind, reason, atMs: this.host.clock.nowMs() });
  }

  private retainInSiblings(): void {
    let stopped = 0;
    for (const sibling of this.siblings.values()) if (sibling.terminated) stopped += 1;
    for (const [name, sibling] of this.siblings) {
      if (stopped <= RETAINED_STOPPED_CHILDREN) break;
      if (sibling.terminated) {
        this.siblings.delete(name);
        stopped -= 1;
      }
    }
  }

  /** This cell and all live descendants. */
  collectLive(into: AnyCell[]): void {
    if (this.terminated) return;
    into.push(this);
    for (const child of this.children.values()) child.collectLive(into);
  }

  // ---------------------------------------------------------------- health

  /** This actor's and its descendants' mailbox depth (as `health()` counts it), without building the tree. */
  pendingWork(): number {
    let total = 0;
    if (!this.terminated) {
      total = this.queuedTotal - this.takenTotal;
      for (const inlet of this.inlets) total += inlet.pending;
    }
    for (const child of this.children.values()) total += child.pendingWork();
    return total;
  }

  health(): ActorHealth {
    let pending = 0;
    for (const inlet of this.inlets) pending += inlet.pending;
    return {
      path: this.path,
      kind: this.kind,
      status: this.status,
      mailboxDepth: this.terminated ? 0 : this.queuedTotal - this.takenTotal + pending,
      processed: this.processed,
      failures: this.failures,
      restarts: this.restarts,
      processingTimeUsTotal: Math.round(this.processingTimeUsTotal),
      processingTimeUsMax: Math.round(this.processingTimeUsMax),
      shed: this.shed,
      snapshotFailures: this.snapshotFailures,
      ...(this.lastError === undefined ? {} : { lastError: { ...this.lastError } }),
      ...(this.lastSnapshotAtMs === undefined ? {} : { lastSnapshotAtMs: this.lastSnapshotAtMs }),
      children: [...this.children.values()].map((child) => child.health()),
    };
  }
}
