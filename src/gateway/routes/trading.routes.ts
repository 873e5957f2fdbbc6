import { gzipSync } from 'node:zlib';
import { Type } from 'typebox';
import {
  clientOrderIdFor,
  isTerminal,
  marketValuePaise,
  positionAveragePricePaise,
  summarisePortfolio,
  unrealisedPaise,
  type Instrument,
  type Order,
  type OrderIntent,
  type PortfolioState,
} from '../../model/index.js';
import { JOURNAL_CONFIRM_TIMEOUT_MS, RuntimeUnavailable } from '../../runtime/facade.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError, unavailable } from '../errors.js';
import { IdParams, InstrumentSchema, PlaceOrderBody, PlaceOrderResponse, PortfolioPositionsSchema, PositionsResponse } from '../schemas.js';
import { API_ERRORS, routeGroup, routesOf } from './declare-routes.js';

const portfolioRoute = routeGroup('portfolio', API_ERRORS);
const orderRoute = routeGroup('orders', API_ERRORS);
const adminRoute = routeGroup('admin', API_ERRORS);
const marketRoute = routeGroup('market', API_ERRORS);

function portfolioView(state: PortfolioState) {
  return {
    portfolioId: state.portfolioId,
    summary: summarisePortfolio(state),
    positions: Object.values(state.positions).map((position) => ({
      symbol: position.symbol,
      product: position.product,
      netQuantity: position.netQuantity,
      averagePricePaise: positionAveragePricePaise(position),
      lastPricePaise: position.lastPricePaise,
      costPaise: position.costPaise,
      marketValuePaise: marketValuePaise(position),
      realisedPaise: position.realisedPaise,
      unrealisedPaise: unrealisedPaise(position),
      chargesPaise: position.chargesPaise,
      buyQuantity: position.buyQuantity,
      sellQuantity: position.sellQuantity,
    })),
  };
}

/**
 * The serialised positions body and what it was made from: each portfolio's state (a live view
 * its actor updates in place) and that state's version (`Runtime.portfolioVersion`, which goes up
 * on every fill and every mark that moves a position). The gzipped body is made on first demand,
 * once per body.
 */
export class PositionsBodyCache {
  /** state, version, state, version, … of the body kept */
  private fingerprint: unknown[] = [];
  private raw: Buffer = Buffer.alloc(0);
  private compressed: Buffer | undefined;

  /** Whether the body kept was made from exactly these states, at these versions. */
  isCurrent(states: readonly PortfolioState[], versionOf: (portfolioId: string) => number): boolean {
    const print = this.fingerprint;
    if (print.length === 0 || print.length !== states.length * 2) return false;
    for (let i = 0; i < states.length; i += 1) {
      const state = states[i]!;
      if (print[2 * i] !== state || print[2 * i + 1] !== versionOf(state.portfolioId)) return false;
    }
    return true;
  }

  /** Keeps `body` as the one made from `states` at their current versions. */
  store(states: readonly PortfolioState[], versionOf: (portfolioId: string) => number, body: Buffer): void {
    this.fingerprint = states.flatMap((state) => [state, versionOf(state.portfolioId)]);
    this.raw = body;
    this.compressed = undefined;
  }

  body(): Buffer {
    return this.raw;
  }

  gzipped(): Buffer {
    this.compressed ??= gzipSync(this.raw, { level: 6 });
    return this.compressed;
  }
}

/**
 * Whether an Accept-Encoding header accepts gzip, as `@fastify/accept-negotiator` would choose
 * between gzip and identity: gzip listed with a quality above 0, or not listed while `*` is
 * (RFC 9110 §12.5.3). A quality of 0, or one that is not a number, refuses it.
 */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  const lower = header.toLowerCase();
  // the common answers without splitting: no header mention of gzip or of "any"
  if (!lower.includes('gzip') && !lower.includes('*')) return false;
  let wildcard = false;
  for (const part of lower.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim();
    if (coding !== 'gzip' && coding !== '*') continue;
    const quality = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    const accepted = quality === undefined || Number(quality.slice(2)) > 0;
    if (coding === 'gzip') return accepted;
    wildcard = accepted;
  }
  return wildcard;
}

/** A runtime that cannot answer yet (an actor not running) is a 503 `not-ready`; anything else goes on. */
function notReady(error: unknown): never {
  if (error instanceof RuntimeUnavailable) throw new ApiError(error.reason === 'not-found' ? 404 : 503, error.reason, error.message);
  throw error;
}

