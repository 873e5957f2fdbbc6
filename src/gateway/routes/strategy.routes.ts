import { Type } from 'typebox';
import { RuntimeUnavailable, type StrategyStatus } from '../../runtime/facade.js';
import { STRATEGIES, StrategyConfigError, type AnyStrategyDefinition } from '../../strategies/index.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError, unavailable } from '../errors.js';
import type { StoredStrategy, StrategyRunState } from '../../persistence/gateway-state-store.types.js';
import type { Halt } from '../halts.js';
import { CreateStrategyBody, IdParams, StrategyKindSchema, StrategySchema, UpdateStrategyBody } from '../schemas.js';
import { API_ERRORS, routeGroup } from './declare-routes.js';

const strategyRoute = routeGroup('strategies', API_ERRORS);

function kindView(definition: AnyStrategyDefinition) {
  return {
    kind: definition.kind,
    description: definition.description,
    ...(definition.regimes ? { regimes: [...definition.regimes] } : {}),
    configFields: definition.configFields.map(({ options, ...field }) => ({ ...field, ...(options ? { options: [...options] } : {}) })),
  };
}

const definitionOf = (kind: string): AnyStrategyDefinition | undefined => STRATEGIES.find((definition) => definition.kind === kind);

/**
 * What the strategy routes share: the default portfolio, the current critical halt, the stored
 * form of a strategy (written before a change takes effect), config validation, the view.
 */
function strategyTools(app: GatewayInstance, ctx: GatewayContext) {
  const { runtime } = ctx;

  const defaultPortfolio = (): string => runtime.description.portfolioIds[0] ?? '';
  const instrumentSymbols = runtime.description.instruments.map((instrument) => instrument.symbol);
  const knownSymbols = new Set(instrumentSymbols);
  /** The portfolio a strategy trades for (the default one when its spec names none). */
  const portfolioOf = async (strategyId: string): Promise<string> => (await runtime.strategySpec(strategyId))?.portfolioId ?? defaultPortfolio();
  /** The first halt that stops every order (shown on each strategy), asked once per request. */
  const criticalHalt = async (): Promise<Halt | undefined> => (await ctx.halts.current()).find((candidate) => candidate.severity === 'critical');

  /**
   * Makes a change durable before it takes effect (like the journal before an order): when the
   * database refuses, the answer is 503 and nothing changed.
   */
  const persist = async (strategyId: string, write: () => Promise<unknown>): Promise<void> => {
    try {
      await write();
    } catch (error) {
      app.log.error({ err: error, strategyId }, 'could not store a strategy change');
      throw unavailable('the strategy store is unavailable; nothing was changed, try again');
    }
  };

  /** The stored form of a running strategy, with a new config and/or state. */
  const stored = async (
    strategyId: string,
    change: { readonly config?: Readonly<Record<string, unknown>>; readonly state?: StrategyRunState },
  ): Promise<StoredStrategy | undefined> => {
    const spec = await runtime.strategySpec(strategyId);
    if (!spec) return undefined;
    return {
      strategyId,
      kind: spec.kind,
      portfolioId: spec.portfolioId ?? defaultPortfolio(),
      config: change.config ?? ((spec.config ?? {}) as Record<string, unknown>),
      state: change.state ?? ctx.strategyStates.get(strategyId) ?? (ctx.paused.has(strategyId) ? 'paused' : 'started'),
    };
  };

  /** Records a state asked through the API (a row is written for start-up strategies too). */
  const persistState = async (strategyId: string, state: StrategyRunState): Promise<void> => {
    await persist(strategyId, async () => {
      if (await ctx.state.setStrategyState(strategyId, state)) return;
      const record = await stored(strategyId, { state });
      if (record) await ctx.state.saveStrategy(record);
    });
    ctx.strategyStates.set(strategyId, state);
  };

  const view = async (strategyId: string, halt: Halt | undefined) => {
    const status: StrategyStatus = await runtime.strategyStatus(strategyId).catch((error: unknown) => {
      if (error instanceof RuntimeUnavailable) throw new ApiError(404, 'not-found', `no strategy "${strategyId}"`);
      throw error;
    });
    const spec = await runtime.strategySpec(strategyId);
    const definition = definitionOf(status.kind);
    const { tradesIn, pendingIntents, refusedIntents, ...rest } = status;
    const config = definition && spec ? effectiveConfig(definition, spec.config) : undefined;
    return {
      haltedBy: halt ? { kind: halt.kind, reason: halt.reason } : null,
      ...rest,
      pendingIntents: [...pendingIntents],
      refusedIntents: [...refusedIntents],
      ...(tradesIn === undefined ? {} : { tradesIn: [...tradesIn] }),
      state: ctx.strategyStates.get(strategyId) ?? (status.paused ? 'paused' : 'started'),
      portfolioId: spec?.portfolioId ?? defaultPortfolio(),
      config: config ?? {},
      ...(definition && config ? { product: definition.product?.(config) ?? 'MIS' } : {}),
      configFields: definition ? kindView(definition).configFields : [],
    };
  };

  /** The config as the runtime parses it (all instruments when `symbols` is not given). */
  const effectiveConfig = (definition: AnyStrategyDefinition, raw: unknown): Record<string, unknown> => {
    const given = (raw ?? {}) as Record<string, unknown>;
    const withSymbols = given.symbols === undefined ? { ...given, symbols: instrumentSymbols } : given;
    return definition.parseConfig(withSymbols) as Record<string, unknown>;
  };

  /** Validates a config for a kind: 400 with the field's JSON pointer when it does not fit. */
  const validate = (definition: AnyStrategyDefinition, raw: unknown): void => {
    let config: Record<string, unknown>;
    try {
      config = effectiveConfig(definition, raw);
    } catch (error) {
      const field = error instanceof StrategyConfigError ? error.field : '';
      const message = error instanceof StrategyConfigError ? error.message.slice(field.length + 2) : error instanceof Error ? error.message : 'is invalid';
      const path = field === '' || field === 'config' ? '/config' : `/config/${field}`;
      throw new ApiError(400, 'invalid-request', `body ${path} ${message}`, [{ in: 'body', path, message }]);
    }
    const unknown = definition
      .subscriptions(config)
      .flatMap((subscription) => subscription.symbols)
      .filter((symbol) => !knownSymbols.has(symbol));
    if (unknown.length > 0) {
      const message = `unknown instruments: ${[...new Set(unknown)].join(', ')}`;
      throw new ApiError(400, 'invalid-request', `body /config/symbols ${message}`, [{ in: 'body', path: '/config/symbols', message }]);
    }
  };

  return { defaultPortfolio, portfolioOf, criticalHalt, persist, stored, persistState, view, validate };
}

