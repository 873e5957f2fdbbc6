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
    answer(message.id, FULL_PUBLISH.has(message.method) ? 'full' : 'events', () => perform(facade, options.host, message));
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

/** Carries out a decoded request with the local facade (or the host). */
function perform(facade: RuntimeFacade, host: HostEnd | undefined, request: Request): Promise<unknown> {
  switch (request.method) {
    case 'sync':
      return Promise.resolve(null);
    case 'orders':
      return facade.orders();
    case 'riskReport':
      return facade.riskReport();
    case 'strategyIds':
      return facade.strategyIds();
    case 'strategySpec':
      // undefined does not survive every transport: null stands for "no such strategy"
      return facade.strategySpec(...request.args).then((spec) => spec ?? null);
    case 'strategyStatus':
      return facade.strategyStatus(...request.args);
    case 'submitOrder':
      return facade.submitOrder(...request.args);
    case 'cancelOrder':
      return facade.cancelOrder(...request.args).then(() => null);
    case 'pauseStrategies':
      return facade.pauseStrategies(...request.args);
    case 'resumeStrategies':
      return facade.resumeStrategies(...request.args);
    case 'addStrategy':
      return facade.addStrategy(...request.args).then(() => null);
    case 'reconfigureStrategy':
      return facade.reconfigureStrategy(...request.args).then(() => null);
    case 'engageKillSwitch':
      return facade.engageKillSwitch(...request.args);
    case 'releaseKillSwitch':
      return facade.releaseKillSwitch(...request.args);
    case 'injectFault':
      return facade.injectFault(...request.args);
    default:
      return performForHost(host, request);
  }
}

/** The requests the host answers (not the facade). */
type HostRequest = Extract<
  Request,
  {
    method:
      | 'setFeedPaused'
      | 'metricsText'
      | 'metricsJson'
      | 'generatedAdmin'
      | 'mlList'
      | 'mlSummary'
      | 'mlPromote'
      | 'mlRollback'
      | 'mlStatus'
      | 'mlStartRetraining';
  }
>;

/** Carries out one of the host's requests (refused when this end serves none, an ML one when ML is off). */
async function performForHost(host: HostEnd | undefined, request: HostRequest): Promise<unknown> {
  if (host === undefined) throw new Error(`${request.method}: this end serves no host readings`);
  const ml = (): MlControl => {
    if (host.ml === undefined) throw new Error(`${request.method}: ML is off in this process (TROUPE_ML=off)`);
    return host.ml;
  };
  switch (request.method) {
    case 'setFeedPaused':
      if (host.feedControl === undefined) throw new Error('setFeedPaused: the feed cannot be paused');
      host.feedControl.setPaused(request.args[0]);
      return null;
    case 'metricsText':
      return host.metricsText();
    case 'metricsJson':
      return host.metricsJson();
    case 'generatedAdmin':
      host.onGeneratedAdmin(...request.args);
      return null;
    case 'mlList':
      return ml().list();
    case 'mlSummary':
      return ml().summary(...request.args);
    case 'mlPromote':
      return ml().promote(...request.args);
    case 'mlRollback':
      return ml().rollback();
    case 'mlStatus':
      return ml().status();
    case 'mlStartRetraining':
      await ml().startRetraining();
      return null;
  }
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
