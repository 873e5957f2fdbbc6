/**
 * Public contracts of the actor core. Pure types: no runtime code and no nact types leak out of
 * this file, so every other module of Troupe can depend on it without depending on nact.
 */

import type { Clock } from '../../model/time.js';
/**
 * A typed address of an actor. Whoever holds one may `tell` it messages of protocol `M`.
 *
 * The `__protocol` member is phantom (never set at runtime); with the `in` variance annotation it
 * makes refs of different protocols non-assignable to each other (unlike nact's `Ref<T>`, which
 * never uses `T`). A ref names a path, like nact's: when a restarted parent re-creates a child under
 * the same name, existing refs reach the new incarnation.
 */
export interface ActorRef<in M> {
  /** The actor's path in the tree, e.g. `/symbols/RELIANCE`. Stable across restarts. */
  readonly path: string;
  /** Phantom marker of the protocol; never read or written at runtime. */
  readonly __protocol?: (message: M) => void;
}

/** The reply type of a protocol: what its request variants' `replyTo` refs accept. */
export type ReplyOf<M> = M extends { readonly replyTo: ActorRef<infer R> } ? R : never;

/** JSON-safe data: what snapshots and messages that cross a process boundary are made of. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * Encodes an actor's state for snapshots and decodes it back, migrating old versions.
 * Bump `version` when the encoded shape changes; `decode` receives the version it was written with.
 */
export interface StateCodec<S> {
  /** Version written into every snapshot this codec encodes. */
  readonly version: number;
  /** State → JSON. Must not throw for any state the behavior can produce. */
  encode(state: S): Json;
  /** JSON written by `encode` at `fromVersion` (possibly older than `version`) → state. */
  decode(json: Json, fromVersion: number): S;
}

/** One log method: pino-compatible (`log.info({ orderId }, 'placed')` or `log.info('placed')`). */
export type LogMethod = (objOrMessage: object | string, message?: string) => void;

/** The minimal pino-compatible logger the core uses; a pino `Logger` satisfies it. */
export interface Logger {
  readonly debug: LogMethod;
  readonly info: LogMethod;
  readonly warn: LogMethod;
  readonly error: LogMethod;
  /** Optional: a logger with extra bindings (pino's `child`); the core binds `actor: path`. */
  child?(bindings: Record<string, unknown>): Logger;
}

/** Wall or simulated time in epoch milliseconds (the model's one `Clock`). */
export type { Clock };

/**
 * Timer facility the core uses for restart backoff and ask timeouts. Injectable so tests can
 * drive time by hand (see `createManualClock` in the testkit).
 */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The result of async work started with `pipeToSelf`, delivered back to the actor as a message. */
export type PipeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/**
 * What a behavior sees of its own actor while it runs. Built once per actor, not per message.
 */
export interface ActorContext<M> {
  /** This actor's own ref (timers and internal messages are sent here). */
  readonly self: ActorRef<M>;
  /** This actor's path (same as `self.path`). */
  readonly path: string;
  /** The system this actor lives in: `tell`, `ask`, `inlet`, `stop`, ... */
  readonly system: ActorSystem;
  /**
   * Spawns a child of this actor. Children are stopped when this actor restarts or stops; a
   * restarted actor re-creates its children in `initial`. Throws if the name is taken by a live child.
   */
  spawn<C, CS>(name: string, behavior: Behavior<C, CS>, options?: SpawnOptions<CS>): ActorRef<C>;
  /**
   * Runs async work off the mailbox; `onDone(result)` is evaluated inside the actor and its message
   * processed like any other. Never await I/O in a handler: start it here instead. If the actor has
   * stopped when the work settles, the result is a dead letter.
   */
  pipeToSelf<T>(work: Promise<T>, onDone: (result: PipeResult<T>) => M): void;
  /** How many times this actor has restarted. */
  readonly restarts: number;
  /** Logger bound to this actor's path. */
  readonly log: Logger;
}

