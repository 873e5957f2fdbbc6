/** Errors raised by the actor core. Each has a stable `code` for logs and API error mapping. */

import type { DeadLetterReason } from './types.js';

/** `system.ask` got no reply within its timeout. Thrown to the asker; the target never sees it. */
export class AskTimeoutError extends Error {
  readonly code = 'ASK_TIMEOUT';
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(`ask to ${path} timed out after ${timeoutMs} ms`);
    this.name = 'AskTimeoutError';
  }
}

/** `system.ask` could not even deliver its request (the target is stopped/unknown, or shutdown began). */
export class DeadLetterError extends Error {
  readonly code = 'DEAD_LETTER';
  constructor(
    readonly path: string,
    readonly reason: DeadLetterReason,
  ) {
    super(`message to ${path} is a dead letter (${reason})`);
    this.name = 'DeadLetterError';
  }
}

/** Thrown inside an actor that processes a fault queued by `system.injectFault`; supervised like any failure. */
export class InjectedFault extends Error {
  readonly code = 'INJECTED_FAULT';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'InjectedFault';
  }
}

/**
 * The failure a parent suffers when a child escalates (policy `escalate`, or restart limit
 * exceeded). `cause` is the child's error; the parent's own supervision policy decides.
 */
export class EscalatedFailure extends Error {
  readonly code = 'ESCALATED';
  constructor(
    readonly childPath: string,
    cause: unknown,
  ) {
    super(`child ${childPath} failed: ${errorMessage(cause)}`, { cause });
    this.name = 'EscalatedFailure';
  }
}

/** `Behavior.initial` (or decoding the snapshot it restores from) threw; supervised like any failure. */
export class ActorInitError extends Error {
  readonly code = 'ACTOR_INIT_FAILED';
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`initial state of ${path} failed: ${errorMessage(cause)}`, { cause });
    this.name = 'ActorInitError';
  }
}

/** A readable one-line message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