type StrategyTools = ReturnType<typeof strategyTools>;

/**
 * Strategies: list (with their settings and the form fields of their kind), registered kinds,
 * create from a kind with a validated config, change parameters, pause / resume.
 */
export function strategyRoutes(app: GatewayInstance, ctx: GatewayContext): Promise<void> {
  const tools = strategyTools(app, ctx);
  strategyReadRoutes(app, ctx, tools);
  strategyChangeRoutes(app, ctx, tools);
  strategyLifecycleRoutes(app, ctx, tools);
  return Promise.resolve();
}

/** Registered kinds, the strategies, one strategy. */
function strategyReadRoutes(app: GatewayInstance, ctx: GatewayContext, tools: StrategyTools): void {
  const { runtime } = ctx;
  const { defaultPortfolio, portfolioOf, criticalHalt, view } = tools;

  app.get(
    '/api/v1/strategy-kinds',
    strategyRoute('viewer', {
      summary: 'Registered strategy kinds with their settings (a form per kind)',
      response: { 200: Type.Object({ items: Type.Array(StrategyKindSchema) }) },
    }),
    () => ({ items: STRATEGIES.map(kindView) }),
  );

  app.get(
    '/api/v1/strategies',
    strategyRoute('viewer', {
      summary: 'Strategies with status, per-strategy figures, settings and the fields of their kind',
      response: { 200: Type.Object({ items: Type.Array(StrategySchema) }) },
    }),
    async (request) => {
      const readable = await ctx.readablePortfolios(request.principal);
      const ids: string[] = [];
      for (const id of await runtime.strategyIds()) if (readable(await portfolioOf(id))) ids.push(id);
      const halt = await criticalHalt();
      return { items: await Promise.all(ids.map((id) => view(id, halt))) };
    },
  );

  app.get(
    '/api/v1/strategies/:id',
    strategyRoute('viewer', { summary: 'One strategy', params: IdParams, response: { 200: StrategySchema }, errors: [404] }),
    async (request) => {
      const spec = await runtime.strategySpec(request.params.id);
      if (spec) await ctx.authorizePortfolio(request, spec.portfolioId ?? defaultPortfolio(), 'read', 'strategy.read', request.params.id);
      return view(request.params.id, await criticalHalt());
    },
  );
}