/** Snapshot settings of a behavior: codec plus cadence. */
export interface SnapshotSettings<S> {
  /** How state is encoded and decoded. */
  readonly codec: StateCodec<S>;
  /** Take a snapshot after this many processed messages since the last one. */
  readonly everyMessages?: number;
  /** Take a snapshot after a message when this many ms of system-clock time passed since the last one. */
  readonly everyMs?: number;
  /** Store key; defaults to the actor's path. */
  readonly key?: string;
}

/**
 * An actor's logic: a closed protocol `M`, a state `S` and a pure-ish synchronous transition.
 * Spawned with `system.spawn` or `ctx.spawn`.
 */
export interface Behavior<M, S> {
  /** Stable kind name for health and metrics, e.g. "symbol". */
  readonly kind: string;
  /**
   * Initial state. `restored` is the decoded last snapshot when there is one (after a restart, or
   * at spawn with `initialSnapshot`). Spawn children here. Throwing is a failure (supervised).
   */
  initial(ctx: ActorContext<M>, restored: S | undefined): S;
  /** Synchronous: returns the next state. Throwing is a failure that goes to the supervisor. */
  receive(state: S, message: M, ctx: ActorContext<M>): S;
  /** Snapshots: codec plus cadence (every N messages and/or every T ms of message time, both optional). */
  readonly snapshot?: SnapshotSettings<S>;
  /** Called once when the actor stops with a valid state (after the final snapshot). */
  onStop?(state: S, ctx: ActorContext<M>): void;
}

/** Exponential backoff between restarts: `minMs * factor^(restarts in window)`, capped at `maxMs`. */
export interface Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  /** Growth factor per restart within the window; default 2. */
  readonly factor?: number;
}

/**
 * What happens when an actor's `receive` (or `initial`) throws.
 * - `restart`: after the backoff, `initial(ctx, lastSnapshot)`; the failing message is dropped. More
 *   than `maxRestarts` within `withinMs` escalates.
 * - `resume`: drop the failing message, keep the state.
 * - `stop`: stop the actor (and its children).
 * - `escalate`: the parent fails with an `EscalatedFailure` and its own policy decides (restart or
 *   stop of the parent takes the child with it; resume of the parent resumes the child). At the top
 *   level, escalation stops the actor and reports `ActorFailed` + `ActorStopped` events.
 */
export type SupervisionPolicy =
  | {
      readonly strategy: 'restart';
      readonly maxRestarts: number;
      readonly withinMs: number;
      readonly backoff?: Backoff;
    }
  | { readonly strategy: 'resume' }
  | { readonly strategy: 'stop' }
  | { readonly strategy: 'escalate' };

/** The directive the core applied after a failure. */
export type SupervisionDirective = SupervisionPolicy['strategy'];

/** A persisted, versioned state snapshot of one actor. */
export interface Snapshot {
  /** Store key (the actor's path unless the behavior sets `snapshot.key`). */
  readonly key: string;
  /** Codec version the state was encoded with. */
  readonly version: number;
  /** Encoded state. */
  readonly state: Json;
  /** Number of messages folded into this state (continues across restores); stores may reject older writes. */
  readonly sequence: number;
  /** System-clock time the snapshot was taken. */
  readonly atMs: number;
}

/**
 * Where snapshots go. The core fires `save` without awaiting it (failures are counted and reported
 * as `SnapshotFailed` events) and awaits pending saves on shutdown.
 */
export interface SnapshotStore {
  save(snapshot: Snapshot): Promise<void>;
  load(key: string): Promise<Snapshot | undefined>;
}

/** Options for `spawn`. */
export interface SpawnOptions<S> {
  /** Default: restart up to 10 times in 60 s, backoff 10 ms .. 1 s (factor 2). */
  readonly supervision?: SupervisionPolicy;
  /** Restore from this snapshot at spawn (e.g. `await store.load(key)`); also the restart point until the next snapshot. */
  readonly initialSnapshot?: Snapshot;
  /** Phantom: ties the options to the behavior's state type. Never set. */
  readonly __state?: (state: S) => void;
}