/** The session's instruments by symbol. */
function instrumentsBySymbol(ctx: GatewayContext): Map<string, Instrument> {
  return new Map(ctx.runtime.description.instruments.map((instrument) => [instrument.symbol, instrument]));
}

/** Positions, portfolios, placing and cancelling orders, instruments, kill switch (the record: `history.routes.ts`; strategies: `strategy.routes.ts`). */
export const tradingRoutes = routesOf(portfolioRoutes, orderRoutes, killSwitchRoute, instrumentRoutes);

/** Positions (cached, gzipped body) and portfolios with their summaries. */
function portfolioRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;
  const portfolioStates = (): PortfolioState[] => runtime.portfolios().map((reading) => reading.state);

  // The positions body is serialised once per state of the portfolios (by the route's own response
  // serializer) and sent as bytes until a fill or a mark changes something: polling it costs no
  // serialisation. The portfolios' versions tell exactly whether the body is still current.
  const positionsBody = new PositionsBodyCache();
  app.get(
    '/api/v1/positions',
    portfolioRoute('viewer', {
      summary: 'Positions per portfolio with live P&L (marked to the latest price)',
      response: { 200: PositionsResponse },
      errors: [503],
    }),
    async (request, reply) => {
      const readings = runtime.portfolios();
      const all = readings.map((reading) => reading.state);
      const versionOf = (portfolioId: string): number => readings.find((reading) => reading.state.portfolioId === portfolioId)?.version ?? 0;
      if (all.length === 0) throw new ApiError(503, 'not-ready', 'no portfolio has started yet');
      // the cached body holds every portfolio: for a caller who may read all of them (admins, members of all)
      const readable = await ctx.readablePortfolios(request.principal);
      const states = all.filter((state) => readable(state.portfolioId));
      if (states.length !== all.length) return reply.send({ portfolios: states.map(portfolioView) });
      if (!positionsBody.isCurrent(states, versionOf)) {
        const serialize = reply.getSerializationFunction('200') ?? JSON.stringify;
        positionsBody.store(states, versionOf, Buffer.from(serialize({ portfolios: states.map(portfolioView) })));
      }
      void reply.header('content-type', 'application/json; charset=utf-8').header('vary', 'accept-encoding');
      if (acceptsGzip(request.headers['accept-encoding'])) return reply.header('content-encoding', 'gzip').send(positionsBody.gzipped());
      return reply.send(positionsBody.body());
    },
  );

  app.get(
    '/api/v1/portfolios',
    portfolioRoute('viewer', {
      summary: 'Portfolios with their summaries',
      response: {
        200: Type.Object({
          items: Type.Array(
            Type.Object({
              portfolioId: Type.String(),
              initialCashPaise: Type.Integer(),
              fillCount: Type.Integer(),
              summary: PortfolioPositionsSchema.properties.summary,
            }),
          ),
        }),
      },
    }),
    async (request) => {
      const readable = await ctx.readablePortfolios(request.principal);
      return {
        items: portfolioStates()
          .filter((state) => readable(state.portfolioId))
          .map((state) => ({
            portfolioId: state.portfolioId,
            initialCashPaise: state.initialCashPaise,
            fillCount: state.fillCount,
            summary: summarisePortfolio(state),
          })),
      };
    },
  );

  app.get(
    '/api/v1/portfolios/:id',
    portfolioRoute('viewer', { summary: 'One portfolio with positions', params: IdParams, response: { 200: PortfolioPositionsSchema }, errors: [404] }),
    async (request) => {
      const state = portfolioStates().find((candidate) => candidate.portfolioId === request.params.id);
      if (!state) throw new ApiError(404, 'not-found', `no portfolio "${request.params.id}"`);
      await ctx.authorizePortfolio(request, state.portfolioId, 'read', 'portfolio.read', state.portfolioId);
      return portfolioView(state);
    },
  );
}

