/**
 * The strategy plugin API. A strategy is a pure plugin: it reads the world through
 * read-only views and acts only by submitting or cancelling intents, which go through
 * risk before any order exists. It never sees a broker, an actor or I/O. Hooks are
 * synchronous and return the next state, so a unit test is a loop over inputs with a
 * fake context (see test/support/strategy-kit.ts).
 *
 * Two things besides intents reach the outside world, both pure data: `ctx.signal()` gives
 * the signal aggregator the strategy's view of a symbol (a vote, not an order), and
 * `regimes` on the definition keeps the strategy out of regimes it is not meant for (the
 * host refuses its new entries there; exits still go through).
 */
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { deepestIssue } from '../model/validation.js';
import type {
  Bar,
  BarInterval,
  Fill,
  Order,
  OrderExplanation,
  OrderType,
  Paise,
  Prediction,
  Product,
  Regime,
  Side,
  SignalAggregated,
  Tick,
  Validity,
} from '../model/index.js';

/** JSON-safe data, the shape of encoded strategy state. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What a strategy wants delivered; the host wires the streams. */
export type Subscription =
  | { readonly kind: 'ticks'; readonly symbols: readonly string[] }
  | { readonly kind: 'bars'; readonly symbols: readonly string[]; readonly interval: BarInterval }
  /** The signal aggregator's vote on these symbols, delivered to `onAggregate` (see the `ensemble` strategy). */
  | { readonly kind: 'aggregates'; readonly symbols: readonly string[] }
  /** The live ML model's predictions on these symbols (one per closed bar of the model's interval), delivered to `onPrediction`. */
  | { readonly kind: 'predictions'; readonly symbols: readonly string[] };

/** The latest market state of a symbol, as the symbol actor last published it. */
export interface Quote {
  readonly symbol: string;
  readonly ltpPaise: Paise;
  readonly bidPaise?: Paise;
  readonly askPaise?: Paise;
  readonly volume: number;
  readonly exchangeTimeMs: number;
}

/** Read-only market view. */
export interface MarketView {
  quote(symbol: string): Quote | undefined;
}

/** Read-only view of the strategy's portfolio. */
export interface PortfolioView {
  /** Net quantity held in the symbol (all products), + long / − short. */
  netQuantity(symbol: string): number;
  /** Quantity in orders that are still working for this strategy in the symbol (signed). */
  workingQuantity(symbol: string): number;
  readonly cashPaise: Paise;
}

/** What a strategy asks for. The host fills in ids, portfolio and timestamps. */
export interface IntentRequest {
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: number;
  readonly orderType?: OrderType;
  readonly product?: Product;
  readonly validity?: Validity;
  readonly limitPricePaise?: Paise;
  readonly triggerPricePaise?: Paise;
  /** Why: kept with the order so a person can see it later. */
  readonly reason?: string;
  /** Why, in structured form (which signals, weights, confidence); kept with the order. The host adds the regime. */
  readonly explanation?: OrderExplanation;
}

/**
 * A strategy's view of a symbol for the signal aggregator: a vote, never an order. The host
 * stamps it with the strategy id and the time; the latest signal of each strategy per
 * symbol counts until it expires (see `src/signals/aggregator.ts`).
 */
export interface SignalRequest {
  readonly symbol: string;
  readonly direction: 'long' | 'short' | 'flat';
  /** 0…1: how sure the strategy is (values outside are clamped). */
  readonly confidence: number;
  /** Why, for people: it appears in the aggregator's explanation and in orders made from the vote. */
  readonly reason?: string;
}

/** The aggregator's vote on a symbol, as `onAggregate` receives it: decision, score, and every signal that counted. */
export type AggregateDecision = Omit<SignalAggregated, 'type'>;

/** What a strategy hears about its own orders. */
export type StrategyOrderEvent =
  | { readonly type: 'OrderUpdated'; readonly order: Order }
  | { readonly type: 'OrderFilled'; readonly order: Order; readonly fill: Fill }
  | {
      readonly type: 'IntentRejected';
      readonly intentId: string;
      readonly symbol: string;
      readonly reason: string;
      /** `"regime-gated"` when the host refused it for the regime; risk's refusals leave it out. */
      readonly code?: string;
    };

