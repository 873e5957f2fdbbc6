/** The actor system: the public `ActorSystem` on top of nact, cells and inlets. */

import { ActorRefImpl, type AnyCell, spawnCell } from './cell.js';
import { AskTimeoutError, DeadLetterError } from './errors.js';
import { InletImpl } from './inlet.js';
import { type CellHost, FaultSignal, type RunQueueEntry, type Signal } from './internal.js';
import { type NactRef, startNactSystem, stopNactSystem } from './nact-bridge.js';
import type {
  ActorHealth,
  ActorRef,
  ActorSystem,
  ActorSystemOptions,
  Behavior,
  Clock,
  DeadLetterReason,
  Inlet,
  InletOptions,
  Logger,
  ReplyOf,
  Snapshot,
  SnapshotStore,
  SpawnOptions,
  StopReason,
  SystemEvent,
  Timers,
} from './types.js';

/** A logger that drops everything (the default). */
export const noopLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** Wall-clock time (the default clock). */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** Node timers (the default timers). */
export const nodeTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Default bound of `system.stop(ref)`. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** Default bound of `system.shutdown()`. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Dead letters logged individually before logging only every 1000th. */
const DEAD_LETTERS_LOGGED_IN_FULL = 100;

let systemsCreated = 0;

type DeadLetterEvent = Extract<SystemEvent, { type: 'DeadLetter' }>;

/** How long one drain of the run queue may run before it yields to the event loop. */
const DRAIN_BUDGET_MS = 4;

class ActorSystemImpl implements ActorSystem, CellHost {
  readonly api: ActorSystem = this;
  readonly name: string;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly nactSystemName: string;
  shuttingDown = false;
  deadLetters = 0;
  recentNowMs: number;
  stamp = performance.now();

  private readonly nactSystem: NactRef;
  private readonly store: SnapshotStore | undefined;
  private readonly topLevel = new Map<string, AnyCell>();
  private readonly cells = new Map<string, AnyCell>();
  private readonly listeners = new Set<(event: SystemEvent) => void>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly pendingSaves = new Set<Promise<void>>();
  private deadLetterEvents = 0;
  private asks = 0;
  private inlets = 0;
  private shutdownPromise: Promise<void> | undefined;

  /**
   * The run queue: signals posted to idle actors, in posting order (two parallel arrays, a
   * deque by `runHead`). One drain runs many of them per event-loop turn, including what they
   * tell each other meanwhile, so a tick's consequences (signal → intent → risk → order) can
   * complete in one turn instead of one turn per hop; a drain yields after `DRAIN_BUDGET_MS` so
   * I/O keeps its turns.
   */
  private runCells: (RunQueueEntry | undefined)[] = [];
  private runSignals: (Signal | undefined)[] = [];
  private runHead = 0;
  private drainScheduled = false;

  constructor(options: ActorSystemOptions) {
    systemsCreated += 1;
    this.name = options.name ?? 'troupe';
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? nodeTimers;
    this.logger = options.logger ?? noopLogger;
    this.store = options.snapshotStore;
    this.recentNowMs = this.clock.nowMs();
    this.nactSystemName = `${this.name}-${process.pid}-${systemsCreated}-${Math.random().toString(36).slice(2, 10)}`;
    this.nactSystem = startNactSystem(this.nactSystemName);
  }

  // ---------------------------------------------------------------- CellHost

  schedule(cell: RunQueueEntry, signal: Signal): void {
    this.runCells.push(cell);
    this.runSignals.push(signal);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  }

  refreshRecentNow(): void {
    this.recentNowMs = this.clock.nowMs();
  }

  runPending(budgetMs = DRAIN_BUDGET_MS): number {
    this.runQueue(budgetMs);
    return this.pendingWork();
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    this.runQueue(DRAIN_BUDGET_MS);
  };

  /** Runs the run queue in order for up to `budgetMs`; schedules a drain for what is left. */
  private runQueue(budgetMs: number): void {
    const cells = this.runCells;
    const signals = this.runSignals;
    this.stamp = performance.now();
    const deadline = this.stamp + budgetMs;
    this.refreshRecentNow();
    let ran = 0;
    try {
      while (this.runHead < cells.length) {
        const at = this.runHead;
        const cell = cells[at]!;
        const signal = signals[at]!;
        cells[at] = undefined;
        signals[at] = undefined;
        this.runHead = at + 1;
        cell.runScheduled(signal);
        ran += 1;
        if ((ran & 63) === 0) {
          this.refreshRecentNow();
          if (performance.now() > deadline) break;
        }
      }
    } finally {
      if (this.runHead === cells.length) {
        cells.length = 0;
        signals.length = 0;
        this.runHead = 0;
      } else {
        if (this.runHead >= 1024 && this.runHead * 2 >= cells.length) {
          cells.copyWithin(0, this.runHead);
          signals.copyWithin(0, this.runHead);
          cells.length -= this.runHead;
          signals.length -= this.runHead;
          this.runHead = 0;
        }
        if (!this.drainScheduled) {
          this.drainScheduled = true;
          setImmediate(this.drain);
        }
      }
    }
  }

