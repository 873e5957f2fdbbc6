import { Type, type Static } from 'typebox';

/** Shared TypeBox schemas of the REST API (they give validation, types and the OpenAPI document). */

export const Side = Type.Enum(['BUY', 'SELL']);
/** Schema: OrderTypeSchema. */
export const OrderTypeSchema = Type.Enum(['MARKET', 'LIMIT', 'SL', 'SL-M']);
/** Schema: ProductSchema. */
export const ProductSchema = Type.Enum(['MIS', 'CNC', 'NRML']);
/** Schema: ValiditySchema. */
export const ValiditySchema = Type.Enum(['DAY', 'IOC']);
/** Schema: RegimeSchema (a market regime, as the regime detector names it). */
export const RegimeSchema = Type.Enum(['trending', 'ranging', 'high-volatility']);
/** Schema: RoleSchema. */
export const RoleSchema = Type.Enum(['viewer', 'trader', 'admin']);

const Symbol = Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Z0-9&_.-]+$', description: 'NSE trading symbol, e.g. INFY' });
const Paise = Type.Integer({ description: 'amount in paise (₹1 = 100)' });

/** Schema: PortfolioSummarySchema. */
export const PortfolioSummarySchema = Type.Object({
  cashPaise: Paise,
  marketValuePaise: Paise,
  equityPaise: Paise,
  realisedPaise: Paise,
  unrealisedPaise: Paise,
  chargesPaise: Paise,
  netPnlPaise: Paise,
  grossExposurePaise: Paise,
  netExposurePaise: Paise,
});

/** Schema: PositionSchema. */
export const PositionSchema = Type.Object({
  symbol: Type.String(),
  product: Type.String(),
  netQuantity: Type.Integer(),
  averagePricePaise: Paise,
  lastPricePaise: Paise,
  costPaise: Paise,
  marketValuePaise: Paise,
  realisedPaise: Paise,
  unrealisedPaise: Paise,
  chargesPaise: Paise,
  buyQuantity: Type.Integer(),
  sellQuantity: Type.Integer(),
});

/** Schema: PortfolioPositionsSchema. */
export const PortfolioPositionsSchema = Type.Object({
  portfolioId: Type.String(),
  summary: PortfolioSummarySchema,
  positions: Type.Array(PositionSchema),
});

/** Schema: PositionsResponse. */
export const PositionsResponse = Type.Object({ portfolios: Type.Array(PortfolioPositionsSchema) });

/** Schema: SignalContributionSchema (one strategy's signal as it counted in an aggregated vote). */
export const SignalContributionSchema = Type.Object({
  strategyId: Type.String(),
  direction: Type.Enum(['long', 'short', 'flat']),
  confidence: Type.Number({ description: '0…1, after any decay with age' }),
  weight: Type.Number(),
  contribution: Type.Number({ description: 'weight × confidence × (+1 long, −1 short, 0 flat) / Σ weights' }),
  atMs: Type.Integer(),
  reason: Type.Optional(Type.String()),
});

/** Schema: OrderExplanationSchema (why an order exists, in structured form; see src/model/order-explanation.ts). */
export const OrderExplanationSchema = Type.Object({
  source: Type.String({ description: 'who decided, e.g. signal-aggregator, or a strategy kind' }),
  summary: Type.String({ description: 'the decision and why, in one sentence' }),
  decision: Type.Optional(Type.Enum(['BUY', 'SELL', 'FLAT'])),
  score: Type.Optional(Type.Number({ description: 'weighted score of the vote, −1…1' })),
  confidence: Type.Optional(Type.Number({ description: '|score| when a side won, else 0' })),
  atMs: Type.Optional(Type.Integer()),
  signals: Type.Optional(Type.Array(SignalContributionSchema)),
  regime: Type.Optional(RegimeSchema),
});