/** Placing a manual order (through risk, answered once journaled) and cancelling one. */
function orderRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;
  const symbols = instrumentsBySymbol(ctx);
  const sessionOrders = (): Promise<readonly Order[]> => runtime.orders().catch(notReady);

  app.post(
    '/api/v1/orders',
    orderRoute('trader', {
      summary: "Place a manual order; it goes through the same risk checks as a strategy's",
      description:
        "Answers 201 with the client order id once risk approved it and the order is journaled (durable: a stop or a crash that follows does not lose it; the broker's outcome follows on the orders stream), 422 with the risk code (e.g. max-order-value), or 503 when the order journal is unavailable.",
      body: PlaceOrderBody,
      response: { 201: PlaceOrderResponse },
      errors: [422, 503],
    }),
    async (request, reply) => {
      const body = request.body;
      const orderType = body.orderType ?? 'MARKET';
      const problems: { in: string; path: string; message: string }[] = [];
      if (!symbols.has(body.symbol)) problems.push({ in: 'body', path: '/symbol', message: `unknown instrument ${body.symbol}` });
      if ((orderType === 'LIMIT' || orderType === 'SL') && body.limitPricePaise === undefined)
        problems.push({ in: 'body', path: '/limitPricePaise', message: `is required for ${orderType} orders` });
      if ((orderType === 'SL' || orderType === 'SL-M') && body.triggerPricePaise === undefined)
        problems.push({ in: 'body', path: '/triggerPricePaise', message: `is required for ${orderType} orders` });
      const portfolioId = body.portfolioId ?? runtime.description.portfolioIds[0];
      if (portfolioId === undefined || !runtime.description.portfolioIds.includes(portfolioId))
        problems.push({ in: 'body', path: '/portfolioId', message: `unknown portfolio ${body.portfolioId ?? ''}` });
      const first = problems[0];
      if (first || portfolioId === undefined)
        throw new ApiError(400, 'invalid-request', `${first?.in ?? 'body'} ${first?.path ?? ''} ${first?.message ?? 'is invalid'}`, problems);
      await ctx.authorizePortfolio(request, portfolioId, 'act', 'order.place');
      let sequence: number;
      try {
        sequence = await ctx.state.nextManualSequence();
      } catch (error) {
        request.log.error({ err: error }, 'could not number a manual order');
        throw unavailable('the order sequence store is unavailable; nothing was placed, try again');
      }
      const intent: OrderIntent = {
        type: 'order-intent',
        intentId: `manual:${sequence}`,
        strategyId: 'manual',
        portfolioId,
        symbol: body.symbol,
        side: body.side,
        quantity: body.quantity,
        orderType,
        product: body.product ?? 'MIS',
        validity: body.validity ?? 'DAY',
        ...(body.limitPricePaise === undefined ? {} : { limitPricePaise: body.limitPricePaise }),
        ...(body.triggerPricePaise === undefined ? {} : { triggerPricePaise: body.triggerPricePaise }),
        createdAtMs: Date.now(),
        reason: body.reason ?? `manual order by ${request.principal?.name ?? 'unknown'}`,
      };
      const clientOrderId = clientOrderIdFor('manual', sequence);
      // answered only once the order is durable: a 201 is never lost by a stop or a crash that follows
      const submission = await runtime.submitOrder(intent, clientOrderId).catch(notReady);
      const details = { symbol: body.symbol, side: body.side, quantity: body.quantity, orderType };
      if (submission.outcome === 'rejected') {
        ctx.record(request, { action: 'order.place', target: clientOrderId, outcome: 'denied', details: { ...details, code: submission.code } });
        throw new ApiError(422, 'risk-rejected', submission.message, [{ in: 'risk', path: submission.code, message: submission.message }]);
      }
      if (submission.outcome !== 'submitted') {
        ctx.record(request, { action: 'order.place', target: clientOrderId, outcome: 'failed', details: { ...details, reason: submission.outcome } });
        throw unavailable(
          submission.outcome === 'journal-unavailable'
            ? 'the order journal is unavailable: the order was not placed; try again later'
            : `the order was approved but not confirmed as journaled within ${JOURNAL_CONFIRM_TIMEOUT_MS / 1000} s; see GET /api/v1/orders/${clientOrderId} before placing it again`,
        );
      }
      ctx.record(request, { action: 'order.place', target: clientOrderId, outcome: 'ok', details });
      return reply.code(201).send({ clientOrderId: submission.clientOrderId, intentId: intent.intentId, status: 'accepted' as const });
    },
  );

  app.delete(
    '/api/v1/orders/:id',
    orderRoute('trader', {
      summary: 'Cancel an open order (the outcome follows on the orders stream)',
      params: IdParams,
      response: { 202: Type.Object({ clientOrderId: Type.String(), status: Type.Literal('cancel-requested') }) },
      errors: [404, 409],
    }),
    async (request, reply) => {
      const id = request.params.id;
      const order = (await sessionOrders()).find((candidate) => candidate.clientOrderId === id);
      if (!order) {
        ctx.record(request, { action: 'order.cancel', target: id, outcome: 'failed', details: { reason: 'unknown order' } });
        throw new ApiError(404, 'not-found', `no order ${id} in this session`);
      }
      await ctx.authorizePortfolio(request, order.portfolioId, 'act', 'order.cancel', id);
      if (isTerminal(order.status)) {
        ctx.record(request, { action: 'order.cancel', target: id, outcome: 'failed', details: { reason: order.status } });
        throw new ApiError(409, 'conflict', `order ${id} is ${order.status}; only open orders can be cancelled`);
      }
      await runtime.cancelOrder(id, request.principal?.name ?? 'unknown').catch(notReady);
      ctx.record(request, { action: 'order.cancel', target: id, outcome: 'ok' });
      return reply.code(202).send({ clientOrderId: id, status: 'cancel-requested' as const });
    },
  );
}

