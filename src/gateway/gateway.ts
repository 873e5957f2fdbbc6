import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import fastifyJwt from '@fastify/jwt';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/config.js';
import { summarisePortfolio } from '../model/index.js';
import type { Logger } from '../observability/logger.js';
import type { RuntimeFacade } from '../runtime/facade.js';
import { AuditLog, InMemoryAuditStore } from './audit-log.js';
import type { AuditStore } from '../persistence/audit-store.types.js';
import { AuthError, AuthService, type AccessClaims, type Principal } from './auth/auth-service.js';
import { roleAtLeast, type AuthStore } from '../persistence/auth-store.types.js';
import { InMemoryAuthStore } from './auth/in-memory-auth-store.js';
import { randomSecret } from './auth/passwords.js';
import type { SecretBox } from '../config/secret-box.js';
import type { Access, FeedControl, FeedState, GatewayContext, GatewayInstance, PersistenceState } from './context.js';
import { InMemoryGatewayStateStore } from './gateway-state-store.js';
import type { GatewayStateStore } from '../persistence/gateway-state-store.types.js';
import { ApiError, envelope, ErrorEnvelope, installErrorHandling } from './errors.js';
import { bodyTypeProblems, SECURITY_HEADERS } from './hardening.js';
import { redisRateLimitStore } from './rate-limit-store.js';
import { CredentialLimiter, DEFAULT_CREDENTIAL_LIMITS } from './credential-limiter.js';
import { authRoutes } from './routes/auth.routes.js';
import { memberRoutes } from './routes/members.routes.js';
import { riskRoutes } from './routes/risk.routes.js';
import { strategyRoutes } from './routes/strategy.routes.js';
import { systemRoutes } from './routes/system.routes.js';
import { haltBoard } from './halts.js';
import { haltRoutes } from './routes/halts.routes.js';
import { historyRoutes } from './routes/history.routes.js';
import type { HistoryQueries } from '../persistence/history-queries.js';
import { SessionHistory } from './session-history.js';
import { deskRoutes, type DeskSources } from './routes/desk.routes.js';
import { mlRoutes } from './routes/ml.routes.js';
import type { MlControl } from '../runtime/ml-service.js';
import { registryExposition, type MetricsExposition } from '../observability/metrics-merge.js';
import { tradingRoutes } from './routes/trading.routes.js';
import { uiRoutes } from './routes/ui.routes.js';
import { SNAPSHOT_ORDERS, SessionStore } from './session-store.js';
import { StreamHub, type StreamHubOptions } from './stream/hub.js';
import { streamRoute } from './stream/stream.route.js';
import { HSTS_HEADER, TLS_MIN_VERSION, type TlsMaterial } from './tls.js';
import { LOG_DATASETS } from '../observability/log-fields.js';

/** Orders in a WebSocket snapshot of `orders`: the most recently changed ones. */

/** Re-exported for callers of {@link buildGateway}. */
export type { GatewayContext, GatewayInstance } from './context.js';

