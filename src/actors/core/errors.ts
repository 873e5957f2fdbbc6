/** Errors raised by the actor core. Each has a stable `code` for logs and API error mapping. */

import type { DeadLetterReason } from './types.js';

/** What the core's errors share: a stable `code`, and the class's own name as `name`. */
abstract class ActorCoreError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** `system.ask` got no reply within its timeout. Thrown to the asker; the target never sees it. */
export class AskTimeoutError extends ActorCoreError<'ASK_TIMEOUT'> {
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super('ASK_TIMEOUT', `ask to ${path} timed out after ${timeoutMs} ms`);
  }
}

/** `system.ask` could not even deliver its request (the target is stopped/unknown, or shutdown began). */
export class DeadLetterError extends ActorCoreError<'DEAD_LETTER'> {
  constructor(
    readonly path: string,
    readonly reason: DeadLetterReason,
  ) {
    super('DEAD_LETTER', `message to ${path} is a dead letter (${reason})`);
  }
}

/** Thrown inside an actor that processes a fault queued by `system.injectFault`; supervised like any failure. */
export class InjectedFault extends ActorCoreError<'INJECTED_FAULT'> {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super('INJECTED_FAULT', reason);
  }
}

/**
 * The failure a parent suffers when a child escalates (policy `escalate`, or restart limit
 * exceeded). `cause` is the child's error; the parent's own supervision policy decides.
 */
export class EscalatedFailure extends ActorCoreError<'ESCALATED'> {
  constructor(
    readonly childPath: string,
    cause: unknown,
  ) {
    super('ESCALATED', `child ${childPath} failed: ${errorMessage(cause)}`, { cause });
  }
}

/** `Behavior.initial` (or decoding the snapshot it restores from) threw; supervised like any failure. */
export class ActorInitError extends ActorCoreError<'ACTOR_INIT_FAILED'> {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super('ACTOR_INIT_FAILED', `initial state of ${path} failed: ${errorMessage(cause)}`, { cause });
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
