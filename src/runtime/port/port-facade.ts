/**
 * {@link RuntimeFacade} on the far side of a message port (the runtime's end: `serveFacade`).
 *
 * - Live readings (`portfolios`, `quotes`, `depth`, `marketNowMs`, `actors`) come from a mirror
 *   of the read model the runtime publishes: synchronous, as the stream hub needs them, and as
 *   fresh as the last publish (events and replies carry the changes before them, so the mirror
 *   is never behind an event or an answer the gateway has seen).
 * - Queries and commands are requests with an id, answered once the runtime's facade has
 *   answered (an order: once journaled), or rejected with `RuntimeUnavailable` when the runtime
 *   does not answer within the timeout or the port is closed.
 * - Events arrive in batches; a listener's type is subscribed the first time one asks for it.
 * - Metrics: the gateway's own registry (`options.metrics`).
 *
 * Every message is checked against its schema (`schemas.ts`) before it is used.
 */
import type { MessagePort } from 'node:worker_threads';
import { Check } from 'typebox/value';
import { AskTimeoutError } from '../../actors/core/index.js';
import type { DomainEvent, DomainEventType, Order, OrderIntent } from '../../model/index.js';
import { StrategyConfigError } from '../../strategies/api.js';
import {
  RuntimeUnavailable,
  type ActorLifecycleEvent,
  type ActorsReading,
  type MarketDepth,
  type OrderSubmission,
  type PortfolioReading,
  type Quote,
  type RiskReport,
  type RuntimeDescription,
  type RuntimeFacade,
  type StrategySpec,
  type StrategyStatus,
} from '../facade.js';
import type { Metrics } from '../../observability/metrics.js';
import type { MetricFamilyJson } from '../../observability/metrics-merge.js';
import { ModelRegistryError, UnknownModelError } from '../../persistence/ml-model-store.js';
import type { ModelSummary } from '../../ml/registry.js';
import type { MlControl, MlServiceStatus } from '../ml-service.js';
import { Type, type Static, type TSchema } from 'typebox';
import {
  OrderSubmissionSchema,
  RiskReportSchema,
  RuntimeToGatewayCheck,
  RuntimeToGatewaySchema,
  StrategySpecSchema,
  StrategyStatusSchema,
  mismatch,
  type GatewayToRuntime,
  type HostReading,
  type ReadModelDelta,
  type RemoteError,
  type Request,
  type RuntimeToGateway,
} from './schemas.js';

/** How long a query or command may take before it is answered `RuntimeUnavailable` (an order: risk's ask, then its journal confirmation). */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How long `connect` waits for the runtime's hello. */
const HELLO_TIMEOUT_MS = 10_000;

const OrdersSchema = Type.Array(Type.Unsafe<Order>(Type.Object({ clientOrderId: Type.String(), status: Type.String() })));
const StringsSchema = Type.Array(Type.String());
const NullSchema = Type.Null();
const BooleanSchema = Type.Boolean();
const MetricFamilySchema = Type.Unsafe<MetricFamilyJson>(
  Type.Object({
    name: Type.String(),
    type: Type.String(),
    help: Type.String(),
    values: Type.Array(
      Type.Object({ labels: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])), value: Type.Union([Type.Number(), Type.Null()]) }),
    ),
  }),
);
const ModelSummarySchema = Type.Unsafe<ModelSummary>(
  Type.Object({
    version: Type.String(),
    kind: Type.String(),
    status: Type.String(),
    createdAtMs: Type.Number(),
    featureSchemaHash: Type.String(),
    classes: Type.Array(Type.String()),
    metrics: Type.Record(Type.String(), Type.Unknown()),
    onnxBytes: Type.Integer(),
  }),
);
const MlServiceStatusSchema = Type.Unsafe<MlServiceStatus>(
  Type.Object({ mode: Type.String(), kind: Type.String(), actor: Type.Unknown(), retraining: Type.Object({ running: Type.Boolean() }) }),
);

export interface PortFacadeOptions {
  /** The gateway's metric registry (the runtime's stays with the runtime). */
  readonly metrics: Metrics;
  readonly requestTimeoutMs?: number;
  /** Told of a message that does not decode (dropped). Default: nothing. */
  readonly onBadMessage?: (problem: string) => void;
}

interface Pending {
  settle(message: Extract<RuntimeToGateway, { kind: 'reply' }>): void;
  fail(error: Error): void;
}

/** The runtime's live readings as last published. */
interface Mirror {
  readonly portfolios: Map<string, PortfolioReading>;
  readonly quotes: Map<string, Quote>;
  quoteList: readonly Quote[];
  readonly depth: Map<string, MarketDepth>;
  marketNowMs: number;
  actors: ActorsReading;
}

