/**
 * The runtime's end of a facade port: answers a {@link PortRuntimeFacade}'s requests with the
 * local facade, forwards the event types it subscribed to, and publishes the read model (the
 * facade's live readings) it mirrors.
 *
 * The read model goes as deltas (what changed since the previous publish) numbered by `seq`:
 * - with every event batch and before every reply, the portfolios (the reading events and
 *   orders change), so an event never reaches the gateway before the state it changed
 *   (events are batched per turn of the event loop: one message per batch, not per event) and
 *   a caller reads its own writes;
 * - every `publishIntervalMs`, and before answering `sync` or a command that changes the actor
 *   tree ({@link FULL_PUBLISH}), everything: also what changes without an event (quotes, depth,
 *   the market clock, actor health), conflated: a symbol that ticked a thousand times goes once.
 */
import type { MessagePort } from 'node:worker_threads';
import { AskTimeoutError } from '../../actors/core/index.js';
import type { DomainEventType } from '../../model/index.js';
import { StrategyConfigError } from '../../strategies/api.js';
import { RuntimeUnavailable, type ActorsReading, type MarketDepth, type Quote, type RuntimeFacade } from '../facade.js';
import type { MlControl } from '../ml-service.js';
import { UnknownModelError } from '../../persistence/ml-model-store.js';
import type { MetricFamilyJson } from '../../observability/metrics-merge.js';
import {
  GatewayToRuntimeCheck,
  GatewayToRuntimeSchema,
  mismatch,
  type HostReading,
  type PortEvent,
  type ReadModelDelta,
  type RemoteError,
  type Request,
  type RequestMethod,
  type RuntimeToGateway,
} from './schemas.js';

/** How often the read model is published when no event or reply carries it (the stream hub samples quotes every 250 ms). */
export const PUBLISH_INTERVAL_MS = 50;

/**
 * Requests answered after a full publish: `sync`, and the commands that change the actor tree
 * (a strategy added or restarted, a fault, the kill switch pausing strategies), so the caller
 * reads its own write in `actors()` too. Rare; the rest (orders above all) go with the portfolios only.
 */
const FULL_PUBLISH: ReadonlySet<Request['method']> = new Set([
  'sync',
  'addStrategy',
  'reconfigureStrategy',
  'injectFault',
  'engageKillSwitch',
  'releaseKillSwitch',
  'setFeedPaused',
]);

/**
 * What the host (`src/app.ts`) serves besides the facade: the readings a gateway on another
 * thread needs from this one, published with the read model, and its requests.
 */
export interface HostEnd {
  /** The feed's state as the gateway's health reads it (`followsExchangeHours` absent: a market that never closes). */
  feedState(): { readonly connected: boolean; readonly lastTickAgeMs: number | undefined; readonly followsExchangeHours?: boolean | undefined };
  persistenceState(): HostReading['persistence'];
  /** The feed's pause switch; absent when the feed cannot be paused (Kite). */
  readonly feedControl?: { paused(): boolean; setPaused(paused: boolean): void } | undefined;
  /** The lease fences this process holds (risk-alert acknowledgements write with them). */
  fences(): readonly { readonly name: string; readonly token: number }[];
  /** This thread's metric registry in the Prometheus text format. */
  metricsText(): Promise<string>;
  /** This thread's metric registry as JSON (`/api/v1/metrics`). */
  metricsJson(): Promise<readonly MetricFamilyJson[]>;
  /** The ML service (`/api/v1/ml/*`); absent: ML is off. */
  readonly ml?: MlControl | undefined;
  /** The gateway created the first admin with this generated password (shown once by the host). */
  onGeneratedAdmin(username: string, password: string): void;
}

export interface FacadeServerOptions {
  readonly publishIntervalMs?: number;
  /** The host's readings and requests besides the facade's (a gateway worker's needs); absent: refused. */
  readonly host?: HostEnd;
  /** Told of a message that does not decode (dropped). Default: nothing. */
  readonly onBadMessage?: (problem: string) => void;
}

