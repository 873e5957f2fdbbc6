/**
 * The runtime as the gateway sees it: a narrow, typed facade of queries and commands. The
 * gateway never touches the actor system, the directory or a ref; it asks this.
 *
 * Every input and output is plain, JSON-safe data, and every query and command is async, so
 * the facade can later be put across a worker-thread message port (one message per call, one
 * per event) without changing its callers. Two exceptions, both named here:
 * - the *live readings* (`portfolios`, `quotes`, `actors`) are synchronous, because the stream
 *   hub makes a snapshot at the exact sequence number it sends it with; across a port they
 *   are a mirror of the read model the runtime publishes (`src/runtime/port/`);
 * - `metrics` is the process's metric registry (the gateway counts its requests there and
 *   serves `/metrics`); across a port the gateway keeps its own and merges the worker's text.
 */
import type { ActorHealth, ActorRef, ActorSystem } from '../actors/core/index.js';
import type { ExecutionCommand } from '../actors/execution/execution.protocol.js';
import type { RiskManagerCommand, RiskReport } from '../actors/risk/risk-manager.protocol.js';
import type { RiskDecision } from '../actors/risk/risk.protocol.js';
import type { StrategyCommand, StrategyStatus } from '../actors/strategy/strategy.protocol.js';
import type { DepthLevel, DomainEvent, DomainEventType, Instrument, Order, OrderIntent, PortfolioState, Regime } from '../model/index.js';
import type { RiskManagerLimits } from '../risk/risk-manager.js';
import type { Quote } from '../strategies/api.js';
import type { Directory } from '../actors/directory.js';
import type { EventBus } from '../observability/event-bus.js';
import type { Metrics } from '../observability/metrics.js';

export type { ActorHealth } from '../actors/core/index.js';
export type { RiskReport } from '../actors/risk/risk-manager.protocol.js';
export type { StrategyStatus } from '../actors/strategy/strategy.protocol.js';
export type { Quote } from '../strategies/api.js';

/** A strategy to run: its kind from the registry, an id, and raw configuration. */
export interface StrategySpec {
  readonly strategyId: string;
  readonly kind: string;
  readonly config?: unknown;
  readonly portfolioId?: string;
  /** Overrides the kind's declared `regimes` for this instance: a list, or `null` to trade in any regime. */
  readonly regimes?: readonly Regime[] | null;
}

/** What does not change while the runtime runs: sent once (across a port: at connection). */
export interface RuntimeDescription {
  readonly instruments: readonly Instrument[];
  /** Every portfolio, the default (the one a strategy or order naming none trades for) first. */
  readonly portfolioIds: readonly string[];
  /** The limits the risk manager runs with (the defaults merged with the configured ones). */
  readonly riskLimits: RiskManagerLimits;
}

/** A symbol's order book, best level first on each side. */
export interface MarketDepth {
  readonly atMs: number;
  readonly buy: readonly DepthLevel[];
  readonly sell: readonly DepthLevel[];
}

/** A portfolio's live state and its version (goes up on every change: compare it, not the state). */
export interface PortfolioReading {
  readonly state: PortfolioState;
  readonly version: number;
}

/** The supervision tree with per-actor health. */
export interface ActorsReading {
  readonly deadLetters: number;
  readonly tree: readonly ActorHealth[];
}

/** An actor's life as the stream shows it. */
export type ActorLifecycleEvent =
  | { readonly type: 'ActorRestarted'; readonly path: string; readonly kind: string; readonly atMs: number; readonly restarts: number }
  | { readonly type: 'ActorFailed'; readonly path: string; readonly kind: string; readonly atMs: number; readonly error: string; readonly directive: string }
  | { readonly type: 'ActorStopped'; readonly path: string; readonly kind: string; readonly atMs: number; readonly reason: string };

/**
 * How a submitted order ended up: refused by risk, or approved and then durable (journaled, on
 * its way to the broker), or approved but not durable (the journal failed closed, or did not
 * confirm in time).
 */
export type OrderSubmission =
  | { readonly outcome: 'submitted'; readonly clientOrderId: string }
  | { readonly outcome: 'rejected'; readonly code: string; readonly message: string }
  | { readonly outcome: 'journal-unavailable' | 'timeout'; readonly clientOrderId: string };

