/**
 * TypeBox schemas of the domain values that several actors' snapshots carry (positions, intents,
 * regimes). Each actor kind's `*.snapshot.ts` builds its snapshot schema from these; a change of
 * a model type that these no longer match is a compile error in the codec that uses them.
 */
import { Type, type Static } from 'typebox';
import type { Fill, Mutable, Order } from '../model/index.js';

export const SideSchema = Type.Union([Type.Literal('BUY'), Type.Literal('SELL')]);
export const ProductSchema = Type.Union([Type.Literal('MIS'), Type.Literal('CNC'), Type.Literal('NRML')]);
export const OrderTypeSchema = Type.Union([Type.Literal('MARKET'), Type.Literal('LIMIT'), Type.Literal('SL'), Type.Literal('SL-M')]);
export const ValiditySchema = Type.Union([Type.Literal('DAY'), Type.Literal('IOC')]);
export const RegimeSchema = Type.Union([Type.Literal('trending'), Type.Literal('ranging'), Type.Literal('high-volatility')]);
export const DirectionSchema = Type.Union([Type.Literal('long'), Type.Literal('short'), Type.Literal('flat')]);
/** Integer paise. */
export const PaiseSchema = Type.Integer();
/** A signed quantity per key (symbol, intent id…). */
export const QuantitiesSchema = Type.Record(Type.String(), Type.Integer());

/** `Position` (src/model/position.ts). */
export const PositionSchema = Type.Object({
  symbol: Type.String(),
  product: ProductSchema,
  netQuantity: Type.Integer(),
  costPaise: PaiseSchema,
  realisedPaise: PaiseSchema,
  chargesPaise: PaiseSchema,
  buyQuantity: Type.Integer(),
  sellQuantity: Type.Integer(),
  buyValuePaise: PaiseSchema,
  sellValuePaise: PaiseSchema,
  lastPricePaise: PaiseSchema,
});

/** `SignalContribution` (src/model/order-explanation.ts). */
export const SignalContributionSchema = Type.Object({
  strategyId: Type.String(),
  direction: DirectionSchema,
  confidence: Type.Number(),
  weight: Type.Number(),
  contribution: Type.Number(),
  atMs: Type.Number(),
  reason: Type.Optional(Type.String()),
});

/** `OrderExplanation` (src/model/order-explanation.ts). */
export const OrderExplanationSchema = Type.Object({
  source: Type.String(),
  summary: Type.String(),
  decision: Type.Optional(Type.Union([Type.Literal('BUY'), Type.Literal('SELL'), Type.Literal('FLAT')])),
  score: Type.Optional(Type.Number()),
  confidence: Type.Optional(Type.Number()),
  atMs: Type.Optional(Type.Number()),
  signals: Type.Optional(Type.Immutable(Type.Array(SignalContributionSchema))),
  regime: Type.Optional(RegimeSchema),
});

/** `OrderIntent` (src/model/order.ts). */
export const OrderIntentSchema = Type.Object({
  type: Type.Literal('order-intent'),
  intentId: Type.String(),
  strategyId: Type.String(),
  portfolioId: Type.String(),
  symbol: Type.String(),
  side: SideSchema,
  quantity: Type.Integer(),
  orderType: OrderTypeSchema,
  product: ProductSchema,
  validity: ValiditySchema,
  limitPricePaise: Type.Optional(PaiseSchema),
  triggerPricePaise: Type.Optional(PaiseSchema),
  createdAtMs: Type.Number(),
  reason: Type.Optional(Type.String()),
  explanation: Type.Optional(OrderExplanationSchema),
  triggerReceivedMonoMs: Type.Optional(Type.Number()),
});

/** `OrderStatus` (src/model/order.ts): Kite's order statuses. */
export const OrderStatusSchema = Type.Union([
  Type.Literal('PUT ORDER REQ RECEIVED'),
  Type.Literal('VALIDATION PENDING'),
  Type.Literal('OPEN PENDING'),
  Type.Literal('OPEN'),
  Type.Literal('TRIGGER PENDING'),
  Type.Literal('MODIFY VALIDATION PENDING'),
  Type.Literal('MODIFY PENDING'),
  Type.Literal('MODIFIED'),
  Type.Literal('NOT MODIFIED'),
  Type.Literal('CANCEL PENDING'),
  Type.Literal('AMO REQ RECEIVED'),
  Type.Literal('COMPLETE'),
  Type.Literal('REJECTED'),
  Type.Literal('CANCELLED'),
]);

/** `Order` (src/model/order.ts), as broker snapshots and the order journal keep it. */
export const OrderSchema = Type.Object({
  clientOrderId: Type.String(),
  brokerOrderId: Type.Optional(Type.String()),
  intentId: Type.String(),
  strategyId: Type.String(),
  portfolioId: Type.String(),
  symbol: Type.String(),
  side: SideSchema,
  orderType: OrderTypeSchema,
  product: ProductSchema,
  validity: ValiditySchema,
  quantity: Type.Integer(),
  limitPricePaise: Type.Optional(PaiseSchema),
  triggerPricePaise: Type.Optional(PaiseSchema),
  status: OrderStatusSchema,
  statusMessage: Type.Optional(Type.String()),
  filledQuantity: Type.Integer(),
  cancelledQuantity: Type.Integer(),
  filledValuePaise: PaiseSchema,
  createdAtMs: Type.Number(),
  updatedAtMs: Type.Number(),
  reason: Type.Optional(Type.String()),
  explanation: Type.Optional(OrderExplanationSchema),
});

/** `Fill` (src/model/fill.ts), as the order journal keeps it. */
export const FillSchema = Type.Object({
  type: Type.Literal('fill'),
  fillId: Type.String(),
  clientOrderId: Type.String(),
  brokerOrderId: Type.String(),
  portfolioId: Type.String(),
  strategyId: Type.String(),
  symbol: Type.String(),
  side: SideSchema,
  product: ProductSchema,
  quantity: Type.Integer(),
  pricePaise: PaiseSchema,
  chargesPaise: PaiseSchema,
  atMs: Type.Number(),
});

// a model type that no longer matches its schema (either way) is a compile error here
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checked = <T extends true>(): T | undefined => undefined;
checked<Same<Static<typeof OrderSchema>, Mutable<Order>>>();
checked<Same<Static<typeof FillSchema>, Mutable<Fill>>>();

/** `PendingIntent` (src/strategies/api.ts). */
export const PendingIntentSchema = Type.Object({
  intentId: Type.String(),
  symbol: Type.String(),
  side: SideSchema,
  quantity: Type.Integer(),
  queuedAtMs: Type.Number(),
  reason: Type.String(),
});

/** `RefusedIntent` (src/strategies/api.ts). */
export const RefusedIntentSchema = Type.Object({
  intentId: Type.String(),
  symbol: Type.String(),
  side: SideSchema,
  quantity: Type.Integer(),
  code: Type.Optional(Type.String()),
  reason: Type.String(),
  atMs: Type.Number(),
});