/** What a gateway on another thread reads and asks of the host besides the facade (the shapes the gateway's context takes). */
export interface PortHost {
  feedState(): { readonly connected: boolean; readonly lastTickAgeMs: number | undefined; readonly followsExchangeHours: boolean };
  persistenceState(): HostReading['persistence'];
  /** The feed's pause switch (read back at once); undefined when the feed cannot be paused. */
  readonly feedControl: { paused(): boolean; setPaused(paused: boolean): void } | undefined;
  /** The lease fences the host holds, as last published. */
  fences(): readonly { readonly name: string; readonly token: number }[];
  /** The host thread's metric registry in the Prometheus text format. */
  metricsText(): Promise<string>;
  /** The host thread's metric registry as JSON. */
  metricsJson(): Promise<readonly MetricFamilyJson[]>;
  /** The host's ML service; undefined when ML is off there. */
  readonly ml: MlControl | undefined;
  /** Tells the host the first admin's generated password (it shows it once). */
  reportGeneratedAdmin(username: string, password: string): Promise<void>;
}

/** A request without its envelope: the method and its arguments. */
type Call = Request extends infer R ? (R extends Request ? Omit<R, 'kind' | 'id'> : never) : never;

export class PortRuntimeFacade implements RuntimeFacade {
  /** Connects over `port` and resolves once the runtime said hello (its description and first read model). */
  static connect(port: MessagePort, options: PortFacadeOptions): Promise<PortRuntimeFacade> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        port.off('message', first);
        reject(new RuntimeUnavailable('not-ready', `the runtime did not say hello within ${HELLO_TIMEOUT_MS} ms`));
      }, HELLO_TIMEOUT_MS);
      const first = (message: unknown): void => {
        if (!RuntimeToGatewayCheck.Check(message) || message.kind !== 'hello') return;
        clearTimeout(timer);
        port.off('message', first);
        const facade = new PortRuntimeFacade(port, message.description, options, message.host);
        // with host readings: once the first of them is in the mirror
        if (message.host === undefined) resolve(facade);
        else facade.sync().then(() => resolve(facade), reject);
      };
      port.on('message', first);
    });
  }

  readonly metrics: Metrics;
  private readonly timeoutMs: number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** The number of the last publish applied to the mirror. */
  private seq = 0;
  private readonly mirror: Mirror = {
    portfolios: new Map(),
    quotes: new Map(),
    quoteList: [],
    depth: new Map(),
    marketNowMs: Date.now(),
    actors: { deadLetters: 0, tree: [] },
  };
  private readonly listeners = new Map<DomainEventType, Set<(event: DomainEvent) => void>>();
  private readonly actorListeners = new Set<(event: ActorLifecycleEvent) => void>();

  /** The host's readings and requests, when the runtime's end serves them (`serveFacade`'s `host` option). */
  readonly host: PortHost | undefined;
  private hostReading: HostReading | undefined;

  private constructor(
    private readonly port: MessagePort,
    readonly description: RuntimeDescription,
    private readonly options: PortFacadeOptions,
    hostShape: { readonly pausable: boolean; readonly ml: boolean } | undefined,
  ) {
    this.metrics = options.metrics;
    this.timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.host = hostShape === undefined ? undefined : this.hostOf(hostShape);
    port.on('message', (message: unknown) => this.receive(message));
    port.on('close', () => this.lost('its message port closed'));
  }

  /** The last publish applied to the mirror (goes up by one per publish). */
  get version(): number {
    return this.seq;
  }

  /** Resolves once the mirror holds everything the runtime had published when it got this call. */
  async sync(): Promise<void> {
    await this.request({ method: 'sync', args: [] }, NullSchema);
  }

  /** Fails what is waiting and stops using the port (the runtime's end sees it close). */
  close(): void {
    this.lost('the gateway closed its port');
    this.port.close();
  }

  // live readings: the mirror

  portfolios(): readonly PortfolioReading[] {
    const readings: PortfolioReading[] = [];
    for (const portfolioId of this.description.portfolioIds) {
      const reading = this.mirror.portfolios.get(portfolioId);
      if (reading) readings.push(reading);
    }
    return readings;
  }

  quotes(): readonly Quote[] {
    return this.mirror.quoteList;
  }

  depth(symbol: string): MarketDepth | undefined {
    return this.mirror.depth.get(symbol);
  }

  marketNowMs(): number {
    return this.mirror.marketNowMs;
  }

  actors(): ActorsReading {
    return this.mirror.actors;
  }

  // queries

  orders(): Promise<readonly Order[]> {
    return this.request({ method: 'orders', args: [] }, OrdersSchema);
  }

  riskReport(): Promise<RiskReport> {
    return this.request({ method: 'riskReport', args: [] }, RiskReportSchema);
  }

  strategyIds(): Promise<readonly string[]> {
    return this.request({ method: 'strategyIds', args: [] }, StringsSchema);
  }

  async strategySpec(strategyId: string): Promise<StrategySpec | undefined> {
    return (await this.request({ method: 'strategySpec', args: [strategyId] }, Type.Union([StrategySpecSchema, NullSchema]))) ?? undefined;
  }

  strategyStatus(strategyId: string): Promise<StrategyStatus> {
    return this.request({ method: 'strategyStatus', args: [strategyId] }, StrategyStatusSchema);
  }

  // commands

  submitOrder(intent: OrderIntent, clientOrderId: string): Promise<OrderSubmission> {
    return this.request({ method: 'submitOrder', args: [intent, clientOrderId] }, OrderSubmissionSchema);
  }

  async cancelOrder(clientOrderId: string, requestedBy: string): Promise<void> {
    await this.request({ method: 'cancelOrder', args: [clientOrderId, requestedBy] }, NullSchema);
  }

  pauseStrategies(strategyIds: readonly string[]): Promise<readonly string[]> {
    return this.request({ method: 'pauseStrategies', args: [[...strategyIds]] }, StringsSchema);
  }

  resumeStrategies(strategyIds: readonly string[]): Promise<readonly string[]> {
    return this.request({ method: 'resumeStrategies', args: [[...strategyIds]] }, StringsSchema);
  }

  async addStrategy(spec: StrategySpec): Promise<void> {
    await this.request({ method: 'addStrategy', args: [spec] }, NullSchema);
  }

  async reconfigureStrategy(strategyId: string, config: Readonly<Record<string, unknown>>): Promise<void> {
    await this.request({ method: 'reconfigureStrategy', args: [strategyId, { ...config }] }, NullSchema);
  }

  engageKillSwitch(requestedBy: string, reason: string): Promise<boolean> {
    return this.request({ method: 'engageKillSwitch', args: [requestedBy, reason] }, BooleanSchema);
  }

  releaseKillSwitch(requestedBy: string): Promise<boolean> {
    return this.request({ method: 'releaseKillSwitch', args: [requestedBy] }, BooleanSchema);
  }

  injectFault(path: string): Promise<boolean> {
    return this.request({ method: 'injectFault', args: [path] }, BooleanSchema);
  }

  // events

  onEvent<T extends DomainEventType>(type: T, listener: (event: Extract<DomainEvent, { type: T }>) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
      this.post({ kind: 'subscribe', types: [type], actors: false });
    }
    // the events of a type are dispatched to the listeners of that type only
    const forType = (event: DomainEvent): void => {
      if (event.type === type) listener(narrow(event, type));
    };
    set.add(forType);
    return () => set.delete(forType);
  }

  onActorEvent(listener: (event: ActorLifecycleEvent) => void): () => void {
    if (this.actorListeners.size === 0) this.post({ kind: 'subscribe', types: [], actors: true });
    this.actorListeners.add(listener);
    return () => this.actorListeners.delete(listener);
  }

  // the host's readings: the mirror; its requests

  private hostOf({ pausable, ml }: { readonly pausable: boolean; readonly ml: boolean }): PortHost {
    const reading = (): HostReading => {
      if (this.hostReading === undefined) throw new Error('the host readings are not in the mirror yet (connect resolves once they are)');
      return this.hostReading;
    };
    return {
      feedState: () => {
        const feed = reading().feed;
        return {
          connected: feed.connected,
          lastTickAgeMs: feed.lastTickAtMs === undefined ? undefined : Math.max(0, Date.now() - feed.lastTickAtMs),
          followsExchangeHours: feed.followsExchangeHours,
        };
      },
      persistenceState: () => reading().persistence,
      feedControl: pausable
        ? {
            paused: () => reading().feedPaused ?? false,
            setPaused: (paused) => {
              // read back at once here; the runtime's end switches on the request (a lost request: the next publish says the true state)
              this.hostReading = { ...reading(), feedPaused: paused };
              this.request({ method: 'setFeedPaused', args: [paused] }, NullSchema).catch((error: unknown) =>
                this.options.onBadMessage?.(`setFeedPaused failed: ${error instanceof Error ? error.message : String(error)}`),
              );
            },
          }
        : undefined,
      fences: () => reading().fences,
      metricsText: () => this.request({ method: 'metricsText', args: [] }, Type.String()),
      metricsJson: () => this.request({ method: 'metricsJson', args: [] }, Type.Array(MetricFamilySchema)),
      ml: ml ? this.mlControl() : undefined,
      reportGeneratedAdmin: async (username, password) => {
        await this.request({ method: 'generatedAdmin', args: [username, password] }, NullSchema);
      },
    };
  }

  /** The host's ML service across the port. */
  private mlControl(): MlControl {
    return {
      list: () => this.request({ method: 'mlList', args: [] }, Type.Array(ModelSummarySchema)),
      summary: (version) => this.request({ method: 'mlSummary', args: [version] }, ModelSummarySchema),
      promote: (version) =>
        this.request({ method: 'mlPromote', args: [version] }, Type.Object({ promoted: ModelSummarySchema, retired: Type.Union([Type.String(), NullSchema]) })),
      rollback: () => this.request({ method: 'mlRollback', args: [] }, Type.Object({ restored: ModelSummarySchema, retired: Type.String() })),
      status: () => this.request({ method: 'mlStatus', args: [] }, MlServiceStatusSchema),
      startRetraining: async () => {
        await this.request({ method: 'mlStartRetraining', args: [] }, NullSchema);
      },
    };
  }

  // the port

  private request<S extends TSchema>(call: Call, result: S): Promise<Static<S>> {
    const method = call.method;
    if (this.closed) return Promise.reject(new RuntimeUnavailable('not-ready', 'the runtime is gone (its message port is closed)'));
    const id = this.nextId++;
    return new Promise<Static<S>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RuntimeUnavailable('not-ready', `the runtime did not answer ${method} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, {
        settle: (message) => {
          clearTimeout(timer);
          if (!message.ok) return reject(localError(message.error));
          if (Check(result, message.value)) return resolve(message.value);
          reject(new Error(`the runtime's answer to ${method} does not decode: ${mismatch(result, message.value)}`));
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.post({ kind: 'request', id, ...call });
    });
  }

  private post(message: GatewayToRuntime): void {
    if (!this.closed) this.port.postMessage(message);
  }

  private receive(message: unknown): void {
    if (!RuntimeToGatewayCheck.Check(message)) {
      this.options.onBadMessage?.(mismatch(RuntimeToGatewaySchema, message));
      return;
    }
    if (message.kind === 'reply') {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.settle(message);
    } else if (message.kind === 'publish') {
      this.seq = message.seq;
      this.apply(message.model);
      for (const item of message.events) {
        if (item.stream === 'actor') for (const listener of [...this.actorListeners]) listener(item.event);
        else for (const listener of [...(this.listeners.get(item.event.type) ?? [])]) listener(item.event);
      }
    }
  }

  private apply(delta: ReadModelDelta): void {
    const mirror = this.mirror;
    if (delta.host) this.hostReading = delta.host;
    mirror.marketNowMs = delta.marketNowMs;
    for (const reading of delta.portfolios ?? []) mirror.portfolios.set(reading.state.portfolioId, reading);
    if (delta.quotes) {
      for (const quote of delta.quotes) mirror.quotes.set(quote.symbol, quote);
      mirror.quoteList = [...mirror.quotes.values()];
    }
    for (const { symbol, depth } of delta.depth ?? []) mirror.depth.set(symbol, depth);
    if (delta.actors) mirror.actors = delta.actors;
  }

  private lost(why: string): void {
    if (this.closed) return;
    this.closed = true;
    const error = new RuntimeUnavailable('not-ready', `the runtime is gone (${why})`);
    for (const pending of this.pending.values()) pending.fail(error);
    this.pending.clear();
  }
}

