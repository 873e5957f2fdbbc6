import { createHash, timingSafeEqual } from 'node:crypto';
import { Type } from 'typebox';
import { summarisePortfolio } from '../../model/index.js';
import { flattenActors } from '../../runtime/facade.js';
import { AuditEntry } from '../../persistence/audit-store.types.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError, unavailable } from '../errors.js';
import { AuditQuery, FaultQuery, Page } from '../schemas.js';
import { API_ERRORS, routeGroup, routesOf } from './declare-routes.js';

const systemRoute = routeGroup('system', API_ERRORS);
const adminRoute = routeGroup('admin', API_ERRORS);
/** Health probes and the Prometheus scrape: public, never rate limited; their answers are their own (no error envelopes). */
const probeRoute = routeGroup('system');
const PROBE = { access: 'public', rateLimit: false } as const;

/** Whether an Authorization header is `Bearer <token>` (compared in constant time, over digests of equal length). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(match[1]!), digest(token));
}

const FeedView = Type.Object({
  pausable: Type.Boolean({ description: 'false when the feed is not ours to stop (Kite)' }),
  paused: Type.Boolean(),
  connected: Type.Boolean(),
  lastTickAgeMs: Type.Union([Type.Integer(), Type.Null()]),
});
const FeedChange = Type.Object({ paused: Type.Boolean() }, { additionalProperties: false });

const HealthResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  uptimeSec: Type.Integer(),
  checks: Type.Object({
    marketData: Type.Object({ ok: Type.Boolean(), lastTickAgeMs: Type.Union([Type.Integer(), Type.Null()]) }),
    actors: Type.Object({ ok: Type.Boolean(), notRunning: Type.Array(Type.String()) }),
    authStore: Type.Object({ ok: Type.Boolean(), kind: Type.String() }),
    streams: Type.Object({ ok: Type.Boolean(), clients: Type.Integer() }),
    persistence: Type.Object({ ok: Type.Boolean(), journal: Type.String(), redis: Type.String() }),
  }),
});

/**
 * Drops gauge families named `*_total` from a Prometheus exposition: `_total` is reserved for
 * counters (`promtool check metrics` flags them). prom-client's Node.js defaults have three
 * (`nodejs_active_{handles,requests,resources}_total`), each the sum of a labelled gauge of
 * the same name without the suffix, which stays.
 */
export function withoutGaugeTotals(text: string): string {
  const drop = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+_total) gauge$/gm)) drop.add(match[1]!);
  if (drop.size === 0) return text;
  return text
    .split('\n')
    .filter((line) => {
      const name = line.startsWith('# ') ? line.split(' ')[2] : line.split(/[ {]/)[0];
      return name === undefined || !drop.has(name);
    })
    .join('\n');
}