/** A live or recently failed actor in the health tree. */
export interface ActorHealth {
  readonly path: string;
  readonly kind: string;
  /** `restarting` covers backoff and waiting for the parent after an escalation. */
  readonly status: 'running' | 'restarting' | 'stopped';
  /** Queued messages not yet processed plus items pending in inlets. */
  readonly mailboxDepth: number;
  /** Messages processed successfully (an inlet batch counts as one). */
  readonly processed: number;
  /** Failures (throws in `receive`/`initial`, injected faults, escalations from children). */
  readonly failures: number;
  readonly restarts: number;
  readonly processingTimeUsTotal: number;
  readonly processingTimeUsMax: number;
  /** Items dropped or conflated away by this actor's inlets. */
  readonly shed: number;
  /** Snapshot saves that failed (encode or store). */
  readonly snapshotFailures: number;
  readonly lastError?: { readonly message: string; readonly atMs: number };
  readonly lastSnapshotAtMs?: number;
  readonly children: ActorHealth[];
}

/** Why an actor stopped. */
export type StopReason =
  | 'requested' // system.stop(ref)
  | 'shutdown' // system.shutdown()
  | 'supervision' // its own failure, policy `stop` (or resume impossible)
  | 'escalated' // its own failure escalated at the top level
  | 'parent-restarted'
  | 'parent-stopped';

/** Why a message became a dead letter. */
export type DeadLetterReason =
  | 'unknown' // no actor at that path
  | 'stopped' // the actor stopped (also: messages left in its mailbox)
  | 'stopping' // the actor is draining for a graceful stop
  | 'shutting-down' // the system is shutting down
  | 'ask-completed'; // a reply to an ask that already completed or timed out

/** Lifecycle and flow events published by the system; subscribe with `onEvent`. */
export type SystemEvent =
  | {
      readonly type: 'ActorFailed';
      readonly path: string;
      readonly kind: string;
      readonly error: unknown;
      readonly errorMessage: string;
      readonly directive: SupervisionDirective;
      /** True when `restart` was wanted but the limit was exceeded (so it escalated). */
      readonly restartLimitExceeded: boolean;
      readonly atMs: number;
    }
  | {
      readonly type: 'ActorRestarted';
      readonly path: string;
      readonly kind: string;
      readonly restarts: number;
      readonly backoffMs: number;
      /** Sequence of the snapshot it restores from, or null when it starts fresh. */
      readonly restoredFromSequence: number | null;
      readonly atMs: number;
    }
  | { readonly type: 'ActorStopped'; readonly path: string; readonly kind: string; readonly reason: StopReason; readonly atMs: number }
  | {
      readonly type: 'DeadLetter';
      /** Path of the intended recipient. */
      readonly path: string;
      readonly reason: DeadLetterReason;
      /** The message, or undefined when `count` items were dropped together (e.g. a pending inlet buffer). */
      readonly message: unknown;
      readonly count: number;
      readonly atMs: number;
    }
  | {
      readonly type: 'Shed';
      readonly path: string;
      readonly inlet: string;
      /** Items shed since the previous batch of this inlet was delivered. */
      readonly count: number;
      /** All items this inlet has shed. */
      readonly totalShed: number;
      readonly atMs: number;
    }
  | { readonly type: 'SnapshotFailed'; readonly path: string; readonly key: string; readonly error: unknown; readonly atMs: number };

/** How an inlet bounds its pending buffer. */
export type InletOverflow<T> =
  /** Latest wins per key: an item replaces the pending item with the same key (counted as shed). At `maxPending` distinct keys the oldest is dropped. */
  | { readonly kind: 'conflate'; readonly key: (item: T) => string }
  /** At `maxPending`, the oldest pending item is dropped (counted as shed). */
  | { readonly kind: 'drop-oldest' };

/** Options of `system.inlet`. */
export interface InletOptions<T> {
  /** Bound of the pending buffer; default 100 000. */
  readonly maxPending?: number;
  /** Default: `drop-oldest`. */
  readonly overflow?: InletOverflow<T>;
  /** Name in `Shed` events; default `inlet-<n>`. */
  readonly name?: string;
}

/**
 * A batching entry point into one actor (market data). Producers `offer` items; everything offered
 * since the actor last took a batch is delivered as one message `wrap(items)`.
 */