/** What the gateway needs from the process. */
export interface GatewayDeps {
  /** The runtime's queries and commands (`Runtime.facade`). */
  readonly runtime: RuntimeFacade;
  readonly config: GatewayConfig;
  readonly startedAtMs: number;
  readonly feedState: () => FeedState;
  /** Lets admins pause and resume the feed (`PUT /api/v1/market/feed`); default: none (409). */
  readonly feedControl?: FeedControl;
  /** The stores' state (default: none configured). */
  readonly persistenceState?: () => PersistenceState;
  /** Whether `POST /api/v1/actors/fault` may crash actors (admins only, and only when enabled). */
  readonly allowFaultInjection?: boolean;
  /** Users, refresh tokens, API keys. Default: {@link InMemoryAuthStore} (lost on restart); `npm start` gives `PostgresAuthStore`. */
  readonly authStore?: AuthStore;
  /**
   * API-made strategies and the manual order sequence. Default: {@link InMemoryGatewayStateStore};
   * `npm start` gives `PostgresGatewayStateStore` (and re-creates the stored strategies before the gateway starts).
   */
  readonly stateStore?: GatewayStateStore;
  /**
   * Seals TOTP secrets at rest (AES-256-GCM). Default: a random key per process, which only suits
   * the in-memory store; `npm start` gives the key of `TROUPE_SECRET_KEY` or of the key file.
   */
  readonly secretBox?: SecretBox;
  /** Where audit entries go. Default: {@link InMemoryAuditStore} (a ring of `auditCapacity`); `npm start` gives `PostgresAuditStore`. */
  readonly auditStore?: AuditStore;
  /**
   * Redis (an ioredis client, e.g. `RedisKeyValueStore.client`) for the rate-limit counters, so
   * several gateway processes share each client's budget. Default: counters in this process.
   */
  readonly rateLimitRedis?: Pick<Redis, 'eval'>;
  /** Stored bars and durable fills for the desk's charts and analytics (`npm start`: the database); without it those routes answer 503. */
  readonly desk?: DeskSources;
  /** The built dashboard served at `/` (default `ui/dist` of this checkout). */
  readonly uiDir?: string;
  /**
   * The trading record the history routes read (orders, trades, risk alerts, strategy books).
   * Default: {@link SessionHistory} (what this process saw); `npm start` gives `SqlHistory` over
   * the database, so the record survives restarts.
   */
  readonly history?: HistoryQueries;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Serve HTTPS with this certificate and key (`loadTls`): TLS 1.3 minimum, HSTS on every response. Default: plain HTTP. */
  readonly tls?: TlsMaterial;
  /** Overrides of the stream hub (tests use short heartbeats and small buffers). */
  readonly stream?: Partial<Omit<StreamHubOptions, 'snapshot' | 'knownSymbol' | 'metrics'>>;
  /** Audit ring size of the default in-memory audit store (default 10,000). */
  readonly auditCapacity?: number;
  /**
   * Told when the first admin was created with a generated password, to show it once on a
   * terminal. The password never goes to the log; without this callback it is written to stderr.
   */
  readonly onGeneratedAdmin?: (username: string, password: string) => void;
  /** The ML service (registry, actor, retraining) behind `/api/v1/ml/*`; absent: those routes answer 409 (ML off). */
  readonly ml?: MlControl | undefined;
  /** What the metric routes read. Default: the runtime's registry; a gateway worker gives both threads' merged. */
  readonly metricsExposition?: MetricsExposition;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gateway's shared state: auth, audit, session store, stream hub. */
    troupe: GatewayContext;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: AccessClaims;
    user: AccessClaims;
  }
}

/** Why a caller may not use a route of this access (undefined: they may). */
function accessFailure(access: Exclude<Access, 'public'>, principal: Principal | null, failure: AuthError | undefined): ApiError | undefined {
  if (failure) return new ApiError(401, 'invalid-token', failure.message, undefined, { 'www-authenticate': 'Bearer' });
  if (!principal)
    return new ApiError(
      401,
      'unauthenticated',
      'log in (POST /api/v1/auth/login) and send "Authorization: Bearer <token>", or send an X-API-Key header',
      undefined,
      { 'www-authenticate': 'Bearer' },
    );
  if (!roleAtLeast(principal.role, access)) return new ApiError(403, 'forbidden', `this needs the ${access} role; ${principal.name} is a ${principal.role}`);
  return undefined;
}

/** Who may call the request's route: its `access` config; unconfigured routes are admin-only, except the OpenAPI docs. */
function routeAccess(request: FastifyRequest): Access {
  const options = request.routeOptions;
  return options.config.access ?? (options.url === undefined || options.url.startsWith('/api/v1/docs') ? 'public' : 'admin');
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const [scheme, token] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
}

/**
 * Builds the gateway (not listening): REST under `/api/v1`, WebSocket `/api/v1/stream`,
 * `/metrics`, OpenAPI at `/api/v1/docs`. Creates the first admin when the store has no
 * users (printing a generated password once to the log when none was configured).
 */
