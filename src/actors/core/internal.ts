/**
 * Internal plumbing shared by the cell, the inlet and the system (not exported from the core).
 * Internal messages are instances of `Signal`, so user messages (plain data) need no envelope.
 */

import type { ActorSystem, Clock, DeadLetterReason, Logger, PipeResult, Snapshot, SystemEvent, Timers } from './types.js';

/** Base of every internal message the core puts into a nact mailbox. */
export abstract class Signal {
  abstract readonly kind: 'user-batch' | 'batch' | 'fault' | 'drain' | 'child-failed' | 'retry-init';
}

/**
 * "Process the cell's queued user messages now." User messages do not go into the nact mailbox one
 * by one: the cell queues them itself and keeps at most one open `UserBatchSignal` in the mailbox,
 * so a burst of `tell`s costs one nact turn. `end` is the cell's absolute queue position the signal
 * covers up to (exclusive): set when another signal is queued behind it (so user messages told
 * before that signal are processed before it) or when processing starts; `undefined` while open.
 */
export class UserBatchSignal extends Signal {
  readonly kind = 'user-batch';
  end: number | undefined = undefined;
}

/** Returned by `BatchSource.takeBatch` when there is nothing to deliver. */
export const NO_BATCH: unique symbol = Symbol('no-batch');

/** What the cell needs from an inlet. */
export interface BatchSource {
  readonly name: string;
  /** Swaps out the pending buffer and wraps it; `NO_BATCH` when empty. Runs inside the actor. */
  takeBatch(): unknown;
  /** The target cell terminated: drop pending items and forget it. Returns how many were dropped. */
  detach(cell: object): number;
}

/** "Deliver the inlet's pending items now" (one per inlet in flight, reused). */
export class BatchSignal extends Signal {
  readonly kind = 'batch';
  constructor(readonly source: BatchSource) {
    super();
  }
}

/**
 * Result of `pipeToSelf` work, turned into a user message inside the actor. Queued in the cell's
 * user-message queue (not the nact mailbox), in order with the messages told to the actor.
 */
export class PipeEnvelope<T> {
  constructor(
    readonly result: PipeResult<T>,
    readonly onDone: (result: PipeResult<T>) => unknown,
  ) {}
}

/** `system.injectFault`: throw when processed. */
export class FaultSignal extends Signal {
  readonly kind = 'fault';
  constructor(readonly reason: string) {
    super();
  }
}

/** Graceful stop: everything queued before it has been processed. */
export class DrainSignal extends Signal {
  readonly kind = 'drain';
  constructor(readonly done: () => void) {
    super();
  }
}

/** A child escalated: the parent fails with its error (queued at the front of the parent's mailbox). */
export class ChildFailedSignal extends Signal {
  readonly kind = 'child-failed';
  constructor(
    readonly child: object,
    readonly error: unknown,
  ) {
    super();
  }
}

/** `initial` threw: make the failure reach supervision without losing a user message. */
export class RetryInitSignal extends Signal {
  readonly kind = 'retry-init';
}

/** Every concrete signal, for narrowing on `kind`. */
export type AnySignal = UserBatchSignal | BatchSignal | FaultSignal | DrainSignal | ChildFailedSignal | RetryInitSignal;

/** Services the system provides to its cells and inlets. */
export interface CellHost {
  readonly api: ActorSystem;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
  readonly nactSystemName: string;
  readonly shuttingDown: boolean;
  /**
   * `clock.nowMs()` as of the latest refresh: read on every message for the snapshot cadence,
   * where a call per message costs more than the cadence needs. The run queue refreshes it when
   * a drain starts and every 64 signals; a cell run by nact refreshes it first.
   */
  readonly recentNowMs: number;
  refreshRecentNow(): void;
  /**
   * `performance.now()` when the latest message finished (or the current drain or nact turn
   * began): the next message's start. Messages run back to back, so one clock read per message
   * times them all; the little bookkeeping between two counts towards the second.
   */
  stamp: number;
  register(path: string, cell: object): void;
  unregister(path: string, cell: object): void;
  emit(event: SystemEvent): void;
  deadLetter(path: string, reason: DeadLetterReason, message: unknown, count: number): void;
  saveSnapshot(snapshot: Snapshot, onFailure: (error: unknown) => void): void;
  /** Queues a cell's signal on the system's run queue (see `schedule` in system.ts). */
  schedule(cell: RunQueueEntry, signal: Signal): void;
}

/** What the run queue runs: a cell's `runScheduled` with the signal it was posted. */
export interface RunQueueEntry {
  runScheduled(signal: Signal): void;
}