/** An intent that passed risk's checks but waits in its pacing queue for the orders-per-second limits. */
export interface PendingIntent {
  readonly intentId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly quantity: number;
  /** When risk queued it (the strategy's clock). */
  readonly queuedAtMs: number;
  readonly reason: string;
}

/** An intent refused (by risk, the regime gate, the broker, or dropped as stale from the pacing queue). */
export interface RefusedIntent {
  readonly intentId: string;
  readonly symbol: string;
  readonly side: Side;
  /** The quantity that was still to trade when it was refused. */
  readonly quantity: number;
  /** The refusal's code when there is one (risk's codes, `regime-gated`, `pacing-expired`). */
  readonly code?: string;
  readonly reason: string;
  readonly atMs: number;
}

/**
 * Read-only view of the strategy's own intents that did not become orders (yet). Pending
 * intents still count in `portfolio.workingQuantity`: do not send them again.
 */
export interface IntentsView {
  /** Intents waiting in risk's pacing queue, oldest first; only those in `symbol` when given. */
  pending(symbol?: string): readonly PendingIntent[];
  /** The latest refused intents (at most {@link REFUSED_INTENTS_KEPT}), oldest first; only those in `symbol` when given. */
  refused(symbol?: string): readonly RefusedIntent[];
}

/** How many refused intents the host keeps for {@link IntentsView.refused}. */
export const REFUSED_INTENTS_KEPT = 50;

export interface StrategyLog {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
}

/** Everything a hook may use. Only reads, plus submit/cancel. */
export interface StrategyContext<Config = unknown> {
  readonly strategyId: string;
  /** The instance's validated configuration. */
  readonly config: Config;
  readonly portfolioId: string;
  /** The strategy's clock: market time in backtests, wall time live. */
  nowMs(): number;
  readonly market: MarketView;
  readonly portfolio: PortfolioView;
  /** This strategy's intents waiting for the order rate limit, and those refused lately. */
  readonly intents: IntentsView;
  readonly log: StrategyLog;
  /** Submits an intent; returns its id. The order exists only if risk approves it. */
  submit(request: IntentRequest): string;
  /** Asks to cancel the order made from an intent. */
  cancel(intentId: string): void;
  /** Gives the signal aggregator this strategy's view of a symbol (replaces its previous one). Pure: no order. */
  signal(request: SignalRequest): void;
  /**
   * The current regime of a symbol (or of the whole market when `symbol` is omitted), as the
   * regime detector last published it; undefined while it is still warming up.
   */
  regime(symbol?: string): MarketRegime | undefined;
}

/** A field of a strategy's configuration, for validation messages and the dashboard's form. */
export interface ConfigField {
  readonly name: string;
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'symbols' | 'enum';
  readonly description: string;
  readonly default?: ConfigDefault;
  readonly min?: number;
  readonly max?: number;
  readonly options?: readonly string[];
}

/** Market regimes a strategy may say it trades in; the regime detector classifies bars into these. */
export type MarketRegime = Regime;