export async function buildGateway(deps: GatewayDeps): Promise<GatewayInstance> {
  const { runtime, config } = deps;
  const { app, dashboard } = createApp(deps);

  const jwtSecret = config.jwtSecret ?? randomSecret(48);
  if (!config.jwtSecret) app.log.warn('TROUPE_JWT_SECRET is not set: access tokens are signed with a random per-process secret');
  await app.register(fastifyJwt, { secret: jwtSecret, sign: { expiresIn: config.accessTokenTtlSec } });

  const metrics = runtime.metrics;
  const symbols = new Set(runtime.description.instruments.map((instrument) => instrument.symbol));
  const audit = new AuditLog(deps.auditStore ?? new InMemoryAuditStore(deps.auditCapacity ?? 10_000), {
    onAppend: (entry) => metrics.auditEntries.inc({ action: entry.action }),
    onError: (error, pending) => app.log.error({ err: error, pending }, 'could not write the audit log; entries are kept and retried'),
    onDropped: (dropped) => app.log.error({ dropped }, 'audit backlog full: the oldest unwritten entries were dropped'),
  });
  const auth = new AuthService(
    deps.authStore ?? new InMemoryAuthStore(),
    { sign: (payload) => app.jwt.sign(payload), verify: (token) => app.jwt.verify<AccessClaims & { readonly exp?: unknown }>(token) },
    {
      accessTokenTtlSec: config.accessTokenTtlSec,
      refreshTokenTtlSec: config.refreshTokenTtlSec,
      ...(deps.secretBox ? { secretBox: deps.secretBox } : {}),
      ...(config.maxApiKeysPerUser === undefined ? {} : { maxApiKeysPerUser: config.maxApiKeysPerUser }),
    },
  );
  const session = new SessionStore();
  const hub = new StreamHub({
    heartbeatMs: config.wsHeartbeatMs,
    ...deps.stream,
    metrics,
    knownSymbol: (symbol) => symbols.has(symbol),
    snapshot: (topics) => streamSnapshot(runtime, session, topics),
  });
  const ctx: GatewayContext = {
    runtime,
    config,
    startedAtMs: deps.startedAtMs,
    allowFaultInjection: deps.allowFaultInjection ?? false,
    feedState: deps.feedState,
    ml: deps.ml,
    metricsExposition: deps.metricsExposition ?? registryExposition(runtime.metrics),
    feedControl: deps.feedControl,
    persistenceState: deps.persistenceState ?? (() => ({ journal: 'not configured', redis: 'not configured' })),
    auth,
    audit,
    session,
    history: deps.history ?? new SessionHistory(runtime),
    hub,
    paused: new Set(),
    strategyStates: new Map(),
    state: deps.stateStore ?? new InMemoryGatewayStateStore(),
    halts: haltBoard(runtime, {
      feedState: deps.feedState,
      persistenceState: deps.persistenceState ?? (() => ({ journal: 'not configured', redis: 'not configured' })),
    }),
    record(request, entry) {
      audit.append({ actor: entry.actor ?? request.principal?.name ?? 'anonymous', ip: request.ip, ...entry });
    },
    async authorizePortfolio(request, portfolioId, right, action, target) {
      const principal = request.principal;
      if (principal && (await auth.mayOnPortfolio(principal, portfolioId, right))) return;
      ctx.record(request, {
        action,
        ...(target === undefined ? {} : { target }),
        outcome: 'denied',
        details: { portfolioId, reason: `not allowed to ${right} portfolio ${portfolioId}` },
      });
      throw new ApiError(
        403,
        'forbidden',
        `${principal?.name ?? 'the caller'} may not ${right === 'act' ? 'act on' : 'read'} portfolio "${portfolioId}" (not a ${right === 'act' ? 'trading ' : ''}member; an admin adds members: PUT /api/v1/portfolios/${portfolioId}/members/{userId})`,
      );
    },
    async readablePortfolios(principal) {
      if (principal?.role === 'admin') return () => true;
      if (!principal) return () => false;
      const memberships = await auth.memberships(principal.userId);
      return (portfolioId) => memberships.has(portfolioId);
    },
  };
  app.decorate('troupe', ctx);
  await restoreStrategyStates(ctx);
  app.decorateRequest('principal', null);
  metrics.bindGateway({
    wsClients: () => hub.clients,
    activeApiKeys: () => activeKeys,
    pausedStrategies: () => ctx.paused.size,
  });
  let activeKeys = 0;
  const countKeys = async (): Promise<void> => {
    activeKeys = (await auth.store.listApiKeys()).filter((key) => key.revokedAtMs === undefined).length;
  };
  relayRuntime(app, ctx, deps.stream?.quoteIntervalMs ?? 250);

  installAuthentication(app, auth);

  await installLimits(app, deps, ctx, countKeys);
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await registerApiDocs(app);

  await registerRoutes(app, ctx, deps);
  dashboard.fallback = await uiRoutes(app, deps.uiDir ?? fileURLToPath(new URL('../../ui/dist/', import.meta.url)));

  await bootstrapAdmin(app, ctx, deps);
  const sealed = await auth.prepare();
  if (sealed > 0) app.log.info({ sealed }, 'encrypted TOTP secrets that were stored in clear');
  await app.ready();
  return app;
}

