/**
 * The messages that carry {@link RuntimeFacade} across a message port, as TypeBox schemas: the
 * receiving side checks every message against them before it uses it (never a cast). Domain
 * values owned by other modules (orders, portfolios, reports) are checked for their identifying
 * fields here and typed as those modules' types, like the snapshot schemas do.
 *
 * Runtime → gateway: `hello` (the description, once), `publish` (the read model's changes and a
 * batch of events, in one message so the mirror never lags the events it goes with) and `reply`.
 * Gateway → runtime: `request` (a query or command with an id), `subscribe` (event types).
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Check, Errors } from 'typebox/value';
import type { ActorHealth } from '../../actors/core/index.js';
import type { RiskReport } from '../../actors/risk/risk-manager.protocol.js';
import type { StrategyStatus } from '../../actors/strategy/strategy.protocol.js';
import type { DepthLevel, DomainEvent, Instrument, Order, OrderIntent, PortfolioState } from '../../model/index.js';
import type { RiskManagerLimits } from '../../risk/risk-manager.js';
import type { ActorLifecycleEvent, StrategySpec } from '../facade.js';

const Int = Type.Integer();
const Str = Type.String();
const Num = Type.Number();
const Side = Type.Union([Type.Literal('BUY'), Type.Literal('SELL')]);

const OrderSchema = Type.Unsafe<Order>(
  Type.Object({
    clientOrderId: Str,
    intentId: Str,
    strategyId: Str,
    portfolioId: Str,
    symbol: Str,
    side: Side,
    orderType: Str,
    product: Str,
    validity: Str,
    quantity: Int,
    status: Str,
    filledQuantity: Int,
    cancelledQuantity: Int,
    filledValuePaise: Int,
    createdAtMs: Num,
    updatedAtMs: Num,
  }),
);

const PositionFields = Type.Object({ symbol: Str, product: Str, netQuantity: Int, costPaise: Int, realisedPaise: Int, lastPricePaise: Int });

const PortfolioStateSchema = Type.Unsafe<PortfolioState>(
  Type.Object({ portfolioId: Str, initialCashPaise: Int, cashPaise: Int, positions: Type.Record(Str, PositionFields), fillCount: Int }),
);

export const PortfolioReadingSchema = Type.Object({ state: PortfolioStateSchema, version: Num });

export const QuoteSchema = Type.Object({
  symbol: Str,
  ltpPaise: Int,
  bidPaise: Type.Optional(Int),
  askPaise: Type.Optional(Int),
  volume: Num,
  exchangeTimeMs: Num,
});

const DepthLevelSchema = Type.Unsafe<DepthLevel>(Type.Object({ pricePaise: Int, quantity: Num, orders: Num }));
export const MarketDepthSchema = Type.Object({
  atMs: Num,
  buy: Type.Immutable(Type.Array(DepthLevelSchema)),
  sell: Type.Immutable(Type.Array(DepthLevelSchema)),
});

const ActorHealthSchema = Type.Unsafe<ActorHealth>(
  Type.Object({
    path: Str,
    kind: Str,
    status: Type.Union([Type.Literal('running'), Type.Literal('restarting'), Type.Literal('stopped')]),
    children: Type.Array(Type.Object({})),
  }),
);
export const ActorsReadingSchema = Type.Object({ deadLetters: Int, tree: Type.Immutable(Type.Array(ActorHealthSchema)) });

export const RuntimeDescriptionSchema = Type.Object({
  instruments: Type.Immutable(Type.Array(Type.Unsafe<Instrument>(Type.Object({ symbol: Str, tickSizePaise: Int, lotSize: Int })))),
  portfolioIds: Type.Immutable(Type.Array(Str)),
  riskLimits: Type.Unsafe<RiskManagerLimits>(Type.Object({ maxOrderQuantity: Num, maxGrossExposurePaise: Num })),
});

const RegimeSchema = Type.Union([Type.Literal('trending'), Type.Literal('ranging'), Type.Literal('high-volatility')]);

export const StrategySpecSchema = Type.Unsafe<StrategySpec>(
  Type.Object({
    strategyId: Str,
    kind: Str,
    config: Type.Optional(Type.Unknown()),
    portfolioId: Type.Optional(Str),
    regimes: Type.Optional(Type.Union([Type.Array(RegimeSchema), Type.Null()])),
  }),
);

const OrderIntentSchema = Type.Unsafe<OrderIntent>(
  Type.Object({
    type: Type.Literal('order-intent'),
    intentId: Str,
    strategyId: Str,
    portfolioId: Str,
    symbol: Str,
    side: Side,
    quantity: Int,
    orderType: Str,
    product: Str,
    validity: Str,
    createdAtMs: Num,
  }),
);

export const RiskReportSchema = Type.Unsafe<RiskReport>(
  Type.Object({
    approved: Int,
    rejected: Int,
    killSwitch: Type.Union([Type.Object({}), Type.Null()]),
    paced: Type.Array(Type.Object({})),
    portfolios: Type.Record(Str, Type.Object({})),
  }),
);

export const StrategyStatusSchema = Type.Unsafe<StrategyStatus>(
  Type.Object({
    strategyId: Str,
    kind: Str,
    paused: Type.Boolean(),
    positions: Type.Record(Str, Num),
    workingIntents: Int,
    regimes: Type.Record(Str, RegimeSchema),
  }),
);

export const OrderSubmissionSchema = Type.Union([
  Type.Object({ outcome: Type.Literal('submitted'), clientOrderId: Str }),
  Type.Object({ outcome: Type.Literal('rejected'), code: Str, message: Str }),
  Type.Object({ outcome: Type.Union([Type.Literal('journal-unavailable'), Type.Literal('timeout')]), clientOrderId: Str }),
]);

/** Every domain event, checked by its type and its main fields. */
const event = <T extends DomainEvent['type']>(type: T, fields: Record<string, TSchema>) =>
  Type.Unsafe<Extract<DomainEvent, { type: T }>>(Type.Object({ type: Type.Literal(type), ...fields }));