/** Why a command could not be carried out (the gateway answers these as 404 / 503). */
export class RuntimeUnavailable extends Error {
  constructor(
    readonly reason: 'not-ready' | 'not-found',
    message: string,
  ) {
    super(message);
    this.name = 'RuntimeUnavailable';
  }
}

/** The runtime's queries, commands and events for the gateway (see the module note). */
export interface RuntimeFacade {
  readonly description: RuntimeDescription;
  readonly metrics: Metrics;

  // live readings (synchronous: see the module note)
  /** Every started portfolio's state, in {@link RuntimeDescription.portfolioIds} order. */
  portfolios(): readonly PortfolioReading[];
  quotes(): readonly Quote[];
  /** The order book of a symbol as the feed gives it (undefined before its first depth tick). */
  depth(symbol: string): MarketDepth | undefined;
  /** The market clock (the exchange time of the latest tick; the wall clock before any). */
  marketNowMs(): number;
  actors(): ActorsReading;

  // queries
  /** The orders of the session (the execution actor's book). */
  orders(): Promise<readonly Order[]>;
  riskReport(): Promise<RiskReport>;
  /** Ids of the running strategies, in start order. */
  strategyIds(): Promise<readonly string[]>;
  /** The spec a strategy runs with (as started, added or reconfigured), if it runs. */
  strategySpec(strategyId: string): Promise<StrategySpec | undefined>;
  strategyStatus(strategyId: string): Promise<StrategyStatus>;

  // commands
  /** Risk first (refusal answered at once), then answered once the order is journaled. */
  submitOrder(intent: OrderIntent, clientOrderId: string): Promise<OrderSubmission>;
  cancelOrder(clientOrderId: string, requestedBy: string): Promise<void>;
  /** Pauses (or resumes) strategies; answers the ids that run (unknown ones are left out). */
  pauseStrategies(strategyIds: readonly string[]): Promise<readonly string[]>;
  resumeStrategies(strategyIds: readonly string[]): Promise<readonly string[]>;
  /** Validates and spawns a strategy (throws `StrategyConfigError` naming the field). */
  addStrategy(spec: StrategySpec): Promise<void>;
  /** Merges `config` over the strategy's and restarts it from its last snapshot. */
  reconfigureStrategy(strategyId: string, config: Readonly<Record<string, unknown>>): Promise<void>;
  /** Answers false when the kill switch was already engaged (its first reason stays). */
  engageKillSwitch(requestedBy: string, reason: string): Promise<boolean>;
  /** Answers true once trading is re-armed. */
  releaseKillSwitch(requestedBy: string): Promise<boolean>;
  /** Crashes the actor at `path` on purpose (chaos drills); false when there is none. */
  injectFault(path: string): Promise<boolean>;

  // events
  onEvent<T extends DomainEventType>(type: T, listener: (event: Extract<DomainEvent, { type: T }>) => void): () => void;
  onActorEvent(listener: (event: ActorLifecycleEvent) => void): () => void;
}

/** The runtime's parts the local facade drives (what `Runtime` has); the gateway never sees them. */
export interface FacadeHost {
  readonly description: RuntimeDescription;
  readonly metrics: Metrics;
  readonly system: ActorSystem;
  readonly directory: Directory;
  readonly bus: EventBus;
  readonly cache: { all(): Quote[]; depth(symbol: string): MarketDepth | undefined };
  marketNowMs(): number;
  readonly riskManager: ActorRef<RiskManagerCommand> | undefined;
  portfolio(portfolioId: string): PortfolioState | undefined;
  portfolioVersion(portfolioId: string): number;
  strategySpec(strategyId: string): StrategySpec | undefined;
  addStrategy(spec: StrategySpec): void;
  reconfigureStrategy(strategyId: string, config: Readonly<Record<string, unknown>>): Promise<void>;
}

/** Ask timeout of every query and command. */
const ASK_TIMEOUT_MS = 2_000;
/** How long an approved order may take to be journaled before the answer says it was not confirmed. */
export const JOURNAL_CONFIRM_TIMEOUT_MS = 5_000;

type Placement = 'submitted' | 'journal-unavailable' | 'timeout';

/**
 * Orders approved by risk and waiting to be journaled. The execution actor publishes
 * `OrderSubmitted` only once the order is durable (journal first, then the broker), so a
 * submission is answered `submitted` only for an order a stop or a crash can no longer lose.
 * A journal failure answers every order not yet durable `journal-unavailable`.
 */