/** `/api/v1/health` (every dependency), `/health/live` (the process answers) and `/health/ready` (the API can serve). */
function healthRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;
  /** Every dependency's state; `ready` is what the readiness probe gates on, `ok` what the overall health does. */
  const checkHealth = async () => {
    const feed = ctx.feedState();
    const down = flattenActors(runtime.actors().tree).filter((actor) => actor.status !== 'running');
    let authOk = true;
    try {
      await ctx.auth.store.countUsers();
    } catch {
      authOk = false;
    }
    const stores = ctx.persistenceState();
    const storesOk = stores.journal !== 'down';
    return {
      ok: feed.connected && down.length === 0 && authOk && storesOk,
      // serving the API (log in, read state, trip the kill switch) needs the auth store and the journal;
      // a stalled feed or a stopped actor is degraded trading the API must stay up to deal with
      ready: authOk && storesOk,
      checks: {
        marketData: { ok: feed.connected, lastTickAgeMs: feed.lastTickAgeMs === undefined ? null : Math.round(feed.lastTickAgeMs) },
        actors: { ok: down.length === 0, notRunning: down.map((actor) => actor.path) },
        authStore: { ok: authOk, kind: ctx.auth.store.constructor.name },
        streams: { ok: true, clients: ctx.hub.clients },
        // a degraded Redis is reported but does not stop trading: the durable path carries on
        persistence: { ok: storesOk, journal: stores.journal, redis: stores.redis },
      },
    };
  };
  const uptimeSec = (): number => Math.round((Date.now() - ctx.startedAtMs) / 1000);

  app.get(
    '/api/v1/health',
    probeRoute(PROBE, {
      summary: "Overall health with each dependency's state (503 when anything is degraded, the feed and actors included)",
      response: { 200: HealthResponse, 503: HealthResponse },
    }),
    async (_request, reply) => {
      const health = await checkHealth();
      return reply.code(health.ok ? 200 : 503).send({ status: health.ok ? 'ok' : 'degraded', uptimeSec: uptimeSec(), checks: health.checks });
    },
  );

  app.get(
    '/api/v1/health/live',
    probeRoute(PROBE, {
      summary:
        'Liveness: the process answers HTTP (its event loop turns). Never depends on a store or the feed, so a probe on it restarts only a wedged process',
      response: { 200: Type.Object({ status: Type.Literal('alive'), uptimeSec: Type.Integer() }) },
    }),
    () => ({ status: 'alive' as const, uptimeSec: uptimeSec() }),
  );

  app.get(
    '/api/v1/health/ready',
    probeRoute(PROBE, {
      summary:
        'Readiness: the API can serve (auth store reachable, journal not down); 503 otherwise. A stalled feed or a stopped actor stays ready (see /api/v1/health)',
      response: { 200: HealthResponse, 503: HealthResponse },
    }),
    async (_request, reply) => {
      const health = await checkHealth();
      return reply.code(health.ready ? 200 : 503).send({ status: health.ok ? 'ok' : 'degraded', uptimeSec: uptimeSec(), checks: health.checks });
    },
  );
}

/** Health, metrics (Prometheus text and JSON), actors, fault injection, audit. */
export const systemRoutes = routesOf(healthRoutes, metricsRoutes, actorRoutes, feedRoutes, auditRoutes);

/** Metrics: Prometheus text at /metrics (behind the metrics token when set) and JSON. */
function metricsRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;

  app.get('/metrics', probeRoute(PROBE, { summary: 'Prometheus metrics (text exposition)', produces: ['text/plain'] }), async (request, reply) => {
    // equity and P&L are in there: with TROUPE_METRICS_TOKEN set, only its bearer may read them
    const token = ctx.config.metricsToken;
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      throw new ApiError(401, 'unauthenticated', 'this /metrics needs "Authorization: Bearer <TROUPE_METRICS_TOKEN>"', undefined, {
        'www-authenticate': 'Bearer realm="metrics"',
      });
    }
    const text = withoutGaugeTotals(await ctx.metricsExposition.text());
    return reply.header('content-type', ctx.metricsExposition.contentType).send(text);
  });

  app.get(
    '/api/v1/metrics',
    systemRoute('viewer', {
      summary: 'Business and performance figures as JSON (Troupe metrics, by name and labels)',
      response: { 200: Type.Object({ portfolios: Type.Array(Type.Unknown()), metrics: Type.Record(Type.String(), Type.Unknown()) }) },
    }),
    async () => {
      const all = await ctx.metricsExposition.json();
      const metrics: Record<string, unknown> = {};
      for (const metric of all) {
        if (!metric.name.startsWith('troupe_') || metric.name.startsWith('troupe_process_')) continue;
        metrics[metric.name] = {
          type: metric.type,
          help: metric.help,
          values: metric.values.map((value) => ({
            labels: value.labels,
            value: value.value,
            ...(value.metricName ? { name: value.metricName } : {}),
          })),
        };
      }
      const portfolios = runtime
        .portfolios()
        .map(({ state }) => ({ portfolioId: state.portfolioId, summary: summarisePortfolio(state), fillCount: state.fillCount }));
      return { portfolios, metrics };
    },
  );
}