/** The state each stream topic's events change, as of the snapshot's seq (bounded: recent orders and alerts). */
function streamSnapshot(runtime: RuntimeFacade, session: SessionStore, topics: readonly string[]): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  let quotesNow: Map<string, unknown> | undefined;
  const portfolios = runtime.portfolios().map(({ state }) => ({ portfolioId: state.portfolioId, state }));
  for (const topic of topics) {
    if (topic === 'orders') data.orders = session.recentOrders(SNAPSHOT_ORDERS);
    else if (topic === 'positions') data.positions = portfolios.map(({ portfolioId, state }) => ({ portfolioId, positions: Object.values(state.positions) }));
    else if (topic === 'pnl') data.pnl = portfolios.map(({ portfolioId, state }) => ({ portfolioId, summary: summarisePortfolio(state) }));
    else if (topic === 'actors') data.actors = runtime.actors().tree;
    else if (topic === 'risk-alerts') data['risk-alerts'] = session.recentRiskAlerts();
    else if (topic.startsWith('quotes:')) {
      const symbol = topic.slice('quotes:'.length);
      const quotes = (data.quotes ??= {}) as Record<string, unknown>;
      quotesNow ??= new Map(runtime.quotes().map((quote) => [quote.symbol, quote]));
      quotes[symbol] = quotesNow.get(symbol) ?? null;
    }
  }
  return data;
}

/** Strategies the API paused or stopped stay so after a restart. */
async function restoreStrategyStates(ctx: GatewayContext): Promise<void> {
  const running = new Set(await ctx.runtime.strategyIds());
  for (const stored of await ctx.state.loadStrategies()) {
    if (!running.has(stored.strategyId)) continue;
    ctx.strategyStates.set(stored.strategyId, stored.state);
    if (stored.state !== 'started') {
      await ctx.runtime.pauseStrategies([stored.strategyId]);
      ctx.paused.add(stored.strategyId);
    }
  }
}

/** OpenAPI (from the route schemas) and its browser at `/api/v1/docs`. */
async function registerApiDocs(app: GatewayInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Troupe gateway',
        version: '1.0.0',
        description: 'REST API of the Troupe trading runtime. Amounts are integer paise. Errors: { error: { code, message, details? } }.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/v1/docs' });
}

/** Every route group, each a function of its own (routes/*.routes.ts). */
async function registerRoutes(app: GatewayInstance, ctx: GatewayContext, deps: GatewayDeps): Promise<void> {
  await authRoutes(app, ctx);
  await memberRoutes(app, ctx);
  await tradingRoutes(app, ctx);
  await strategyRoutes(app, ctx);
  await systemRoutes(app, ctx);
  await riskRoutes(app, ctx);
  await haltRoutes(app, ctx);
  await historyRoutes(app, ctx);
  await deskRoutes(app, ctx, deps.desk);
  await mlRoutes(app, ctx);
  await streamRoute(app, ctx);
}