class PlacementWaiters {
  private readonly waiting = new Map<string, (placement: Placement) => void>();

  /** Starts waiting (before risk is asked, so the event cannot be missed). */
  wait(clientOrderId: string, timeoutMs: number): Promise<Placement> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(clientOrderId, 'timeout'), timeoutMs);
      timer.unref();
      this.waiting.set(clientOrderId, (placement) => {
        clearTimeout(timer);
        resolve(placement);
      });
    });
  }

  settle(clientOrderId: string, placement: Placement): void {
    const resolve = this.waiting.get(clientOrderId);
    if (!resolve) return;
    this.waiting.delete(clientOrderId);
    resolve(placement);
  }

  journalUnavailable(): void {
    for (const clientOrderId of [...this.waiting.keys()]) this.settle(clientOrderId, 'journal-unavailable');
  }
}

/** The facade over a runtime in this process. */
export class LocalRuntimeFacade implements RuntimeFacade {
  private readonly placements = new PlacementWaiters();

  constructor(
    private readonly host: FacadeHost,
    private readonly journalConfirmTimeoutMs = JOURNAL_CONFIRM_TIMEOUT_MS,
  ) {
    host.bus.on('OrderSubmitted', (event) => this.placements.settle(event.order.clientOrderId, 'submitted'));
    host.bus.on('RiskAlert', (event) => {
      if (event.code === 'journal-unavailable') this.placements.journalUnavailable();
    });
  }

  get description(): RuntimeDescription {
    return this.host.description;
  }

  get metrics(): Metrics {
    return this.host.metrics;
  }

  portfolios(): readonly PortfolioReading[] {
    const readings: PortfolioReading[] = [];
    for (const portfolioId of this.host.description.portfolioIds) {
      const state = this.host.portfolio(portfolioId);
      if (state) readings.push({ state, version: this.host.portfolioVersion(portfolioId) });
    }
    return readings;
  }

  quotes(): readonly Quote[] {
    return this.host.cache.all();
  }

  depth(symbol: string): MarketDepth | undefined {
    return this.host.cache.depth(symbol);
  }

  marketNowMs(): number {
    return this.host.marketNowMs();
  }

  actors(): ActorsReading {
    return { deadLetters: this.host.system.deadLetters, tree: this.host.system.health() };
  }

  orders(): Promise<readonly Order[]> {
    const execution = this.host.directory.execution;
    if (!execution) return Promise.reject(new RuntimeUnavailable('not-ready', 'the execution actor is not running'));
    return this.host.system.ask<ExecutionCommand, readonly Order[]>(execution, (replyTo) => ({ type: 'GetOrders', replyTo }), ASK_TIMEOUT_MS);
  }

  riskReport(): Promise<RiskReport> {
    const risk = this.host.riskManager;
    if (!risk) return Promise.reject(new RuntimeUnavailable('not-ready', 'the risk manager is not running'));
    return this.host.system.ask<RiskManagerCommand, RiskReport>(risk, (replyTo) => ({ type: 'GetRiskReport', replyTo }), ASK_TIMEOUT_MS);
  }

  strategyIds(): Promise<readonly string[]> {
    return Promise.resolve([...this.host.directory.strategies.keys()]);
  }

  strategySpec(strategyId: string): Promise<StrategySpec | undefined> {
    return Promise.resolve(this.host.directory.strategies.has(strategyId) ? this.host.strategySpec(strategyId) : undefined);
  }

  strategyStatus(strategyId: string): Promise<StrategyStatus> {
    const ref = this.host.directory.strategies.get(strategyId);
    if (!ref) return Promise.reject(new RuntimeUnavailable('not-found', `no strategy "${strategyId}"`));
    return this.host.system.ask<StrategyCommand, StrategyStatus>(ref, (replyTo) => ({ type: 'GetStatus', replyTo }), ASK_TIMEOUT_MS);
  }