/** Schema: OrderSchema. */
export const OrderSchema = Type.Object({
  clientOrderId: Type.String(),
  brokerOrderId: Type.Optional(Type.String()),
  intentId: Type.String(),
  strategyId: Type.String(),
  portfolioId: Type.String(),
  symbol: Type.String(),
  side: Type.String(),
  orderType: Type.String(),
  product: Type.String(),
  validity: Type.String(),
  quantity: Type.Integer(),
  limitPricePaise: Type.Optional(Paise),
  triggerPricePaise: Type.Optional(Paise),
  status: Type.String(),
  statusMessage: Type.Optional(Type.String()),
  filledQuantity: Type.Integer(),
  cancelledQuantity: Type.Integer(),
  filledValuePaise: Paise,
  createdAtMs: Type.Integer(),
  updatedAtMs: Type.Integer(),
  reason: Type.Optional(Type.String({ description: 'why the order exists, in the words of the strategy (or person) that made it' })),
  explanation: Type.Optional(OrderExplanationSchema),
});

/** Schema: Page. */
export const Page = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'give it as `cursor` for the next page; null at the end' }),
  });

/** Schema: Limit. */
export const Limit = Type.Integer({ minimum: 1, maximum: 500, default: 100 });
/** Schema: Cursor. */
export const Cursor = Type.String({ minLength: 1, maxLength: 200 });

/** Schema: a time bound of a history filter. */
const TimeBound = (what: string) =>
  Type.String({
    minLength: 1,
    maxLength: 40,
    description: `${what}: an ISO 8601 date or date-time (2026-05-20, 2026-05-20T09:15:00+05:30; a date without a zone is midnight IST) or epoch milliseconds`,
  });
/** Schema: the answer's format (CSV also by `Accept: text/csv`). */
const Format = Type.Enum(['json', 'csv'], {
  description:
    'csv: every matching row (no paging) as a streamed CSV download with a header row, rupee amounts as exact decimals; also chosen by `Accept: text/csv`',
});

/** The paging and format of a history list: `limit`, keyset `cursor`, `format` (json or csv). */
const ListParams = { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor), format: Type.Optional(Format) };
const StrategyFilter = Type.String({ minLength: 1, maxLength: 64, description: 'strategy id, e.g. ema-cross-1 (manual orders: manual)' });
const PortfolioId = Type.String({ minLength: 1, maxLength: 64, description: 'portfolio id' });

/** Schema: OrdersQuery. */
export const OrdersQuery = Type.Object(
  {
    portfolio: Type.Optional(PortfolioId),
    strategy: Type.Optional(StrategyFilter),
    symbol: Type.Optional(Symbol),
    status: Type.Optional(Type.Enum(['OPEN', 'TRIGGER PENDING', 'COMPLETE', 'CANCELLED', 'REJECTED'], { description: 'Kite status' })),
    side: Type.Optional(Side),
    from: Type.Optional(TimeBound('created at or after')),
    to: Type.Optional(TimeBound('created before')),
    ...ListParams,
  },
  { additionalProperties: false },
);
/** Static type of OrdersQuery. */
export type OrdersQuery = Static<typeof OrdersQuery>;

/** Schema: PlaceOrderBody. */
export const PlaceOrderBody = Type.Object(
  {
    symbol: Symbol,
    side: Side,
    quantity: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    orderType: Type.Optional(OrderTypeSchema),
    product: Type.Optional(ProductSchema),
    validity: Type.Optional(ValiditySchema),
    limitPricePaise: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e13 })),
    triggerPricePaise: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e13 })),
    portfolioId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
/** Static type of PlaceOrderBody. */
export type PlaceOrderBody = Static<typeof PlaceOrderBody>;

/** Schema: PlaceOrderResponse. */
export const PlaceOrderResponse = Type.Object({ clientOrderId: Type.String(), intentId: Type.String(), status: Type.Literal('accepted') });

