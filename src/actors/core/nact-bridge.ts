/**
 * The one place nact is loaded. nact ships CommonJS with loose typings (its `Ref<T>` ignores `T`),
 * so we load it through `createRequire` and describe only the small surface we use, including two
 * internals (verified against nact 7.6.2's lib/actor.js and lib/system-map.js):
 * - the concrete `Actor` object, so a dispatch skips nact's per-message path walk;
 * - `SupervisionActions`, the directive symbols `onCrash` returns.
 * Nothing here is exported from the core's public API.
 */

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** nact's opaque reference object (an `ActorReference`). */
export interface NactRef {
  readonly path: unknown;
  readonly name: string;
  readonly type: string;
}

/** nact's mailbox entry. */
export interface NactMailboxEntry {
  readonly message: unknown;
  readonly sender: unknown;
}

/** nact's mailbox (denque 1.x). */
export interface NactMailbox {
  readonly length: number;
  push(entry: NactMailboxEntry): number;
  unshift(entry: NactMailboxEntry): number;
  toArray(): NactMailboxEntry[];
}

/** The concrete nact actor (lib/actor.js `Actor`); only the members the core touches. */
export interface NactActor {
  readonly reference: NactRef;
  readonly mailbox: NactMailbox;
  readonly children: Map<string, NactActor>;
  busy: boolean;
  stopped: boolean;
  state: unknown;
  dispatch(message: unknown): void;
  /** Processes the next mailbox entry (a `setImmediate` turn), or clears `busy` when there is none. */
  processNext(): void;
  /** nact's failure path: `onCrash`, then the directive (resume/reset/stop), then the mailbox. */
  handleFault(message: unknown, sender: unknown, error: unknown): Promise<void>;
  stop(): void;
  createContext(sender: unknown): NactContext;
}

/** The context nact passes to actor functions and `initialStateFunc`. */
export interface NactContext {
  readonly self: NactRef;
}

/** The directive symbols `onCrash` may return. */
export interface NactSupervisionActions {
  readonly reset: symbol;
  readonly resume: symbol;
  readonly stop: symbol;
  readonly escalate: symbol;
}

/** Properties of nact's `spawn`. */
export interface NactSpawnProps {
  readonly onCrash: (message: unknown, error: unknown) => symbol | Promise<symbol>;
  readonly initialStateFunc: (ctx: NactContext) => unknown;
}

interface NactModule {
  start(settings: { name: string }): NactRef;
  spawn(parent: NactRef, f: (state: unknown, message: unknown) => unknown, name: string, props: NactSpawnProps): NactRef;
  stop(ref: NactRef): void;
}

interface NactSystemMap {
  find(systemName: string, reference?: NactRef): unknown;
}

const nact = require('nact') as NactModule;
const systemMap = require('nact/lib/system-map.js') as NactSystemMap;
const supervision = require('nact/lib/supervision.js') as { SupervisionActions: NactSupervisionActions };

/** Directive symbols for `onCrash`. */
export const NACT_DIRECTIVES: NactSupervisionActions = supervision.SupervisionActions;

/** Starts a nact system under a unique name (nact keeps a process-global registry by name). */
export function startNactSystem(uniqueName: string): NactRef {
  return nact.start({ name: uniqueName });
}

/** Stops a nact system (its remaining actors, and its registry entry). */
export function stopNactSystem(system: NactRef): void {
  nact.stop(system);
}

/** Spawns a nact actor under `parent` (a system or an actor reference). */
export function spawnNact(parent: NactRef, f: (state: unknown, message: unknown) => unknown, name: string, props: NactSpawnProps): NactRef {
  return nact.spawn(parent, f, name, props);
}

/** Resolves a reference to its concrete actor (one path walk); undefined once stopped. */
export function findNactActor(systemName: string, reference: NactRef): NactActor | undefined {
  const found = systemMap.find(systemName, reference);
  return found === undefined || found === null ? undefined : (found as NactActor);
}