/** The kill switch: refuse new orders, cancel open ones, pause every strategy. */
function killSwitchRoute(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;
  app.post(
    '/api/v1/kill-switch',
    adminRoute('admin', {
      summary:
        'Kill switch: stop trading now. The risk manager refuses every new order (manual ones too) and cancels open ones, every strategy is paused; GET /api/v1/halts shows it until POST /api/v1/risk/kill-switch/reset',
      body: Type.Union(
        [
          Type.Null(),
          Type.Object(
            { reason: Type.Optional(Type.String({ maxLength: 200, description: 'why, for the halt banner and the audit log' })) },
            { additionalProperties: false },
          ),
        ],
        { description: 'optional' },
      ),
      response: {
        200: Type.Object({
          engaged: Type.Boolean({ description: 'false when the kill switch was already tripped (its first reason stays)' }),
          paused: Type.Array(Type.String()),
        }),
      },
    }),
    async (request) => {
      const who = request.principal?.name ?? 'anonymous';
      const reason = request.body?.reason ?? '';
      const engaged = await runtime.engageKillSwitch(who, reason).catch(notReady);
      const paused = [...(await runtime.pauseStrategies(await runtime.strategyIds()))];
      for (const id of paused) {
        ctx.paused.add(id);
        if (ctx.strategyStates.get(id) !== 'stopped') ctx.strategyStates.set(id, 'paused');
      }
      // pausing never waits for the database; recording it for the next start is best effort (logged)
      await Promise.all(
        paused.map(async (id) => {
          const state = ctx.strategyStates.get(id) ?? 'paused';
          const spec = await runtime.strategySpec(id);
          try {
            if (!(await ctx.state.setStrategyState(id, state)) && spec) {
              await ctx.state.saveStrategy({
                strategyId: id,
                kind: spec.kind,
                portfolioId: spec.portfolioId ?? runtime.description.portfolioIds[0] ?? '',
                config: (spec.config ?? {}) as Record<string, unknown>,
                state,
              });
            }
          } catch (error) {
            app.log.error({ err: error, strategyId: id }, 'kill switch: the pause is in effect but could not be stored for the next start');
          }
        }),
      );
      ctx.record(request, { action: 'kill-switch.engage', outcome: 'ok', details: { paused, engaged, ...(reason === '' ? {} : { reason }) } });
      return { engaged, paused };
    },
  );
}

/** Instruments with their last price. */
function instrumentRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { runtime } = ctx;
  const symbols = instrumentsBySymbol(ctx);
  const instrumentView = (symbol: string, quotes: ReadonlyMap<string, { readonly ltpPaise: number }>) => {
    const instrument = symbols.get(symbol);
    if (!instrument) throw new ApiError(404, 'not-found', `no instrument ${symbol}`);
    return { ...instrument, lastPricePaise: quotes.get(symbol)?.ltpPaise ?? null };
  };
  const quotesNow = () => new Map(runtime.quotes().map((quote) => [quote.symbol, quote]));
  app.get(
    '/api/v1/instruments',
    marketRoute('viewer', { summary: 'Instruments with their last price', response: { 200: Type.Object({ items: Type.Array(InstrumentSchema) }) } }),
    () => {
      const quotes = quotesNow();
      return { items: [...symbols.keys()].map((symbol) => instrumentView(symbol, quotes)) };
    },
  );
  app.get(
    '/api/v1/instruments/:symbol',
    marketRoute('viewer', {
      summary: 'One instrument',
      params: Type.Object({ symbol: Type.String({ minLength: 1, maxLength: 40 }) }),
      response: { 200: InstrumentSchema },
      errors: [404],
    }),
    (request) => instrumentView(request.params.symbol, quotesNow()),
  );
}