/** Schema: IdParams. */
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Schema: FillSchema. */
export const FillSchema = Type.Object({
  fillId: Type.String(),
  clientOrderId: Type.String(),
  brokerOrderId: Type.String(),
  portfolioId: Type.String(),
  strategyId: Type.String(),
  symbol: Type.String(),
  side: Type.String(),
  product: Type.String(),
  quantity: Type.Integer(),
  pricePaise: Paise,
  chargesPaise: Paise,
  atMs: Type.Integer(),
});

/** Schema: TradesQuery. */
export const TradesQuery = Type.Object(
  {
    portfolio: Type.Optional(PortfolioId),
    strategy: Type.Optional(StrategyFilter),
    symbol: Type.Optional(Symbol),
    side: Type.Optional(Side),
    from: Type.Optional(TimeBound('executed at or after')),
    to: Type.Optional(TimeBound('executed before')),
    ...ListParams,
  },
  { additionalProperties: false },
);

/** Schema: RiskAlertsQuery. */
export const RiskAlertsQuery = Type.Object(
  {
    severity: Type.Optional(Type.Enum(['info', 'warning', 'critical'])),
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'alert code, e.g. max-orders-per-second' })),
    strategy: Type.Optional(StrategyFilter),
    symbol: Type.Optional(Symbol),
    acknowledged: Type.Optional(Type.Boolean({ description: 'true: acknowledged only; false: open only' })),
    from: Type.Optional(TimeBound('last raised at or after (market time)')),
    to: Type.Optional(TimeBound('first raised before (market time)')),
    ...ListParams,
  },
  { additionalProperties: false },
);

/** Schema: a risk alert as kept: one (code, subject) within its dedup window. */
export const StoredRiskAlertSchema = Type.Object({
  id: Type.Integer({ description: 'give it to POST /api/v1/risk/alerts/{id}/ack' }),
  code: Type.String(),
  subject: Type.String({ description: 'what it is about: strategy/symbol, strategy, symbol, or empty for the process' }),
  severity: Type.Enum(['info', 'warning', 'critical']),
  message: Type.String({ description: 'the latest message' }),
  strategyId: Type.Optional(Type.String()),
  symbol: Type.Optional(Type.String()),
  count: Type.Integer({ description: "how many times it was raised in the row's window" }),
  firstAtMs: Type.Integer({ description: 'market time of the first' }),
  lastAtMs: Type.Integer({ description: 'market time of the last' }),
  firstSeenMs: Type.Integer({ description: 'wall clock of the first' }),
  lastSeenMs: Type.Integer({ description: 'wall clock of the last' }),
  acknowledgedBy: Type.Optional(Type.String()),
  acknowledgedAtMs: Type.Optional(Type.Integer()),
  acknowledgedNote: Type.Optional(Type.String()),
});

/** Schema: a strategy's book summed over every fill it ever had. */
export const StrategyBookSchema = Type.Object({
  strategyId: Type.String(),
  fills: Type.Integer(),
  buyQuantity: Type.Integer(),
  sellQuantity: Type.Integer(),
  turnoverPaise: Paise,
  chargesPaise: Paise,
  cashFlowPaise: Type.Integer({ description: 'Σ sells − Σ buys − charges, paise' }),
  net: Type.Record(Type.String(), Type.Integer(), { description: 'net quantity per symbol' }),
  lastPricePaise: Type.Record(Type.String(), Type.Integer(), { description: 'price of the last fill per symbol' }),
  lastFillAtMs: Type.Integer(),
});

/** Schema: ConfigFieldSchema (a strategy setting, for validation messages and the dashboard's form). */
export const ConfigFieldSchema = Type.Object({
  name: Type.String(),
  type: Type.Enum(['integer', 'number', 'string', 'boolean', 'symbols', 'enum']),
  description: Type.String(),
  default: Type.Optional(Type.Unknown()),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  options: Type.Optional(Type.Array(Type.String())),
});

/** Schema: StrategyKindSchema (a registered strategy kind). */
export const StrategyKindSchema = Type.Object({
  kind: Type.String(),
  description: Type.String(),
  regimes: Type.Optional(Type.Array(Type.String())),
  configFields: Type.Array(ConfigFieldSchema),
});