/** The Fastify instance with the hooks every response goes through (errors, security headers, access log, body types). */
function createApp(deps: GatewayDeps): {
  app: GatewayInstance;
  dashboard: { fallback?: ((request: FastifyRequest, reply: FastifyReply) => boolean) | undefined };
} {
  const { config } = deps;
  // the pino logger, seen as the base logger GatewayInstance is typed with (a widening, not a cast)
  const loggerInstance: FastifyBaseLogger | undefined = deps.logger;
  const app = Fastify({
    ...(loggerInstance ? { loggerInstance } : { logger: false }),
    // the tree trades (and the embedded PGlite runs on this thread) while the plugins register: on a
    // loaded machine Fastify's default 10 s stopped start-up ("Plugin did not start in time: @fastify/swagger-ui")
    pluginTimeout: 60_000,
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: TLS_MIN_VERSION } } : {}),
    // every request's log lines carry its id as the ECS trace id (random, W3C trace-id shaped)
    genReqId: () => randomBytes(16).toString('hex'),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'trace.id' }),
    bodyLimit: 64 * 1024,
    // malformed URLs (bad percent-encoding) never reach the router: answer them in the envelope too
    frameworkErrors: (error: Error, _request: FastifyRequest, reply: FastifyReply) => {
      void reply.headers(SECURITY_HEADERS).code(400).send(envelope('bad-request', error.message));
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const dashboard: { fallback?: ((request: FastifyRequest, reply: FastifyReply) => boolean) | undefined } = {};
  installErrorHandling(app, { fallback: (request, reply) => dashboard.fallback?.(request, reply) ?? false });
  // routes outside the API (the dashboard's files) are public and not rate limited
  app.addHook('onRoute', (route) => {
    if (route.config?.access !== undefined || route.url.startsWith('/api/') || route.url === '/metrics') return;
    route.config = { ...route.config, access: 'public', rateLimit: false };
  });
  app.addSchema(ErrorEnvelope);
  // security headers on every response (API, errors, dashboard, docs, metrics): see hardening.ts
  const hsts = deps.tls !== undefined;
  app.addHook('onSend', (_request, reply, payload, done) => {
    void reply.headers(SECURITY_HEADERS);
    if (hsts) void reply.header('strict-transport-security', HSTS_HEADER);
    done(null, payload);
  });
  // the access log: one line per request (info with TROUPE_ACCESS_LOG, else debug); the path without
  // its query string, which may carry a token
  const accessLevel = config.accessLog === true ? 'info' : 'debug';
  app.addHook('onResponse', (request, reply, done) => {
    const query = request.url.indexOf('?');
    request.log[accessLevel](
      {
        'event.dataset': LOG_DATASETS.access,
        'http.request.method': request.method,
        'url.path': query === -1 ? request.url : request.url.slice(0, query),
        'http.response.status_code': reply.statusCode,
        'event.duration': Math.round(reply.elapsedTime * 1e6),
        'client.ip': request.ip,
      },
      'request completed',
    );
    done();
  });
  // a JSON body's values must have their schema's types as sent: ajv's coercion is for query strings and params
  app.addHook('preValidation', (request, _reply, done) => {
    const schema = request.routeOptions.schema?.body;
    const problems = schema === undefined || request.body === undefined ? [] : bodyTypeProblems(schema, request.body);
    const first = problems[0];
    if (first === undefined) return done();
    done(new ApiError(400, 'invalid-request', `body ${first.path} ${first.message}`, problems.slice(0, 20)));
  });

  return { app, dashboard };
}