/** The event as its type's (the listener set of a type only gets events of that type). */
function narrow<T extends DomainEventType>(event: DomainEvent, type: T): Extract<DomainEvent, { type: T }> {
  if (!isOfType(event, type)) throw new Error(`an event ${event.type} reached a listener of ${type}`);
  return event;
}

function isOfType<T extends DomainEventType>(event: DomainEvent, type: T): event is Extract<DomainEvent, { type: T }> {
  return event.type === type;
}

/** The error the local facade would have thrown, from what crossed. */
function localError(remote: RemoteError): Error {
  if (remote.name === 'RuntimeUnavailable' && remote.reason !== undefined) return new RuntimeUnavailable(remote.reason, remote.message);
  if (remote.name === 'StrategyConfigError' && remote.field !== undefined)
    return new StrategyConfigError(remote.field, remote.message.slice(remote.field.length + 2));
  if (remote.name === 'AskTimeoutError' && remote.path !== undefined && remote.timeoutMs !== undefined)
    return new AskTimeoutError(remote.path, remote.timeoutMs);
  if (remote.name === 'UnknownModelError' && remote.version !== undefined) return new UnknownModelError(remote.version);
  if (remote.name === 'ModelRegistryError') return new ModelRegistryError(remote.message);
  const error = new Error(remote.message);
  error.name = remote.name;
  return error;
}