/** What a strategy's pending and refused intents both show. */
const intentFields = { intentId: Type.String(), symbol: Type.String(), side: Type.String(), quantity: Type.Integer() };

/** Schema: StrategySchema. */
export const StrategySchema = Type.Object({
  strategyId: Type.String(),
  kind: Type.String(),
  portfolioId: Type.String(),
  paused: Type.Boolean(),
  state: Type.Union([Type.Literal('started'), Type.Literal('paused'), Type.Literal('stopped')], {
    description: 'what the API last asked (stopped and paused both place nothing); kept across restarts',
  }),
  haltedBy: Type.Optional(
    Type.Union([Type.Object({ kind: Type.String(), reason: Type.String() }), Type.Null()], {
      description: 'set while a critical halt (kill switch, journal, broker session: GET /api/v1/halts) stops every order, whatever the state asked',
    }),
  ),
  positions: Type.Record(Type.String(), Type.Integer()),
  workingIntents: Type.Integer(),
  pendingIntents: Type.Optional(
    Type.Array(Type.Object({ ...intentFields, queuedAtMs: Type.Number(), reason: Type.String() }), {
      description: "intents waiting in risk's pacing queue for the orders-per-second limits (sent when the window allows, exits first)",
    }),
  ),
  refusedIntents: Type.Optional(
    Type.Array(Type.Object({ ...intentFields, code: Type.Optional(Type.String()), reason: Type.String(), atMs: Type.Number() }), {
      description: 'the latest refused intents (at most 50), oldest first',
    }),
  ),
  tradesIn: Type.Optional(
    Type.Array(RegimeSchema, { description: 'the regimes the strategy declares it trades in (absent: any); outside them it only reduces positions' }),
  ),
  regimes: Type.Record(Type.String(), RegimeSchema, { description: 'the latest regime the strategy knows per symbol, and for MARKET' }),
  stats: Type.Object({
    ticks: Type.Integer(),
    bars: Type.Integer(),
    intents: Type.Integer({ description: 'intents submitted, gated ones included' }),
    rejected: Type.Integer({ description: 'intents refused by risk or by the regime gate' }),
    fills: Type.Integer(),
    gated: Type.Integer({ description: 'of the rejected, those the regime gate refused or cut' }),
    signals: Type.Integer({ description: 'signals sent to the signal aggregator' }),
    paced: Type.Optional(Type.Integer({ description: 'intents risk queued for the orders-per-second limits (sent later, or refused)' })),
  }),
  config: Type.Record(Type.String(), Type.Unknown(), { description: 'the settings in effect (defaults applied)' }),
  product: Type.Optional(
    Type.Union([Type.Literal('MIS'), Type.Literal('CNC'), Type.Literal('NRML')], {
      description:
        'the product of its orders: MIS (intraday, squared off by the broker at 15:20 IST) or CNC (held overnight; daily-bar strategies default to it)',
    }),
  ),
  configFields: Type.Array(ConfigFieldSchema),
});

const StrategyId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', description: 'letters, digits, _ and -' });
const StrategyConfig = Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), {
  maxProperties: 50,
  description: 'settings by name (see configFields of GET /api/v1/strategy-kinds)',
});