/** A strategy kind. Build one with {@link defineStrategy}. */
export interface StrategyDefinition<Config, State> {
  /** Stable and persisted, e.g. "ema-cross". */
  readonly kind: string;
  readonly description: string;
  /** Bump when State changes shape; decodeState gets the old version. */
  readonly stateVersion: number;
  readonly configFields: readonly ConfigField[];
  /**
   * The market regimes this strategy is meant for (e.g. a trend follower: `['trending']`);
   * absent means "any regime". The host enforces it: while the regime of a symbol is known
   * and not in this list, an intent that would open or add to a position there is refused
   * (a `regime-gated` RiskAlert and an `IntentRejected` with that code); one that reduces or
   * closes it goes through, and one that would flip it is cut to the quantity that flattens
   * it. Signals sent there become `flat` (an abstention). A runtime may override it per
   * instance. See docs/strategies.md, "Regimes".
   */
  readonly regimes?: readonly MarketRegime[];
  /**
   * Whose regime gates the strategy: each symbol's own (default; the market's while the
   * symbol's is unknown), or the whole market's (for strategies that rotate across a universe).
   */
  readonly regimeScope?: 'symbol' | 'market';
  /**
   * The product of the strategy's orders: MIS for intraday strategies (the broker squares them
   * off at 15:20 IST), CNC for anything held overnight (daily-bar strategies default to it). The
   * host gives it to intents that name no product; the API shows it. Absent: MIS.
   */
  readonly product?: (config: Config) => Product;
  /** Validates raw configuration; throws {@link StrategyConfigError} naming the field. {@link fieldConfig} gives both this and `configFields`. */
  parseConfig(raw: unknown): Config;
  subscriptions(config: Config): readonly Subscription[];
  init(ctx: StrategyContext<Config>): State;
  onTick?(state: State, tick: Tick, ctx: StrategyContext<Config>): State;
  onBar?(state: State, bar: Bar, ctx: StrategyContext<Config>): State;
  onOrderEvent?(state: State, event: StrategyOrderEvent, ctx: StrategyContext<Config>): State;
  /** The aggregator's vote on a subscribed symbol (`{ kind: 'aggregates' }`), on every new signal and closed bar. */
  onAggregate?(state: State, decision: AggregateDecision, ctx: StrategyContext<Config>): State;
  /**
   * A prediction of the live ML model on a subscribed symbol (`{ kind: 'predictions' }`): model
   * version, bar, class probabilities. Pure data, like a bar; see the `ml-signal` strategy.
   */
  onPrediction?(state: State, prediction: Prediction, ctx: StrategyContext<Config>): State;
  encodeState(state: State): Json;
  decodeState(json: Json, fromVersion: number): State;
}

/** A definition with its types erased, as the registry and the host hold it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStrategyDefinition = StrategyDefinition<any, any>;

/**
 * Declares a strategy. An identity function that gives the object literal its type, so a
 * misspelled hook (`onTicks`) is a compile error rather than a hook never called.
 */
export function defineStrategy<Config, State>(definition: StrategyDefinition<Config, State>): StrategyDefinition<Config, State> {
  return definition;
}