const FillFields = Type.Object({
  type: Type.Literal('fill'),
  fillId: Str,
  clientOrderId: Str,
  symbol: Str,
  side: Side,
  quantity: Int,
  pricePaise: Int,
  chargesPaise: Int,
});
export const DomainEventSchema = Type.Union([
  event('OrderSubmitted', { order: OrderSchema }),
  event('OrderUpdated', { order: OrderSchema }),
  event('OrderFilled', { order: OrderSchema, fill: FillFields }),
  event('PositionChanged', { portfolioId: Str, position: PositionFields, summary: Type.Object({ equityPaise: Int, netPnlPaise: Int }) }),
  event('RiskAlert', { severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]), code: Str, message: Str, atMs: Num }),
  event('MarketDataUpdate', { symbol: Str, ticks: Type.Array(Type.Object({ symbol: Str })) }),
  event('BarClosed', { bar: Type.Object({ symbol: Str }) }),
  event('ActorRestarted', { path: Str, reason: Str, restarts: Int, atMs: Num }),
  event('RegimeChanged', { symbol: Str, to: RegimeSchema, atMs: Num }),
  event('SignalAggregated', { symbol: Str, decision: Str, score: Num, atMs: Num }),
  event('AutoSquareOff', { portfolioId: Str, strategyId: Str, symbol: Str, quantity: Int, atMs: Num }),
  event('PredictionMade', { prediction: Type.Object({}) }),
]);

export const ActorLifecycleEventSchema = Type.Unsafe<ActorLifecycleEvent>(
  Type.Object({
    type: Type.Union([Type.Literal('ActorRestarted'), Type.Literal('ActorFailed'), Type.Literal('ActorStopped')]),
    path: Str,
    kind: Str,
    atMs: Num,
  }),
);

const Bool = Type.Boolean();