export interface Inlet<T> {
  /** Appends an item (or conflates it). Never blocks; a stopped/unknown target makes it a dead letter. */
  offer(item: T): void;
  /** Items waiting for the next batch. */
  readonly pending: number;
  /** Items this inlet dropped or conflated away. */
  readonly shed: number;
}

/**
 * The actor runtime. One per process (tests: one per test). Created with `createActorSystem`.
 */
export interface ActorSystem {
  /** Name given at creation (for logs). */
  readonly name: string;
  /** Spawns a top-level actor. Throws if a live top-level actor has that name. */
  spawn<M, S>(name: string, behavior: Behavior<M, S>, options?: SpawnOptions<S>): ActorRef<M>;
  /**
   * Fire-and-forget. A message to a stopped/unknown actor (or any after shutdown began) is a dead
   * letter: counted, logged and published as a `DeadLetter` event, never silent.
   */
  tell<M>(ref: ActorRef<M>, message: NoInfer<M>): void;
  /**
   * Request-reply: `make(replyTo)` builds the request; the target replies by telling `replyTo`.
   * `M` is inferred from the ref only (so the request literal is checked against the protocol);
   * `R` from a `replyTo` annotation, else from the protocol (`ReplyOf<M>`):
   * `await system.ask(counter, (replyTo) => ({ type: 'get', replyTo }), 1000)` is a `number`.
   * Rejects with `AskTimeoutError` after `timeoutMs`, or `DeadLetterError` if the target is gone.
   */
  ask<const M, R = ReplyOf<M>>(ref: ActorRef<M>, make: (replyTo: ActorRef<R>) => NoInfer<M>, timeoutMs: number): Promise<R>;
  /**
   * Gracefully stops an actor and its subtree: refuse new messages, drain what is queued (bounded by
   * `timeoutMs`, default 5 s), final snapshots and `onStop` children first. Resolves when stopped.
   */
  stop(ref: ActorRef<never>, options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Creates a batching inlet into `ref`; see `Inlet`. */
  inlet<T, M>(ref: ActorRef<M>, wrap: (items: readonly T[]) => M, options?: InletOptions<T>): Inlet<T>;
  /** The actor tree, top-level first. Stopped-by-failure actors stay listed until their name is reused. */
  health(): ActorHealth[];
  /** The sum of every mailbox depth of the tree (what `health()` reports), cheaply: 0 when every actor is idle. */
  pendingWork(): number;
  /**
   * Runs queued actor work now, on the caller's stack (in the order the event loop would), for
   * up to `budgetMs` (default 4); returns `pendingWork()` after. A simulated-time driver (the
   * backtester) uses it to settle each step without waiting for event-loop turns; anything left
   * (a failure being supervised, a budget run out) still runs on later turns.
   */
  runPending(budgetMs?: number): number;
  /** Dead letters so far (each inlet item counts one). */
  readonly deadLetters: number;
  /** Subscribes to system events; returns the unsubscribe function. Listener errors are logged, not thrown. */
  onEvent(listener: (event: SystemEvent) => void): () => void;
  /** Subscribes to `DeadLetter` events only. */
  onDeadLetter(listener: (event: Extract<SystemEvent, { type: 'DeadLetter' }>) => void): () => void;
  /** The last snapshot the core took (or restored) for a key or actor, from memory. */
  lastSnapshot(keyOrRef: string | ActorRef<never>): Snapshot | undefined;
  /** Queues a fault: the actor throws `InjectedFault` when it processes it (tests, chaos). */
  injectFault(ref: ActorRef<never> | string, reason?: string): void;
  /**
   * Graceful: stop intake (tell becomes dead letter `shutting-down`), drain mailboxes (bounded by
   * `timeoutMs`, default 10 s), write final snapshots, stop all. Idempotent.
   */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Options of `createActorSystem`. */
export interface ActorSystemOptions {
  readonly name?: string;
  readonly snapshotStore?: SnapshotStore;
  /** Default: a no-op logger. */
  readonly logger?: Logger;
  /** Default: `Date.now`. Used for snapshot cadence, restart windows and event times. */
  readonly clock?: Clock;
  /** Default: Node timers. Used for restart backoff and ask timeouts. */
  readonly timers?: Timers;
}