/** Domain and actor events → the session store and the streams; quotes sampled from the runtime. */
function relayRuntime(app: GatewayInstance, ctx: GatewayContext, quoteIntervalMs: number): void {
  const { runtime, session, hub, audit } = ctx;
  // domain events → session store and streams
  const unsubscribe = [
    runtime.onEvent('OrderSubmitted', (event) => {
      session.updateOrder(event.order);
      hub.publish('orders', event.order.clientOrderId, { event: 'submitted', order: event.order });
    }),
    runtime.onEvent('OrderUpdated', (event) => {
      session.updateOrder(event.order);
      hub.publish('orders', event.order.clientOrderId, { event: 'updated', order: event.order });
    }),
    runtime.onEvent('OrderFilled', (event) => {
      if (ctx.history instanceof SessionHistory) ctx.history.addFill(event.fill);
      session.updateOrder(event.order);
      hub.publish('orders', event.order.clientOrderId, { event: 'filled', order: event.order, fill: event.fill });
    }),
    runtime.onEvent('PositionChanged', (event) => {
      hub.publish('positions', `${event.portfolioId}:${event.position.symbol}:${event.position.product}`, {
        portfolioId: event.portfolioId,
        position: event.position,
      });
      hub.publish('pnl', event.portfolioId, { portfolioId: event.portfolioId, summary: event.summary });
    }),
    runtime.onEvent('RiskAlert', (event) => {
      session.addRiskAlert(event);
      if (ctx.history instanceof SessionHistory) ctx.history.addAlert(event);
      hub.publish('risk-alerts', event.code, event);
    }),
    runtime.onActorEvent(({ type, path, ...rest }) => hub.publish('actors', path, { event: type, path, ...rest })),
  ];
  // quotes: the market cache, sampled (latest wins per symbol)
  const quoteSampler = setInterval(() => {
    for (const quote of runtime.quotes()) hub.offerQuote(quote.symbol, quote);
  }, quoteIntervalMs);
  quoteSampler.unref();
  app.addHook('onClose', async () => {
    clearInterval(quoteSampler);
    ctx.halts.close();
    for (const off of unsubscribe) off();
    hub.close();
    await audit.flush();
  });
}

/** Who calls: a Bearer access token or an X-API-Key, checked against the route's access rule. */
function installAuthentication(app: GatewayInstance, auth: AuthService): void {
  // authentication: Bearer access token or X-API-Key, and the route's access rule. A failure is
  // only noted here: it is answered (401/403) after the rate limiter counted the request (by IP
  // when there is no principal), so guessing credentials is rate-limited like anything else.
  // Callback style with a synchronous fast path (a cached API key, a JWT): no promise and no
  // closure per request (tsx, which `npm start` uses, names every named closure with a
  // defineProperty call: ~0.4 µs per closure made on this machine, 20x a plain one).
  app.decorateRequest('authFailure', null);
  const settleAuth = (request: FastifyRequest, principal: Principal | null, failure: AuthError | undefined): void => {
    request.principal = principal;
    const access = routeAccess(request);
    if (access !== 'public') request.authFailure = accessFailure(access, principal, failure);
  };
  // a principal not in the caches yet: the hook finishes when the store has answered
  const settleLookup = (request: FastifyRequest, done: (error?: Error) => void, lookup: Promise<Principal>): void => {
    lookup.then(
      (found) => {
        settleAuth(request, found, undefined);
        done();
      },
      (error: unknown) => {
        if (!(error instanceof AuthError)) return done(error instanceof Error ? error : new Error(String(error)));
        settleAuth(request, null, error);
        done();
      },
    );
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const apiKey = request.headers['x-api-key'];
    let principal: Principal | null = null;
    try {
      if (typeof apiKey === 'string' && apiKey !== '') {
        const cached = auth.principalFromApiKeyCached(apiKey);
        if (cached === undefined) return settleLookup(request, done, auth.principalFromApiKey(apiKey));
        principal = cached;
      } else {
        const token = bearer(request);
        if (token !== undefined) {
          // the token's user (generation, disabled, gone) from the cache; looked up once a second per user
          const claims = auth.verifyAccessToken(token);
          const cached = auth.principalFromClaimsCached(claims);
          if (cached === undefined) return settleLookup(request, done, auth.principalFromClaims(claims));
          principal = cached;
        }
      }
    } catch (error) {
      if (!(error instanceof AuthError)) return done(error instanceof Error ? error : new Error(String(error)));
      settleAuth(request, null, error);
      return done();
    }
    settleAuth(request, principal, undefined);
    done();
  });
}