/**
 * The host's readings besides the facade's (#19: what a gateway worker needs from the main
 * thread): the market feed (the last tick's wall time, not its age, so the reading does not go
 * stale between publishes), the stores' health, the feed's pause switch (absent: the feed cannot
 * be paused) and the lease fences risk-alert acknowledgements write with.
 */
export const HostReadingSchema = Type.Object({
  feed: Type.Object({ connected: Bool, lastTickAtMs: Type.Optional(Num), followsExchangeHours: Bool }),
  persistence: Type.Object({
    journal: Type.Union([Type.Literal('ok'), Type.Literal('down'), Type.Literal('not configured')]),
    redis: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('not configured')]),
  }),
  feedPaused: Type.Optional(Bool),
  fences: Type.Array(Type.Object({ name: Str, token: Int })),
});
export type HostReading = Static<typeof HostReadingSchema>;

/** The read model's changes since the previous publish (absent parts did not change). */
export const ReadModelDeltaSchema = Type.Object({
  host: Type.Optional(HostReadingSchema),
  marketNowMs: Num,
  portfolios: Type.Optional(Type.Array(PortfolioReadingSchema)),
  quotes: Type.Optional(Type.Array(QuoteSchema)),
  depth: Type.Optional(Type.Array(Type.Object({ symbol: Str, depth: MarketDepthSchema }))),
  actors: Type.Optional(ActorsReadingSchema),
});
export type ReadModelDelta = Static<typeof ReadModelDeltaSchema>;

/** An event as it crosses: a domain event, or an actor's lifecycle event. */
export const PortEventSchema = Type.Union([
  Type.Object({ stream: Type.Literal('domain'), event: DomainEventSchema }),
  Type.Object({ stream: Type.Literal('actor'), event: ActorLifecycleEventSchema }),
]);
export type PortEvent = Static<typeof PortEventSchema>;

/** Why a request failed, enough to rebuild the error the local facade would have thrown. */
export const RemoteErrorSchema = Type.Object({
  name: Str,
  message: Str,
  reason: Type.Optional(Type.Union([Type.Literal('not-ready'), Type.Literal('not-found')])),
  field: Type.Optional(Str),
  path: Type.Optional(Str),
  timeoutMs: Type.Optional(Num),
  /** An unknown model's version (`UnknownModelError`). */
  version: Type.Optional(Str),
});
export type RemoteError = Static<typeof RemoteErrorSchema>;

export const RuntimeToGatewaySchema = Type.Union([
  // `host`: the runtime's end serves host readings (`serveFacade`'s `host` option), with a feed pause switch or not, with the ML service or not
  Type.Object({
    kind: Type.Literal('hello'),
    description: RuntimeDescriptionSchema,
    host: Type.Optional(Type.Object({ pausable: Bool, ml: Bool })),
  }),
  Type.Object({ kind: Type.Literal('publish'), seq: Int, model: ReadModelDeltaSchema, events: Type.Array(PortEventSchema) }),
  Type.Object({ kind: Type.Literal('reply'), id: Int, ok: Type.Literal(true), value: Type.Unknown() }),
  Type.Object({ kind: Type.Literal('reply'), id: Int, ok: Type.Literal(false), error: RemoteErrorSchema }),
]);
export type RuntimeToGateway = Static<typeof RuntimeToGatewaySchema>;
/** Checks a message from the runtime (compiled once: a publish with a portfolio checks in µs, not hundreds of µs). */
export const RuntimeToGatewayCheck = Compile(RuntimeToGatewaySchema);

const request = <M extends string, A extends TSchema[]>(method: M, args: [...A]) =>
  Type.Object({ kind: Type.Literal('request'), id: Int, method: Type.Literal(method), args: Type.Tuple(args) });