/** The supervision tree, and crashing an actor on purpose (chaos drills). */
function actorRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;

  app.get(
    '/api/v1/actors',
    systemRoute('viewer', {
      summary: 'The supervision tree with per-actor health',
      response: { 200: Type.Object({ deadLetters: Type.Integer(), tree: Type.Array(Type.Unknown()) }) },
    }),
    () => runtime.actors(),
  );

  app.post(
    '/api/v1/actors/fault',
    adminRoute('admin', {
      summary: 'Crash an actor on purpose (chaos drills; only with TROUPE_ALLOW_FAULT_INJECTION=true)',
      querystring: FaultQuery,
      response: { 202: Type.Object({ injected: Type.String() }) },
      errors: [404],
    }),
    async (request, reply) => {
      if (!ctx.allowFaultInjection) {
        ctx.record(request, { action: 'actor.fault', outcome: 'denied', details: { reason: 'disabled' } });
        throw new ApiError(403, 'fault-injection-disabled', 'set TROUPE_ALLOW_FAULT_INJECTION=true to crash actors on purpose');
      }
      const target = request.query.path;
      if (!target)
        throw new ApiError(400, 'invalid-request', 'give the actor path, e.g. ?path=/market/INFY', [
          { in: 'querystring', path: '/path', message: 'is required' },
        ]);
      if (!(await runtime.injectFault(target))) throw new ApiError(404, 'not-found', `no actor at ${target}`);
      ctx.record(request, { action: 'actor.fault', target, outcome: 'ok' });
      return reply.code(202).send({ injected: target });
    },
  );
}

/** The market-data feed: its state, pausing and resuming the paper market's. */
function feedRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const feedView = () => {
    const feed = ctx.feedState();
    return {
      pausable: ctx.feedControl !== undefined,
      paused: ctx.feedControl?.paused() ?? false,
      connected: feed.connected,
      lastTickAgeMs: feed.lastTickAgeMs === undefined ? null : Math.round(feed.lastTickAgeMs),
    };
  };
  app.get(
    '/api/v1/market/feed',
    systemRoute('viewer', { summary: 'The market-data feed: connected, paused, age of the last tick', response: { 200: FeedView } }),
    () => feedView(),
  );
  app.put(
    '/api/v1/market/feed',
    adminRoute('admin', {
      summary: "Pause or resume the paper market's feed (drills: the stalled-feed alert; ticks while paused are dropped, as in an outage). 409 with Kite",
      body: FeedChange,
      response: { 200: FeedView },
      errors: [409],
    }),
    (request) => {
      const action = request.body.paused ? 'market.feed.pause' : 'market.feed.resume';
      if (!ctx.feedControl) {
        ctx.record(request, { action, outcome: 'denied', details: { reason: 'not pausable' } });
        throw new ApiError(409, 'conflict', "this feed cannot be paused: only the paper market's feed (synthetic or replay) can");
      }
      ctx.feedControl.setPaused(request.body.paused);
      ctx.record(request, { action, outcome: 'ok' });
      request.log.warn(
        { paused: request.body.paused, by: request.principal?.name },
        request.body.paused ? 'market-data feed paused through the API' : 'market-data feed resumed through the API',
      );
      return feedView();
    },
  );
}

/** The audit log, newest first, paged. */
function auditRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  app.get(
    '/api/v1/audit',
    adminRoute('admin', {
      summary: 'Audit log, newest first (the audit_logs table; in memory when the gateway runs without a database)',
      querystring: AuditQuery,
      response: { 200: Page(AuditEntry) },
      errors: [503],
    }),
    async (request) => {
      let beforeSeq: number | undefined;
      if (request.query.cursor !== undefined) {
        beforeSeq = Number(request.query.cursor);
        if (!Number.isSafeInteger(beforeSeq) || beforeSeq <= 0)
          throw new ApiError(400, 'invalid-cursor', 'the cursor is not one this API gave out', [
            { in: 'querystring', path: '/cursor', message: 'is not a valid cursor' },
          ]);
      }
      const limit = request.query.limit ?? 100;
      let items: AuditEntry[];
      try {
        items = await ctx.audit.query({
          ...(request.query.action ? { action: request.query.action } : {}),
          ...(request.query.actor ? { actor: request.query.actor } : {}),
          ...(beforeSeq === undefined ? {} : { beforeSeq }),
          limit: limit + 1,
        });
      } catch (error) {
        request.log.error({ err: error }, 'audit query failed');
        throw unavailable('the audit store is unavailable; try again shortly');
      }
      const page = items.slice(0, limit);
      return { items: page, nextCursor: items.length > limit ? String(page[page.length - 1]!.seq) : null };
    },
  );
}