/** Request metrics, the rate limits (per principal, per credential endpoint) and the access check after them. */
async function installLimits(app: GatewayInstance, deps: GatewayDeps, ctx: GatewayContext, countKeys: () => Promise<void>): Promise<void> {
  const { config } = deps;
  const metrics = ctx.runtime.metrics;
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // request metrics (route pattern, never the raw URL); the active-key gauge after key changes
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequestSeconds.observe(labels, reply.elapsedTime / 1000);
    metrics.httpRequests.inc(labels);
    if (reply.statusCode === 429) metrics.rateLimited.inc();
    // closing: a keep-alive connection whose last request just finished would hold the close for its idle timeout
    if (closing) app.server.closeIdleConnections();
    // the gauge is refreshed on the next change when the store is unavailable now
    if (request.method !== 'GET' && route.includes('api-keys'))
      countKeys().then(
        () => done(),
        () => done(),
      );
    else done();
  });

  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'onRequest',
    timeWindow: 60_000,
    cache: 50_000,
    enableDraftSpec: true,
    // credential routes count by IP whoever the caller claims to be (an API key's limit does not apply)
    keyGenerator: (request) => (request.routeOptions.config.credential === undefined ? request.principal?.rateKey : undefined) ?? `ip:${request.ip}`,
    max: (request) => {
      const principal = request.principal;
      if (!principal || request.routeOptions.config.credential !== undefined) return config.rateLimitPerMinute;
      if (typeof principal.rateLimitPerMinute === 'number') return principal.rateLimitPerMinute;
      return config.rateLimitPerRole[principal.role] ?? config.rateLimitPerMinute;
    },
    allowList: (request) => request.principal?.rateLimitPerMinute === null && request.routeOptions.config.credential === undefined,
    // shared counters in Redis when given; if Redis fails, requests pass (and it is logged) rather than fail
    ...(deps.rateLimitRedis
      ? {
          // logged when the counters go and when they are back (state changes), not on every request
          store: redisRateLimitStore(
            deps.rateLimitRedis,
            'ratelimit:',
            (error) => app.log.warn({ err: error }, 'rate-limit counters in Redis are unavailable: requests are not limited meanwhile'),
            () => app.log.info('rate-limit counters in Redis work again: requests are limited'),
          ),
          skipOnError: true,
        }
      : {}),
    errorResponseBuilder: (_request, context) =>
      new ApiError(429, 'rate-limited', `more than ${context.max} requests in a minute; retry in ${context.after}`, undefined, {
        'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))),
      }),
  });
  // credential endpoints: per IP and per user name on every attempt, after the body is parsed
  let lastRedisWarnMs = 0; // at most one warning in 10 s while Redis fails
  const credentialLimiter = new CredentialLimiter(config.credentialRateLimit ?? DEFAULT_CREDENTIAL_LIMITS, deps.rateLimitRedis, (error) => {
    if (Date.now() - lastRedisWarnMs < 10_000) return;
    lastRedisWarnMs = Date.now();
    app.log.warn({ err: error }, 'credential rate-limit counters in Redis are unavailable: counting in this process meanwhile');
  });
  app.addHook('preHandler', async (request) => {
    const credential = request.routeOptions.config.credential;
    if (credential === undefined) return;
    const body = request.body as { readonly username?: unknown } | undefined;
    const username =
      credential === 'login'
        ? typeof body?.username === 'string'
          ? body.username
          : undefined
        : request.principal?.kind === 'user'
          ? request.principal.name.slice('user:'.length)
          : undefined;
    const verdict = await credentialLimiter.attempt(request.ip, username);
    if (verdict.allowed) return;
    metrics.rateLimited.inc();
    ctx.record(request, {
      ...(username === undefined ? {} : { actor: `user:${username}` }),
      action: `auth.${credential}`,
      outcome: 'denied',
      details: { reason: 'rate-limited', by: verdict.limitedBy },
    });
    throw new ApiError(
      429,
      'rate-limited',
      `too many ${credential} attempts from this ${verdict.limitedBy === 'ip' ? 'address' : 'user name'}; retry in ${verdict.retryAfterSec} s`,
      undefined,
      { 'retry-after': String(verdict.retryAfterSec) },
    );
  });
  // every route answers an authentication failure once the rate limiter (a route-level onRequest
  // hook that @fastify/rate-limit added just before) has counted the request
  const enforceAccess = (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    const failure = request.authFailure;
    if (failure === null || failure === undefined) return done();
    // a caller known but lacking the role: every such denial is audited (unknown callers are only rate limited)
    if (failure.statusCode === 403)
      ctx.record(request, {
        action: 'access',
        target: `${request.method} ${request.routeOptions.url ?? request.url}`,
        outcome: 'denied',
        details: { reason: failure.message },
      });
    done(failure);
  };
  app.addHook('onRoute', (route) => {
    route.onRequest = [...(route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]), enforceAccess];
  });
}