export interface FacadeServer {
  /** Publishes what changed now: the portfolios and pending events, or (`full`) every reading. */
  publish(scope?: 'full' | 'events'): void;
  /** Stops publishing and answering; closes the port. */
  close(): void;
}

/** Serves `facade` on `port` (the other end: {@link PortRuntimeFacade}); sends `hello` at once. */
export function serveFacade(facade: RuntimeFacade, port: MessagePort, options: FacadeServerOptions = {}): FacadeServer {
  const model = new ReadModelPublisher(facade, options.host);
  const performers = served(facade, options.host);
  const symbols = facade.description.instruments.map((instrument) => instrument.symbol);
  let seq = 0;
  let events: PortEvent[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let closed = false;
  const subscriptions = new Map<DomainEventType, () => void>();
  let actorSubscription: (() => void) | undefined;

  const send = (message: RuntimeToGateway): void => {
    if (!closed) port.postMessage(message);
  };
  const publish = (scope: 'full' | 'events' = 'full'): void => {
    if (scheduled !== undefined) clearImmediate(scheduled);
    scheduled = undefined;
    const delta = model.delta(scope === 'full' ? symbols : undefined);
    const batch = events;
    events = [];
    seq += 1;
    send({ kind: 'publish', seq, model: delta, events: batch });
  };
  const queue = (item: PortEvent): void => {
    events.push(item);
    scheduled ??= setImmediate(publish, 'events');
  };

  const answer = (id: number, scope: 'full' | 'events', work: () => Promise<unknown>): void => {
    work().then(
      (value) => {
        publish(scope);
        send({ kind: 'reply', id, ok: true, value });
      },
      (error: unknown) => {
        publish(scope);
        send({ kind: 'reply', id, ok: false, error: remoteError(error) });
      },
    );
  };

  port.on('message', (message: unknown) => {
    if (!GatewayToRuntimeCheck.Check(message)) {
      options.onBadMessage?.(mismatch(GatewayToRuntimeSchema, message));
      return;
    }
    if (message.kind === 'subscribe') {
      for (const type of message.types)
        if (!subscriptions.has(type))
          subscriptions.set(
            type,
            facade.onEvent(type, (event) => queue({ stream: 'domain', event })),
          );
      if (message.actors) actorSubscription ??= facade.onActorEvent((event) => queue({ stream: 'actor', event }));
      return;
    }
    answer(message.id, FULL_PUBLISH.has(message.method) ? 'full' : 'events', () => perform(performers, options.host, message.method, message.args));
  });

  const timer = setInterval(publish, options.publishIntervalMs ?? PUBLISH_INTERVAL_MS, 'full');
  timer.unref();
  const host = options.host;
  send({
    kind: 'hello',
    description: facade.description,
    ...(host ? { host: { pausable: host.feedControl !== undefined, ml: host.ml !== undefined } } : {}),
  });
  publish();

  return {
    publish,
    close() {
      if (closed) return;
      publish();
      closed = true;
      clearInterval(timer);
      if (scheduled !== undefined) clearImmediate(scheduled);
      for (const off of subscriptions.values()) off();
      actorSubscription?.();
      port.close();
    },
  };
}

/** Each request's arguments, by method. */
type ArgsOf = { [R in Request as R['method']]: R['args'] };

/** The requests of the host's ML service (`MlControl`). */
type MlMethod = 'mlList' | 'mlSummary' | 'mlPromote' | 'mlRollback' | 'mlStatus' | 'mlStartRetraining';
/** The requests the host answers (not the facade). */
type HostMethod = 'setFeedPaused' | 'metricsText' | 'metricsJson' | 'generatedAdmin' | MlMethod;

/**
 * What carries out each request of `Method`: its arguments in, its answer as it crosses out
 * (`null` for none: undefined does not survive every transport).
 */
type Performers<Method extends RequestMethod> = { readonly [M in Method]: (...args: ArgsOf[M]) => Promise<unknown> };
/** The requests this end serves: the facade's always, the host's when it serves a host, the ML service's when ML is on. */
type Served = Partial<Performers<RequestMethod>>;

/** What this end serves: the local facade's requests, the host's when it has one, its ML service's when ML is on. */
function served(facade: RuntimeFacade, host: HostEnd | undefined): Served {
  return { ...facadePerformers(facade), ...(host ? hostPerformers(host) : {}), ...(host?.ml ? mlPerformers(host.ml) : {}) };
}

/** Carries out a decoded request with what this end serves (a host's request it does not serve is refused). */
async function perform<M extends RequestMethod>(performers: Served, host: HostEnd | undefined, method: M, args: ArgsOf[M]): Promise<unknown> {
  const performer = performers[method];
  // what is missing is the host's: all of it when this end serves no host, else the ML service's
  if (performer === undefined)
    throw new Error(`${method}: ${host === undefined ? 'this end serves no host readings' : 'ML is off in this process (TROUPE_ML=off)'}`);
  return performer(...args);
}

/** The facade's requests, each by the local facade's method of its name. */
function facadePerformers(facade: RuntimeFacade): Performers<Exclude<RequestMethod, HostMethod>> {
  return {
    sync: () => Promise.resolve(null),
    orders: () => facade.orders(),
    riskReport: () => facade.riskReport(),
    strategyIds: () => facade.strategyIds(),
    // null stands for "no such strategy"
    strategySpec: (strategyId) => facade.strategySpec(strategyId).then((spec) => spec ?? null),
    strategyStatus: (strategyId) => facade.strategyStatus(strategyId),
    submitOrder: (intent, clientOrderId) => facade.submitOrder(intent, clientOrderId),
    cancelOrder: (clientOrderId, requestedBy) => facade.cancelOrder(clientOrderId, requestedBy).then(() => null),
    pauseStrategies: (strategyIds) => facade.pauseStrategies(strategyIds),
    resumeStrategies: (strategyIds) => facade.resumeStrategies(strategyIds),
    addStrategy: (spec) => facade.addStrategy(spec).then(() => null),
    reconfigureStrategy: (strategyId, config) => facade.reconfigureStrategy(strategyId, config).then(() => null),
    engageKillSwitch: (requestedBy, reason) => facade.engageKillSwitch(requestedBy, reason),
    releaseKillSwitch: (requestedBy) => facade.releaseKillSwitch(requestedBy),
    injectFault: (path) => facade.injectFault(path),
  };
}

/** The host's own requests: the feed's pause switch, the metric registry, the first admin's generated password. */
function hostPerformers(host: HostEnd): Performers<Exclude<HostMethod, MlMethod>> {
  return {
    setFeedPaused: (paused) => {
      if (host.feedControl === undefined) throw new Error('setFeedPaused: the feed cannot be paused');
      host.feedControl.setPaused(paused);
      return Promise.resolve(null);
    },
    metricsText: () => host.metricsText(),
    metricsJson: () => host.metricsJson(),
    generatedAdmin: (username, password) => {
      host.onGeneratedAdmin(username, password);
      return Promise.resolve(null);
    },
  };
}

/** The requests of the host's ML service. */
function mlPerformers(ml: MlControl): Performers<MlMethod> {
  return {
    mlList: () => ml.list(),
    mlSummary: (version) => ml.summary(version),
    mlPromote: (version) => ml.promote(version),
    mlRollback: () => ml.rollback(),
    mlStatus: () => ml.status(),
    mlStartRetraining: () => ml.startRetraining().then(() => null),
  };
}

/** The host's readings as they cross: the last tick's wall time instead of its age. */
function hostReading(host: HostEnd): HostReading {
  const feed = host.feedState();
  const paused = host.feedControl?.paused();
  const stores = host.persistenceState();
  return {
    feed: {
      connected: feed.connected,
      ...(feed.lastTickAgeMs === undefined ? {} : { lastTickAtMs: Date.now() - feed.lastTickAgeMs }),
      followsExchangeHours: feed.followsExchangeHours ?? false,
    },
    persistence: { journal: stores.journal, redis: stores.redis },
    ...(paused === undefined ? {} : { feedPaused: paused }),
    fences: host.fences().map((fence) => ({ name: fence.name, token: fence.token })),
  };
}

/** An error as it crosses (the client rebuilds the classes the gateway tells apart). */
function remoteError(error: unknown): RemoteError {
  if (error instanceof RuntimeUnavailable) return { name: error.name, message: error.message, reason: error.reason };
  if (error instanceof StrategyConfigError) return { name: error.name, message: error.message, field: error.field };
  if (error instanceof AskTimeoutError) return { name: error.name, message: error.message, path: error.path, timeoutMs: error.timeoutMs };
  if (error instanceof UnknownModelError) return { name: error.name, message: error.message, version: error.version };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** The facade's live readings and what of them changed since the last delta. */
class ReadModelPublisher {
  private readonly portfolioVersions = new Map<string, number>();
  private readonly quotes = new Map<string, Quote>();
  private readonly depths = new Map<string, MarketDepth>();
  private actorsJson = '';
  private hostJson = '';

  constructor(
    private readonly facade: RuntimeFacade,
    private readonly host: HostEnd | undefined,
  ) {}

  /** The changes of the portfolios and the clock, and with `symbols` of the quotes, depth and actor health too. */
  delta(symbols: readonly string[] | undefined): ReadModelDelta {
    const delta: { -readonly [K in keyof ReadModelDelta]: ReadModelDelta[K] } = { marketNowMs: this.facade.marketNowMs() };
    const portfolios = this.facade.portfolios().filter((reading) => this.portfolioVersions.get(reading.state.portfolioId) !== reading.version);
    for (const reading of portfolios) this.portfolioVersions.set(reading.state.portfolioId, reading.version);
    if (portfolios.length > 0) delta.portfolios = [...portfolios];
    if (symbols === undefined) return delta;
    const quotes = this.facade.quotes().filter((quote) => !sameQuote(this.quotes.get(quote.symbol), quote));
    for (const quote of quotes) this.quotes.set(quote.symbol, quote);
    if (quotes.length > 0) delta.quotes = quotes;
    const depth: { symbol: string; depth: MarketDepth }[] = [];
    for (const symbol of symbols) {
      const book = this.facade.depth(symbol);
      if (book === undefined || sameDepth(this.depths.get(symbol), book)) continue;
      this.depths.set(symbol, book);
      depth.push({ symbol, depth: book });
    }
    if (depth.length > 0) delta.depth = depth;
    const actors: ActorsReading = this.facade.actors();
    const actorsJson = JSON.stringify(actors);
    if (actorsJson !== this.actorsJson) {
      this.actorsJson = actorsJson;
      delta.actors = actors;
    }
    if (this.host !== undefined) {
      const host = hostReading(this.host);
      const hostJson = JSON.stringify(host);
      if (hostJson !== this.hostJson) {
        this.hostJson = hostJson;
        delta.host = host;
      }
    }
    return delta;
  }
}

function sameQuote(a: Quote | undefined, b: Quote): boolean {
  return (
    a !== undefined &&
    a.exchangeTimeMs === b.exchangeTimeMs &&
    a.ltpPaise === b.ltpPaise &&
    a.volume === b.volume &&
    a.bidPaise === b.bidPaise &&
    a.askPaise === b.askPaise
  );
}

function sameDepth(a: MarketDepth | undefined, b: MarketDepth): boolean {
  if (a === undefined || a.atMs !== b.atMs || a.buy.length !== b.buy.length || a.sell.length !== b.sell.length) return false;
  const same = (x: MarketDepth['buy'], y: MarketDepth['buy']): boolean =>
    x.every((level, index) => level.pricePaise === y[index]?.pricePaise && level.quantity === y[index]?.quantity && level.orders === y[index]?.orders);
  return same(a.buy, b.buy) && same(a.sell, b.sell);
}