/** Strategy state read from a snapshot that does not fit the strategy's state schema (or state that is not JSON). */
export class StrategyStateError extends Error {
  constructor(
    /** The strategy's kind, when known (the host adds it). */
    readonly strategy: string | undefined,
    /** JSON pointer of the first field that does not fit (`''`: the state itself). */
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${strategy === undefined ? 'strategy' : `strategy ${strategy}`} state: ${path === '' ? 'the state' : path} ${problem}`);
    this.name = 'StrategyStateError';
  }

  /** The same error, naming the strategy. */
  of(strategy: string): StrategyStateError {
    return this.strategy === undefined ? new StrategyStateError(strategy, this.path, this.problem) : this;
  }
}

/** A deep copy of `value` as {@link Json}; throws {@link StrategyStateError} at the first part that JSON cannot carry. */
export function toJson(value: unknown, path = ''): Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw new StrategyStateError(undefined, path, `is ${value}, which JSON cannot carry`);
  }
  if (Array.isArray(value)) return value.map((item, index) => toJson(item, `${path}/${index}`));
  const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (typeof value === 'object' && (prototype === Object.prototype || prototype === null)) {
    const copy: { [key: string]: Json } = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) copy[key] = toJson(item, `${path}/${key}`);
    return copy;
  }
  throw new StrategyStateError(undefined, path, `is a ${typeof value === 'object' ? 'non-plain object' : typeof value}, which JSON cannot carry`);
}

/**
 * The state codec for strategies whose state is plain JSON, declared by a TypeBox schema (the
 * state's type is `Static<typeof schema>`). Encode is a deep copy that checks the state is JSON;
 * decode checks the snapshot's JSON against the schema and returns a private copy, or throws
 * {@link StrategyStateError} naming the first field that does not fit (the host adds the
 * strategy's kind). A snapshot never shares objects with the live state the hooks mutate.
 * Spread it into a definition: `...plainJsonState(MyStateSchema)`.
 */
export function plainJsonState<S extends TSchema>(schema: S): Pick<StrategyDefinition<unknown, Static<S>>, 'encodeState' | 'decodeState'> {
  return {
    encodeState: (state) => toJson(state),
    decodeState: (json) => {
      if (Value.Check(schema, json)) return structuredClone(json);
      const first = deepestIssue(Value.Errors(schema, json));
      throw new StrategyStateError(undefined, first?.instancePath ?? '', first?.message ?? 'does not match the state schema');
    },
  };
}

/**
 * The regime gate, as the host applies it to every intent (and the test kit too): how much
 * of an order may go through. All of it when the strategy trades in any regime (`tradesIn`
 * undefined or empty), while the regime is unknown (the detector is warming up), or when the
 * regime is one of `tradesIn`; otherwise only the part that brings `committed` (net position
 * + working orders, signed) towards zero without crossing it: exits go through, entries do not.
 */
export function regimeGateQuantity(
  tradesIn: readonly MarketRegime[] | undefined,
  regime: MarketRegime | undefined,
  committed: number,
  side: Side,
  quantity: number,
): number {
  if (tradesIn === undefined || tradesIn.length === 0 || regime === undefined || tradesIn.includes(regime)) return quantity;
  if (side === 'SELL' && committed > 0) return Math.min(quantity, committed);
  if (side === 'BUY' && committed < 0) return Math.min(quantity, -committed);
  return 0;
}

/** A configuration value that does not fit; names the field and says why. */
export class StrategyConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'StrategyConfigError';
  }
}

/** A setting's default (JSON; lists of symbols may be read-only literals). */
export type ConfigDefault = string | number | boolean | readonly string[];

/** The value type of one declared field. */
type FieldValue<F extends ConfigField> = F extends { readonly type: 'integer' | 'number' }
  ? number
  : F extends { readonly type: 'string' }
    ? string
    : F extends { readonly type: 'boolean' }
      ? boolean
      : F extends { readonly type: 'symbols' }
        ? readonly string[]
        : F extends { readonly type: 'enum'; readonly options: readonly (infer O extends string)[] }
          ? O
          : never;

/** The configuration a list of fields declares (declare the list `as const satisfies readonly ConfigField[]`). */
export type ConfigOf<Fields extends readonly ConfigField[]> = { readonly [F in Fields[number] as F['name']]: FieldValue<F> };

const SYMBOL_PATTERN = '^[A-Z0-9&_-]{1,32}$';

/** The TypeBox schema of one field. */
function fieldSchema(field: ConfigField): TSchema {
  const range = { ...(field.min === undefined ? {} : { minimum: field.min }), ...(field.max === undefined ? {} : { maximum: field.max }) };
  switch (field.type) {
    case 'integer':
      return Type.Integer(range);
    case 'number':
      return Type.Number(range);
    case 'string':
      return Type.String();
    case 'boolean':
      return Type.Boolean();
    case 'enum':
      return Type.Union((field.options ?? []).map((option) => Type.Literal(option)));
    case 'symbols':
      return Type.Array(Type.String({ pattern: SYMBOL_PATTERN }));
  }
}

const schemas = new WeakMap<readonly ConfigField[], TSchema>();
/** The TypeBox schema of a configuration: every field required (defaults are applied first), no other key. */
export function configSchema(fields: readonly ConfigField[]): TSchema {
  let schema = schemas.get(fields);
  if (schema === undefined) {
    schema = Type.Object(Object.fromEntries(fields.map((field) => [field.name, fieldSchema(field)])), { additionalProperties: false });
    schemas.set(fields, schema);
  }
  return schema;
}

/** Whether `value` is a valid configuration of `fields` (checked by their TypeBox schema). */
function isConfigOf<const Fields extends readonly ConfigField[]>(fields: Fields, value: unknown): value is ConfigOf<Fields> {
  return Value.Check(configSchema(fields), value);
}

/** Why a value does not fit its field, in the words the dashboard and the API show. */
function problemOf(field: ConfigField, value: unknown, keyword: string): string {
  switch (field.type) {
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number';
      if (keyword === 'minimum') return `must be at least ${field.min}`;
      if (keyword === 'maximum') return `must be at most ${field.max}`;
      return 'must be a whole number';
    case 'string':
      return 'must be text';
    case 'boolean':
      return 'must be true or false';
    case 'enum':
      return `must be one of ${(field.options ?? []).join(', ')}`;
    case 'symbols':
      return 'must be a list of NSE symbols such as ["INFY","TCS"]';
  }
}

/**
 * Reads a configuration object against its declared fields, validated by their TypeBox schema
 * ({@link configSchema}): defaults applied, types and ranges checked, unknown keys rejected. A
 * value that does not fit throws {@link StrategyConfigError} naming the first such field (in
 * declaration order). Symbols may also be given as one comma-separated string.
 */
export function readConfig<const Fields extends readonly ConfigField[]>(fields: Fields, raw: unknown): ConfigOf<Fields> {
  const source = raw ?? {};
  if (typeof source !== 'object' || Array.isArray(source)) throw new StrategyConfigError('config', 'must be an object');
  const input = new Map<string, unknown>(Object.entries(source));
  const known = new Set(fields.map((field) => field.name));
  for (const key of input.keys()) {
    if (!known.has(key)) throw new StrategyConfigError(key, 'is not a setting of this strategy');
  }
  const values: Record<string, unknown> = {};
  for (const field of fields) {
    let value = input.get(field.name) ?? field.default;
    if (value === undefined) throw new StrategyConfigError(field.name, 'is required');
    if (field.type === 'symbols' && typeof value === 'string')
      value = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    values[field.name] = Array.isArray(value) ? [...(value as readonly unknown[])] : value;
  }
  if (isConfigOf(fields, values)) return values;
  const errors = [...Value.Errors(configSchema(fields), values)];
  for (const field of fields) {
    const error = errors.find((candidate) => candidate.instancePath === `/${field.name}` || candidate.instancePath.startsWith(`/${field.name}/`));
    if (error) throw new StrategyConfigError(field.name, problemOf(field, values[field.name], error.keyword));
  }
  throw new StrategyConfigError('config', errors[0]?.message ?? 'does not fit the strategy');
}

/** The part of a definition that declares and reads its configuration. */
export type ConfigPart<Config> = Pick<StrategyDefinition<Config, unknown>, 'configFields' | 'parseConfig'>;

/**
 * A configuration declared by its fields, as a definition's `configFields` and `parseConfig`:
 * `parseConfig` reads the raw settings with {@link readConfig} (defaults, types, ranges,
 * unknown keys), then gives the values to `check`, when there is one, for the rules between
 * fields and the values derived from them (a resolved product, a parsed time); `check`
 * returns the config or throws {@link StrategyConfigError} naming the field. Spread it into a
 * definition: `...fieldConfig(FIELDS)`, or `...fieldConfig(FIELDS, (values) => { …; return values; })`.
 */
export function fieldConfig<const Fields extends readonly ConfigField[]>(fields: Fields): ConfigPart<ConfigOf<Fields>>;
export function fieldConfig<const Fields extends readonly ConfigField[], Config>(
  fields: Fields,
  check: (values: ConfigOf<Fields>) => Config,
): ConfigPart<Config>;
export function fieldConfig(fields: readonly ConfigField[], check?: (values: ConfigOf<readonly ConfigField[]>) => unknown): ConfigPart<unknown> {
  return {
    configFields: fields,
    parseConfig: (raw) => {
      const values = readConfig(fields, raw);
      return check === undefined ? values : check(values);
    },
  };
}