/** The first admin (from ADMIN_USER/ADMIN_PASSWORD or generated), and an owner for the default portfolio. */
async function bootstrapAdmin(app: GatewayInstance, ctx: GatewayContext, deps: GatewayDeps): Promise<void> {
  const { auth, audit, config, runtime } = ctx;
  let admin: Awaited<ReturnType<AuthService['bootstrapAdmin']>>;
  try {
    admin = await auth.bootstrapAdmin(config.adminUser, config.adminPassword);
  } catch (error) {
    if (error instanceof AuthError && error.code === 'weak-password') throw new Error(`ADMIN_PASSWORD: ${error.message}`);
    throw error;
  }
  if (admin?.generatedPassword !== undefined) {
    // the password goes to the terminal only, never through the (JSON, collected) log
    app.log.warn(
      { username: admin.user.username },
      'created the first admin with a generated password, shown once on the terminal (stderr): change it, or set ADMIN_USER/ADMIN_PASSWORD',
    );
    if (deps.onGeneratedAdmin) deps.onGeneratedAdmin(admin.user.username, admin.generatedPassword);
    else process.stderr.write(`Troupe: created the first admin "${admin.user.username}" with password ${admin.generatedPassword} (shown once)\n`);
  } else if (admin) {
    app.log.info({ username: admin.user.username }, 'created the first admin from ADMIN_USER/ADMIN_PASSWORD');
  }
  if (admin)
    audit.append({
      actor: 'system',
      action: 'user.create',
      target: admin.user.username,
      outcome: 'ok',
      ip: 'local',
      details: { role: 'admin', bootstrap: true },
    });
  // the default portfolio has an owner: the first admin (also on a database from before ownership)
  const defaultPortfolio = runtime.description.portfolioIds[0];
  if (defaultPortfolio !== undefined && (await auth.store.portfolioMembers(defaultPortfolio)).every((member) => member.role !== 'owner')) {
    const owner = admin?.user ?? (await auth.store.listUsers()).find((user) => user.role === 'admin' && !user.disabled);
    if (owner) await auth.setPortfolioMember({ portfolioId: defaultPortfolio, userId: owner.id, role: 'owner' });
  }
}

/** Listens and resolves with the bound port. */
export async function listenGateway(app: GatewayInstance, port: number, host: string): Promise<number> {
  await app.listen({ port, host });
  if (!app.initialConfig.https && !isLoopback(host)) {
    app.log.warn(
      { host },
      'the gateway serves plain HTTP on a non-loopback address: put it behind a TLS-terminating proxy or set TROUPE_TLS_CERT_FILE and TROUPE_TLS_KEY_FILE',
    );
  }
  return (app.server.address() as AddressInfo).port;
}

/** Whether a listen address only accepts connections from this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Says at warn level, once the API listens, when trading starts halted (a kill switch tripped
 * before the restart and still in force, say); returns whether it is halted.
 */
export async function announceHalts(gateway: GatewayInstance, log: Logger, started: string): Promise<boolean> {
  const halts = await gateway.troupe.halts.current();
  const critical = halts.filter((halt) => halt.severity === 'critical');
  for (const halt of halts) log.warn({ halt: halt.kind, sinceMs: halt.sinceMs, release: halt.release?.path ?? null }, `${halt.reason} ${halt.action}`);
  if (critical.length > 0)
    log.warn(
      { halts: critical.map((halt) => halt.kind) },
      `${started} but trading is HALTED (${critical.map((halt) => halt.kind).join(', ')}): no order goes out until released`,
    );
  return critical.length > 0;
}