/** Schema: CreateStrategyBody. */
export const CreateStrategyBody = Type.Object(
  {
    strategyId: StrategyId,
    kind: Type.String({ minLength: 1, maxLength: 64 }),
    config: Type.Optional(StrategyConfig),
    portfolioId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
/** Schema: UpdateStrategyBody. */
export const UpdateStrategyBody = Type.Object({ config: StrategyConfig }, { additionalProperties: false });

/** Schema: InstrumentSchema. */
export const InstrumentSchema = Type.Object({
  symbol: Type.String(),
  exchange: Type.String(),
  token: Type.Integer(),
  name: Type.String(),
  tickSizePaise: Paise,
  lotSize: Type.Integer(),
  freezeQuantity: Type.Integer(),
  referencePricePaise: Paise,
  priceBandPercent: Type.Number(),
  lastPricePaise: Type.Union([Paise, Type.Null()]),
});

/** Schema: LoginBody. */
export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    totpCode: Type.Optional(
      Type.String({ pattern: '^[0-9]{6}$', description: 'the current code of your authenticator app, when two-factor login is enabled' }),
    ),
  },
  { additionalProperties: false },
);
/** Schema: TotpCodeBody. */
export const TotpCodeBody = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{6}$', description: 'a current 6-digit code' }) },
  { additionalProperties: false },
);
/** Schema: TotpEnrollment. */
export const TotpEnrollment = Type.Object({
  secret: Type.String({ description: 'base32 secret (shown only now)' }),
  otpauthUri: Type.String({ description: 'otpauth://totp/… for an authenticator app (as a QR code or pasted)' }),
  confirmWith: Type.String(),
});
/** Schema: RefreshBody. */
export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
/** Schema: TokenPairSchema. */
export const TokenPairSchema = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresInSec: Type.Integer(),
  role: RoleSchema,
});

/** Schema: CreateUserBody. */
export const CreateUserBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
    password: Type.String({ minLength: 12, maxLength: 256 }),
    role: RoleSchema,
  },
  { additionalProperties: false },
);
/** Schema: ResetPasswordBody (an admin sets a user's password). */
export const ResetPasswordBody = Type.Object({ password: Type.String({ minLength: 12, maxLength: 256 }) }, { additionalProperties: false });
/** Schema: ChangePasswordBody (a user changes their own password). */
export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Type.String({ minLength: 12, maxLength: 256 }) },
  { additionalProperties: false },
);
/** Schema: UserSchema. */
export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  createdAtMs: Type.Integer(),
  disabled: Type.Boolean(),
  totpEnabled: Type.Boolean(),
});

/** Schema: CreateApiKeyBody. */
export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    role: RoleSchema,
    rateLimitPerMinute: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 10_000_000 }), Type.Null()], { description: 'admins only; null lifts the limit' }),
    ),
  },
  { additionalProperties: false },
);
/** Schema: ApiKeySchema. */
export const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  ownerUserId: Type.String(),
  createdAtMs: Type.Integer(),
  lastUsedAtMs: Type.Union([Type.Integer(), Type.Null()]),
  revokedAtMs: Type.Union([Type.Integer(), Type.Null()]),
  rateLimitPerMinute: Type.Union([Type.Integer(), Type.Null(), Type.Literal('role-default')]),
});

/** Schema: AuditQuery. */
export const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: 64 })),
    actor: Type.Optional(Type.String({ maxLength: 80 })),
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
  },
  { additionalProperties: false },
);

/** Schema: FaultQuery. */
export const FaultQuery = Type.Object({ path: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }, { additionalProperties: false });

/** Schema: one reason trading is stopped (`GET /api/v1/halts`). */
export const HaltSchema = Type.Object({
  kind: Type.Enum(['kill-switch', 'journal', 'broker-session', 'feed'], { description: 'what stopped trading' }),
  severity: Type.Enum(['critical', 'warning'], { description: 'critical: no order goes out; warning: trading continues on stale or missing data' }),
  sinceMs: Type.Union([Type.Integer(), Type.Null()], { description: 'since when (epoch ms), when known; market time for the kill switch' }),
  reason: Type.String(),
  action: Type.String({ description: 'what a person does about it' }),
  release: Type.Union([Type.Object({ method: Type.Literal('POST'), path: Type.String() }), Type.Null()], {
    description: 'the call that releases it (admins), when one does',
  }),
});

/** Schema: HaltsSchema. */
export const HaltsSchema = Type.Object({ halted: Type.Boolean({ description: 'true when a critical halt stops orders' }), halts: Type.Array(HaltSchema) });
