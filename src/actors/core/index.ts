/**
 * Troupe's actor core: the only module that imports nact.
 *
 * What it adds to nact 7.6.2 (each a sharp edge of nact, see docs/style-guide):
 * - typed, invariant-per-protocol refs (`ActorRef<in M>`);
 * - explicit supervision (restart with limit and exponential backoff, resume, stop, escalate);
 *   nact's default "console.log and stop" never runs;
 * - dead letters: a message to a stopped/unknown actor is counted, logged and published;
 * - snapshots with a versioned codec, taken on a cadence, restored on restart, final on stop;
 * - coalesced mailboxes: all user messages told to an actor since it last ran are processed in one
 *   run, with per-message semantics kept;
 * - a run queue: idle actors' runs are queued system-wide and drained in posting order, many per
 *   event-loop turn (nact costs one `setImmediate` per message), so a chain of hops finishes in one
 *   turn; a drain yields every few ms; nact's own mailbox takes over while it supervises a failure;
 * - batching inlets with bounds and conflation (one message per batch);
 * - a health tree, system events, fault injection and graceful shutdown;
 * - `pipeToSelf` so handlers never await I/O.
 *
 * Messages: behaviors own a closed protocol `M` (a union discriminated by `type`); replies go to a
 * `replyTo` ref carried in the request; validation errors are replies, thrown errors are failures.
 */

export type {
  ActorContext,
  ActorHealth,
  ActorRef,
  ActorSystem,
  ActorSystemOptions,
  Backoff,
  Behavior,
  Clock,
  DeadLetterReason,
  Inlet,
  InletOptions,
  InletOverflow,
  Json,
  LogMethod,
  Logger,
  PipeResult,
  ReplyOf,
  Snapshot,
  SnapshotSettings,
  SnapshotStore,
  SpawnOptions,
  StateCodec,
  StopReason,
  SupervisionDirective,
  SupervisionPolicy,
  SystemEvent,
  Timers,
} from './types.js';
export { assertNever, backoffDelayMs, DEFAULT_SUPERVISION, defineBehavior, type HandlerMap, type MessageHandler, receiveByType } from './behavior.js';
export { ActorInitError, AskTimeoutError, DeadLetterError, EscalatedFailure, errorMessage, InjectedFault } from './errors.js';
export { DEFAULT_MAX_PENDING } from './inlet.js';
export { InMemorySnapshotStore } from './snapshot-store.js';
export { createActorSystem, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_STOP_TIMEOUT_MS, nodeTimers, noopLogger, systemClock } from './system.js';
export { createManualClock, createProbe, eventually, ManualClock, type EventuallyOptions, type TestProbe } from './testkit.js';
export { decodeJson, encodeJson, JsonSchema, schemaCodec, SnapshotDecodeError, type SchemaCodec } from './json-codec.js';