  async submitOrder(intent: OrderIntent, clientOrderId: string): Promise<OrderSubmission> {
    const risk = this.host.directory.risk;
    if (!risk) throw new RuntimeUnavailable('not-ready', 'the risk actor is not running');
    const placed = this.placements.wait(clientOrderId, this.journalConfirmTimeoutMs);
    let decision: RiskDecision;
    try {
      decision = await this.host.system.ask(risk, (replyTo) => ({ type: 'EvaluateIntent', intent, clientOrderId, replyTo }), ASK_TIMEOUT_MS);
    } catch (error) {
      this.placements.settle(clientOrderId, 'timeout');
      throw error;
    }
    if (!decision.approved) {
      this.placements.settle(clientOrderId, 'timeout');
      return { outcome: 'rejected', code: decision.rejection.code, message: decision.rejection.message };
    }
    const placement = await placed;
    return { outcome: placement, clientOrderId: decision.clientOrderId };
  }

  cancelOrder(clientOrderId: string, requestedBy: string): Promise<void> {
    const execution = this.host.directory.execution;
    if (!execution) return Promise.reject(new RuntimeUnavailable('not-ready', 'the execution actor is not running'));
    this.host.system.tell(execution, { type: 'CancelOrder', clientOrderId, requestedBy });
    return Promise.resolve();
  }

  pauseStrategies(strategyIds: readonly string[]): Promise<readonly string[]> {
    return Promise.resolve(this.tellStrategies(strategyIds, 'Pause'));
  }

  resumeStrategies(strategyIds: readonly string[]): Promise<readonly string[]> {
    return Promise.resolve(this.tellStrategies(strategyIds, 'Resume'));
  }

  private tellStrategies(strategyIds: readonly string[], type: 'Pause' | 'Resume'): string[] {
    const told: string[] = [];
    for (const strategyId of strategyIds) {
      const ref = this.host.directory.strategies.get(strategyId);
      if (!ref) continue;
      this.host.system.tell(ref, { type });
      told.push(strategyId);
    }
    return told;
  }

  addStrategy(spec: StrategySpec): Promise<void> {
    try {
      this.host.addStrategy(spec);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  reconfigureStrategy(strategyId: string, config: Readonly<Record<string, unknown>>): Promise<void> {
    return this.host.reconfigureStrategy(strategyId, config);
  }

  engageKillSwitch(requestedBy: string, reason: string): Promise<boolean> {
    const risk = this.host.riskManager;
    if (!risk) return Promise.reject(new RuntimeUnavailable('not-ready', 'the risk manager is not running'));
    return this.host.system.ask<RiskManagerCommand, boolean>(risk, (replyTo) => ({ type: 'EngageKillSwitch', requestedBy, reason, replyTo }), ASK_TIMEOUT_MS);
  }

  releaseKillSwitch(requestedBy: string): Promise<boolean> {
    const risk = this.host.riskManager;
    if (!risk) return Promise.reject(new RuntimeUnavailable('not-ready', 'the risk manager is not running'));
    return this.host.system.ask<RiskManagerCommand, boolean>(risk, (replyTo) => ({ type: 'ResetKillSwitch', requestedBy, replyTo }), ASK_TIMEOUT_MS);
  }

  injectFault(path: string): Promise<boolean> {
    if (!flattenActors(this.host.system.health()).some((actor) => actor.path === path)) return Promise.resolve(false);
    this.host.system.injectFault(path, 'fault injected through the API');
    return Promise.resolve(true);
  }

  onEvent<T extends DomainEventType>(type: T, listener: (event: Extract<DomainEvent, { type: T }>) => void): () => void {
    return this.host.bus.on(type, listener);
  }

  onActorEvent(listener: (event: ActorLifecycleEvent) => void): () => void {
    return this.host.system.onEvent((event) => {
      if (event.type === 'ActorRestarted') listener({ type: event.type, path: event.path, kind: event.kind, atMs: event.atMs, restarts: event.restarts });
      else if (event.type === 'ActorFailed')
        listener({ type: event.type, path: event.path, kind: event.kind, atMs: event.atMs, error: event.errorMessage, directive: event.directive });
      else if (event.type === 'ActorStopped') listener({ type: event.type, path: event.path, kind: event.kind, atMs: event.atMs, reason: event.reason });
    });
  }
}

/** Every actor of the health tree, depth first. */
export function flattenActors(nodes: readonly ActorHealth[], into: ActorHealth[] = []): ActorHealth[] {
  for (const node of nodes) {
    into.push(node);
    flattenActors(node.children, into);
  }
  return into;
}