/** Create a strategy from a kind; change its parameters. */
function strategyChangeRoutes(app: GatewayInstance, ctx: GatewayContext, tools: StrategyTools): void {
  const { runtime } = ctx;
  const { defaultPortfolio, criticalHalt, persist, stored, view, validate } = tools;

  app.post(
    '/api/v1/strategies',
    strategyRoute('trader', {
      summary: 'Create and start a strategy from a registered kind',
      description:
        "The config is validated against the kind's configFields (GET /api/v1/strategy-kinds): a setting that does not fit is a 400 naming it (details[].path, e.g. /config/fastPeriod). Without symbols it trades every instrument.",
      body: CreateStrategyBody,
      response: { 201: StrategySchema },
      errors: [409],
    }),
    async (request, reply) => {
      const { strategyId, kind, config, portfolioId } = request.body;
      const definition = definitionOf(kind);
      const fail = (status: 400 | 409, code: 'invalid-request' | 'conflict', path: string, message: string): never => {
        ctx.record(request, { action: 'strategy.create', target: strategyId, outcome: 'failed', details: { kind, reason: message } });
        throw new ApiError(status, code, status === 409 ? message : `body ${path} ${message}`, status === 409 ? undefined : [{ in: 'body', path, message }]);
      };
      if (!definition)
        return fail(400, 'invalid-request', '/kind', `is not a registered kind; known kinds: ${STRATEGIES.map((known) => known.kind).join(', ')}`);
      if (portfolioId !== undefined && !runtime.description.portfolioIds.includes(portfolioId))
        return fail(400, 'invalid-request', '/portfolioId', `unknown portfolio ${portfolioId}`);
      await ctx.authorizePortfolio(request, portfolioId ?? defaultPortfolio(), 'act', 'strategy.create', strategyId);
      if ((await runtime.strategyIds()).includes(strategyId)) return fail(409, 'conflict', '/strategyId', `strategy "${strategyId}" exists`);
      try {
        validate(definition, config);
      } catch (error) {
        if (error instanceof ApiError)
          ctx.record(request, { action: 'strategy.create', target: strategyId, outcome: 'failed', details: { kind, reason: error.message } });
        throw error;
      }
      await persist(strategyId, () =>
        ctx.state.saveStrategy({
          strategyId,
          kind,
          portfolioId: portfolioId ?? defaultPortfolio(),
          config: config ?? {},
          state: 'started',
          createdBy: request.principal?.name,
        }),
      );
      await runtime.addStrategy({ strategyId, kind, ...(config === undefined ? {} : { config }), ...(portfolioId === undefined ? {} : { portfolioId }) });
      ctx.strategyStates.set(strategyId, 'started');
      ctx.record(request, { action: 'strategy.create', target: strategyId, outcome: 'ok', details: { kind, config: config ?? {} } });
      return reply.code(201).send(await view(strategyId, await criticalHalt()));
    },
  );

  app.patch(
    '/api/v1/strategies/:id',
    strategyRoute('trader', {
      summary: "Change a strategy's parameters",
      description:
        'The given settings are merged over the current ones and validated (400 naming the field); the strategy then restarts with them, keeping its positions, working orders and pause state.',
      params: IdParams,
      body: UpdateStrategyBody,
      response: { 200: StrategySchema },
      errors: [404],
    }),
    async (request) => {
      const strategyId = request.params.id;
      const spec = await runtime.strategySpec(strategyId);
      if (!spec) throw new ApiError(404, 'not-found', `no strategy "${strategyId}"`);
      await ctx.authorizePortfolio(request, spec.portfolioId ?? defaultPortfolio(), 'act', 'strategy.update', strategyId);
      const definition = definitionOf(spec.kind);
      if (!definition) throw new ApiError(404, 'not-found', `strategy "${strategyId}" has an unknown kind ${spec.kind}`);
      const merged = { ...((spec.config ?? {}) as Record<string, unknown>), ...request.body.config };
      try {
        validate(definition, merged);
      } catch (error) {
        if (error instanceof ApiError)
          ctx.record(request, { action: 'strategy.update', target: strategyId, outcome: 'failed', details: { reason: error.message } });
        throw error;
      }
      const record = await stored(strategyId, { config: merged });
      if (record) await persist(strategyId, () => ctx.state.saveStrategy(record));
      await runtime.reconfigureStrategy(strategyId, request.body.config);
      ctx.record(request, { action: 'strategy.update', target: strategyId, outcome: 'ok', details: { config: request.body.config } });
      return view(strategyId, await criticalHalt());
    },
  );
}

/** Pause, resume, stop, start (each kept across restarts). */
function strategyLifecycleRoutes(app: GatewayInstance, ctx: GatewayContext, tools: StrategyTools): void {
  const { runtime } = ctx;
  const { defaultPortfolio, criticalHalt, persistState, view } = tools;

  const actions = {
    pause: { command: 'Pause', state: 'paused', summary: 'Pause a strategy (it places nothing; kept across restarts)' },
    resume: { command: 'Resume', state: 'started', summary: 'Resume a paused or stopped strategy' },
    stop: {
      command: 'Pause',
      state: 'stopped',
      summary: 'Stop a strategy: it places nothing until started again, also after a restart (its positions and working orders stay)',
    },
    start: { command: 'Resume', state: 'started', summary: 'Start a stopped or paused strategy' },
  } as const;
  for (const [action, { command, state, summary }] of Object.entries(actions)) {
    app.post(
      `/api/v1/strategies/:id/${action}`,
      strategyRoute('trader', { summary, params: IdParams, response: { 200: StrategySchema }, errors: [404, 503] }),
      async (request) => {
        const spec = await runtime.strategySpec(request.params.id);
        if (!spec) throw new ApiError(404, 'not-found', `no strategy "${request.params.id}"`);
        await ctx.authorizePortfolio(request, spec.portfolioId ?? defaultPortfolio(), 'act', `strategy.${action}`, request.params.id);
        await persistState(request.params.id, state);
        await (command === 'Pause' ? runtime.pauseStrategies([request.params.id]) : runtime.resumeStrategies([request.params.id]));
        if (command === 'Pause') ctx.paused.add(request.params.id);
        else ctx.paused.delete(request.params.id);
        ctx.record(request, { action: `strategy.${action}`, target: request.params.id, outcome: 'ok' });
        return view(request.params.id, await criticalHalt());
      },
    );
  }
}