/** A query or command: the facade's method and its arguments (`sync` answers once the read model is published). */
export const RequestSchema = Type.Union([
  request('sync', []),
  request('orders', []),
  request('riskReport', []),
  request('strategyIds', []),
  request('strategySpec', [Str]),
  request('strategyStatus', [Str]),
  request('submitOrder', [OrderIntentSchema, Str]),
  request('cancelOrder', [Str, Str]),
  request('pauseStrategies', [Type.Array(Str)]),
  request('resumeStrategies', [Type.Array(Str)]),
  request('addStrategy', [StrategySpecSchema]),
  request('reconfigureStrategy', [Str, Type.Record(Str, Type.Unknown())]),
  request('engageKillSwitch', [Str, Str]),
  request('releaseKillSwitch', [Str]),
  request('injectFault', [Str]),
  // the host's, besides the facade: the feed's pause switch, the registry (text and JSON), the first admin's generated password
  request('setFeedPaused', [Bool]),
  request('metricsText', []),
  request('metricsJson', []),
  request('generatedAdmin', [Str, Str]),
  // the host's ML service (`MlControl`)
  request('mlList', []),
  request('mlSummary', [Str]),
  request('mlPromote', [Str]),
  request('mlRollback', []),
  request('mlStatus', []),
  request('mlStartRetraining', []),
]);
export type Request = Static<typeof RequestSchema>;
export type RequestMethod = Request['method'];

export const DomainEventTypeSchema = Type.Union([
  Type.Literal('OrderSubmitted'),
  Type.Literal('OrderUpdated'),
  Type.Literal('OrderFilled'),
  Type.Literal('PositionChanged'),
  Type.Literal('RiskAlert'),
  Type.Literal('MarketDataUpdate'),
  Type.Literal('BarClosed'),
  Type.Literal('ActorRestarted'),
  Type.Literal('RegimeChanged'),
  Type.Literal('SignalAggregated'),
  Type.Literal('AutoSquareOff'),
  Type.Literal('PredictionMade'),
]);

export const GatewayToRuntimeSchema = Type.Union([
  RequestSchema,
  Type.Object({ kind: Type.Literal('subscribe'), types: Type.Array(DomainEventTypeSchema), actors: Type.Boolean() }),
]);
export type GatewayToRuntime = Static<typeof GatewayToRuntimeSchema>;
/** Checks a message from the gateway (compiled once). */
export const GatewayToRuntimeCheck = Compile(GatewayToRuntimeSchema);

/**
 * What is wrong with a message, in a phrase: checked against the union's variant of its `kind`
 * (and `method`), else the deepest mismatch.
 */
export function mismatch(schema: TSchema, value: unknown): string {
  const variant = variantOf(schema, value) ?? schema;
  let deepest: { readonly instancePath: string; readonly message: string } | undefined;
  for (const error of Errors(variant, value)) {
    if (error.keyword === 'anyOf') continue;
    if (deepest === undefined || error.instancePath.split('/').length > deepest.instancePath.split('/').length) deepest = error;
  }
  return deepest === undefined ? 'does not match its schema' : `${deepest.instancePath || '/'} ${deepest.message}`;
}

/** The variant of a union of messages whose discriminants (`kind`, `method`) the value has. */
function variantOf(schema: TSchema, value: unknown): TSchema | undefined {
  if (!('anyOf' in schema) || !Array.isArray(schema.anyOf) || typeof value !== 'object' || value === null) return undefined;
  const fields = new Map(Object.entries(value));
  const variants: unknown[] = schema.anyOf;
  for (const candidate of variants) {
    if (Check(Type.Object({ anyOf: Type.Array(Type.Unknown()) }), candidate)) {
      const inner = variantOf(Type.Unsafe<unknown>(candidate), value);
      if (inner !== undefined) return inner;
      continue;
    }
    if (!Check(Type.Object({}), candidate) || !('properties' in candidate) || !Check(Type.Record(Type.String(), Type.Object({})), candidate.properties))
      continue;
    const properties = candidate.properties;
    const matches = ['kind', 'method'].every((key) => {
      const property = properties[key];
      return property === undefined || !('const' in property) || property.const === fields.get(key);
    });
    if (matches) return Type.Unsafe<unknown>(candidate);
  }
  return undefined;
}