  register(path: string, cell: object): void {
    this.cells.set(path, cell as AnyCell);
  }

  unregister(path: string, cell: object): void {
    if (this.cells.get(path) === cell) this.cells.delete(path);
  }

  emit(event: SystemEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error, event: event.type }, 'system event listener threw');
      }
    }
  }

  deadLetter(path: string, reason: DeadLetterReason, message: unknown, count: number): void {
    this.deadLetters += count;
    this.deadLetterEvents += 1;
    if (this.deadLetterEvents <= DEAD_LETTERS_LOGGED_IN_FULL || this.deadLetterEvents % 1000 === 0) {
      const type = typeof message === 'object' && message !== null && 'type' in message ? message.type : undefined;
      this.logger.warn({ path, reason, count, messageType: type, deadLetters: this.deadLetters }, 'dead letter');
    }
    this.emit({ type: 'DeadLetter', path, reason, message, count, atMs: this.clock.nowMs() });
  }

  saveSnapshot(snapshot: Snapshot, onFailure: (error: unknown) => void): void {
    this.snapshots.set(snapshot.key, snapshot);
    const store = this.store;
    if (store === undefined) return;
    const fail = (error: unknown): void => {
      try {
        onFailure(error);
      } catch (reportError) {
        this.logger.error({ err: reportError }, 'snapshot failure report threw');
      }
    };
    let saving: Promise<void>;
    try {
      saving = store.save(snapshot);
    } catch (error) {
      fail(error);
      return;
    }
    const tracked: Promise<void> = saving.then(() => undefined, fail).finally(() => this.pendingSaves.delete(tracked));
    this.pendingSaves.add(tracked);
  }

  // ---------------------------------------------------------------- ActorSystem

  spawn<M, S>(name: string, behavior: Behavior<M, S>, options?: SpawnOptions<S>): ActorRef<M> {
    if (this.shuttingDown) throw new Error(`cannot spawn ${name}: actor system ${this.name} is shutting down`);
    return spawnCell(this, undefined, this.topLevel, this.nactSystem, name, behavior, options).self;
  }

  tell<M>(ref: ActorRef<M>, message: NoInfer<M>): void {
    this.deliver(ref, message);
  }

  /** Delivers or dead-letters; returns the dead-letter reason, if any. */
  private deliver(ref: ActorRef<never>, message: unknown): DeadLetterReason | undefined {
    if (ref instanceof ActorRefImpl && ref.sink !== undefined) {
      if (ref.sink(message)) return undefined;
      this.deadLetter(ref.path, 'ask-completed', message, 1);
      return 'ask-completed';
    }
    let reason: DeadLetterReason;
    if (this.shuttingDown) {
      reason = 'shutting-down';
    } else {
      const cell = this.resolve(ref);
      if (cell === undefined) {
        reason = ref instanceof ActorRefImpl && ref.cell !== undefined ? 'stopped' : 'unknown';
      } else if (!cell.accepting) {
        reason = 'stopping';
      } else {
        cell.tellUser(message);
        return undefined;
      }
    }
    this.deadLetter(ref.path, reason, message, 1);
    return reason;
  }

  /** The live cell behind a ref: the cached one, else by path (re-caching it). */
  private resolve(ref: ActorRef<never>): AnyCell | undefined {
    if (ref instanceof ActorRefImpl) {
      const cached = ref.cell;
      if (cached !== undefined && !cached.terminated && cached.host === this) return cached;
      const found = this.cells.get(ref.path);
      if (found !== undefined) ref.cell = found;
      return found;
    }
    return this.cells.get(ref.path);
  }

  ask<const M, R = ReplyOf<M>>(ref: ActorRef<M>, make: (replyTo: ActorRef<R>) => NoInfer<M>, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const replyTo = new ActorRefImpl<R>(`/$ask/${++this.asks}`, undefined, (reply) => {
        if (settled) return false;
        settled = true;
        this.timers.clearTimeout(timer);
        resolve(reply as R);
        return true;
      });
      const timer = this.timers.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new AskTimeoutError(ref.path, timeoutMs));
      }, timeoutMs);
      let request: M;
      try {
        request = make(replyTo);
      } catch (error) {
        settled = true;
        this.timers.clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const deadLetter = this.deliver(ref, request);
      if (deadLetter !== undefined && !settled) {
        settled = true;
        this.timers.clearTimeout(timer);
        reject(new DeadLetterError(ref.path, deadLetter));
      }
    });
  }

  async stop(ref: ActorRef<never>, options?: { readonly timeoutMs?: number }): Promise<void> {
    const cell = this.resolve(ref);
    if (cell === undefined) return;
    await this.stopGracefully([cell], options?.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, 'requested');
  }

  /** Refuse intake, drain the subtrees (bounded), then terminate children-first with final snapshots. */
  private async stopGracefully(roots: AnyCell[], timeoutMs: number, reason: StopReason): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const live: AnyCell[] = [];
    for (const root of roots) root.collectLive(live);
    for (const cell of live) cell.accepting = false;
    const drained = await within(Promise.all(live.map((cell) => cell.requestDrain())), timeoutMs);
    if (!drained) this.logger.warn({ reason, timeoutMs }, 'drain timed out; stopping with messages left (dead letters)');
    for (const root of roots) root.terminate(reason, false);
    const saved = await within(Promise.allSettled([...this.pendingSaves]), Math.max(0, deadline - Date.now()));
    if (!saved) this.logger.warn({ pending: this.pendingSaves.size }, 'snapshot saves still pending after stop timeout');
  }

  inlet<T, M>(ref: ActorRef<M>, wrap: (items: readonly T[]) => M, options?: InletOptions<T>): Inlet<T> {
    const name = options?.name ?? `inlet-${++this.inlets}`;
    return new InletImpl<T, M>(this, ref.path, () => this.resolve(ref) ?? 'unknown', wrap, name, options);
  }

  health(): ActorHealth[] {
    return [...this.topLevel.values()].map((cell) => cell.health());
  }

  pendingWork(): number {
    let total = 0;
    for (const cell of this.topLevel.values()) total += cell.pendingWork();
    return total;
  }

  onEvent(listener: (event: SystemEvent) => void): () => void {
    const wrapped = (event: SystemEvent): void => listener(event);
    this.listeners.add(wrapped);
    return () => {
      this.listeners.delete(wrapped);
    };
  }

  onDeadLetter(listener: (event: DeadLetterEvent) => void): () => void {
    return this.onEvent((event) => {
      if (event.type === 'DeadLetter') listener(event);
    });
  }

  lastSnapshot(keyOrRef: string | ActorRef<never>): Snapshot | undefined {
    if (typeof keyOrRef === 'string') return this.snapshots.get(keyOrRef);
    return this.resolve(keyOrRef)?.lastSnapshot ?? this.snapshots.get(keyOrRef.path);
  }

  injectFault(ref: ActorRef<never> | string, reason = 'injected fault'): void {
    const path = typeof ref === 'string' ? ref : ref.path;
    const cell = typeof ref === 'string' ? this.cells.get(ref) : this.resolve(ref);
    if (cell === undefined || !cell.enqueueSignal(new FaultSignal(reason))) {
      this.deadLetter(path, 'unknown', { type: 'InjectFault', reason }, 1);
    }
  }

  shutdown(timeoutMs: number = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.shutdownPromise ??= this.runShutdown(timeoutMs);
    return this.shutdownPromise;
  }

  private async runShutdown(timeoutMs: number): Promise<void> {
    this.shuttingDown = true;
    this.logger.info({ system: this.name }, 'actor system shutting down');
    const roots = [...this.topLevel.values()].filter((cell) => !cell.terminated);
    await this.stopGracefully(roots, timeoutMs, 'shutdown');
    stopNactSystem(this.nactSystem);
    this.logger.info({ system: this.name, deadLetters: this.deadLetters }, 'actor system stopped');
  }
}

/** Resolves true if `promise` settles within `timeoutMs` (real time), false otherwise. */
async function within(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates an actor system (one per process; tests: one per test). Call `shutdown()` when done.
 */
export function createActorSystem(options: ActorSystemOptions = {}): ActorSystem {
  return new ActorSystemImpl(options);
}
