/**
 * The signal aggregator (pure): combines the latest signal of each strategy for a symbol
 * into one decision by a weighted vote with confidence, and explains it.
 *
 * Rule: each fresh signal (younger than `maxAgeMs`) contributes
 *   weight(strategy) × confidence × decay × (+1 long, −1 short, 0 flat)
 * where decay = 0.5^(age / halfLifeMs) (1 when `halfLifeMs` is 0: no decay, only expiry)
 * and the score is the sum divided by the sum of the weights of all fresh signals (flat
 * ones included, so abstentions dilute), hence −1…1. BUY when score ≥ threshold, SELL when
 * score ≤ −threshold, else FLAT. With fewer than `minSignals` fresh signals: FLAT. A tie
 * (long and short weighted votes exactly equal and not zero) follows `tieRule`: `flat`,
 * `keep` (the previous decision), or `strongest` (the side of the single largest
 * weight × confidence, ties broken by strategy id). Deterministic: contributions are
 * ordered by strategy id; no clock of its own.
 */
import type { SignalAggregated, SignalContribution } from '../model/index.js';

/** One strategy's view of a symbol. */
export interface Signal {
  readonly strategyId: string;
  readonly symbol: string;
  readonly direction: 'long' | 'short' | 'flat';
  /** 0…1; values outside are clamped. */
  readonly confidence: number;
  readonly atMs: number;
  readonly reason?: string;
}

/** How to break an exact tie between long and short votes. */
export type TieRule = 'flat' | 'keep' | 'strongest';

/** Configuration of the vote. */
export interface AggregatorConfig {
  /** Weight per strategy id; strategies not listed get `defaultWeight`. A weight of 0 ignores a strategy. */
  readonly weights: Readonly<Record<string, number>>;
  readonly defaultWeight: number;
  /** |score| needed for BUY or SELL, 0…1. */
  readonly threshold: number;
  readonly minSignals: number;
  readonly tieRule: TieRule;
  /** Signals older than this (relative to the evaluation time) no longer count. */
  readonly maxAgeMs: number;
  /** A signal's confidence halves every `halfLifeMs` of age (0: no decay, a signal counts fully until it expires). */
  readonly halfLifeMs: number;
}

/** Defaults: equal weights, threshold 0.3, one signal enough, ties → FLAT, signals live 15 minutes without decay. */
export const DEFAULT_AGGREGATOR_CONFIG: AggregatorConfig = {
  weights: {},
  defaultWeight: 1,
  threshold: 0.3,
  minSignals: 1,
  tieRule: 'flat',
  maxAgeMs: 15 * 60_000,
  halfLifeMs: 0,
};

/**
 * A full configuration from a partial one, checked: weights and the threshold finite and
 * not negative, the threshold at most 1, ages positive. Throws a RangeError naming the field.
 */
export function aggregatorConfig(partial: Partial<AggregatorConfig> = {}): AggregatorConfig {
  const config: AggregatorConfig = { ...DEFAULT_AGGREGATOR_CONFIG, ...partial, weights: { ...DEFAULT_AGGREGATOR_CONFIG.weights, ...partial.weights } };
  const check = (field: string, ok: boolean): void => {
    if (!ok) throw new RangeError(`aggregator ${field} is out of range`);
  };
  for (const [strategyId, weight] of Object.entries(config.weights)) check(`weights.${strategyId}`, Number.isFinite(weight) && weight >= 0);
  check('defaultWeight', Number.isFinite(config.defaultWeight) && config.defaultWeight >= 0);
  check('threshold', Number.isFinite(config.threshold) && config.threshold >= 0 && config.threshold <= 1);
  check('minSignals', Number.isSafeInteger(config.minSignals) && config.minSignals >= 0);
  check('maxAgeMs', Number.isFinite(config.maxAgeMs) && config.maxAgeMs > 0);
  check('halfLifeMs', Number.isFinite(config.halfLifeMs) && config.halfLifeMs >= 0);
  check('tieRule', ['flat', 'keep', 'strongest'].includes(config.tieRule));
  return config;
}

/** The decision for a symbol with everything that explains it. */
export type Aggregation = Omit<SignalAggregated, 'type'> & {
  /** Signals left out, and why (stale, zero weight). */
  readonly ignored: readonly { readonly strategyId: string; readonly why: string }[];
  /** Whether the tie rule decided. */
  readonly tie: boolean;
};

/** Latest signal per strategy per symbol. JSON, so it snapshots as is. */
export interface AggregatorState {
  readonly signals: Readonly<Record<string, Readonly<Record<string, Signal>>>>;
  readonly decisions: Readonly<Record<string, Aggregation['decision']>>;
}

/** No signals yet. */
export const emptyAggregatorState = (): AggregatorState => ({ signals: {}, decisions: {} });

/** Records a signal (replacing that strategy's previous one for the symbol). Pure. */
export function recordSignal(state: AggregatorState, signal: Signal): AggregatorState {
  const forSymbol = { ...(state.signals[signal.symbol] ?? {}), [signal.strategyId]: signal };
  return { ...state, signals: { ...state.signals, [signal.symbol]: forSymbol } };
}

const clamp01 = (value: number): number => (Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0);
const sign = (direction: Signal['direction']): number => (direction === 'long' ? 1 : direction === 'short' ? -1 : 0);
const round = (value: number): number => Math.round(value * 1e6) / 1e6;

interface Counted {
  readonly signal: Signal;
  readonly weight: number;
  readonly confidence: number;
}

/** The numbers of a vote, without its explanation: what `aggregate` decides, computed cheaply. */
interface Tally {
  readonly decision: Aggregation['decision'];
  readonly score: number;
  readonly tie: boolean;
  readonly totalWeight: number;
  readonly longVote: number;
  readonly shortVote: number;
  readonly counted: readonly Counted[];
  readonly ignored: readonly { readonly strategyId: string; readonly why: string }[];
}

const byStrategyId = (a: Signal, b: Signal): number => (a.strategyId < b.strategyId ? -1 : a.strategyId > b.strategyId ? 1 : 0);

const NOTHING: never[] = [];

/**
 * The vote's numbers. `collect` also lists what was counted and ignored (for the explanation);
 * without it a tally allocates only its result, which is what most votes need.
 */
function tally(signals: readonly Signal[], nowMs: number, config: AggregatorConfig, previous: Aggregation['decision'], collect = true): Tally {
  const ordered = signals.length > 1 ? [...signals].sort(byStrategyId) : signals;
  const ignored: { strategyId: string; why: string }[] = collect ? [] : NOTHING;
  const counted: Counted[] = collect ? [] : NOTHING;
  let countedSignals = 0;
  let totalWeight = 0;
  let longVote = 0;
  let shortVote = 0;
  // the strongest directional signal (tie rule "strongest"): the first counted one until a stronger one
  let best: Signal | undefined;
  let bestStrength = 0;
  for (const signal of ordered) {
    const weight = config.weights[signal.strategyId] ?? config.defaultWeight;
    if (!(weight > 0)) {
      if (collect) ignored.push({ strategyId: signal.strategyId, why: 'weight 0' });
    } else if (nowMs - signal.atMs > config.maxAgeMs) {
      if (collect) ignored.push({ strategyId: signal.strategyId, why: `stale: ${Math.round((nowMs - signal.atMs) / 1000)} s old` });
    } else {
      const age = Math.max(0, nowMs - signal.atMs);
      const decay = config.halfLifeMs > 0 ? 0.5 ** (age / config.halfLifeMs) : 1;
      const confidence = round(clamp01(signal.confidence) * decay);
      if (collect) counted.push({ signal, weight, confidence });
      countedSignals += 1;
      totalWeight += weight;
      const direction = sign(signal.direction);
      const vote = weight * confidence * direction;
      if (vote > 0) longVote += vote;
      if (vote < 0) shortVote -= vote;
      const strength = weight * confidence;
      if (best === undefined || (direction !== 0 && (sign(best.direction) === 0 || strength > bestStrength))) {
        best = signal;
        bestStrength = strength;
      }
    }
  }
  const score = totalWeight === 0 ? 0 : round((longVote - shortVote) / totalWeight);
  let decision: Aggregation['decision'] = 'FLAT';
  let tie = false;
  if (countedSignals < config.minSignals) {
    // FLAT
  } else if (longVote > 0 && longVote === shortVote) {
    tie = true;
    if (config.tieRule === 'keep') decision = previous;
    else if (config.tieRule === 'strongest' && best !== undefined) decision = best.direction === 'long' ? 'BUY' : best.direction === 'short' ? 'SELL' : 'FLAT';
  } else if (score >= config.threshold) {
    decision = 'BUY';
  } else if (score <= -config.threshold) {
    decision = 'SELL';
  }
  return { decision, score, tie, totalWeight, longVote, shortVote, counted, ignored };
}

/** The vote for one symbol at `nowMs`. `previous` is used by the `keep` tie rule. */
export function aggregate(
  signals: readonly Signal[],
  nowMs: number,
  config: AggregatorConfig = DEFAULT_AGGREGATOR_CONFIG,
  previous: Aggregation['decision'] = 'FLAT',
): Aggregation {
  return explain(signals[0]?.symbol ?? '', tally(signals, nowMs, config, previous), nowMs, config);
}

/** A tally with its explanation: every contribution, and a summary a person can read. */
function explain(symbol: string, t: Tally, nowMs: number, config: AggregatorConfig): Aggregation {
  const { decision, score, tie, counted, ignored, totalWeight } = t;
  const contributions: SignalContribution[] = counted.map(({ signal, weight, confidence }) => ({
    strategyId: signal.strategyId,
    direction: signal.direction,
    confidence,
    weight,
    contribution: round((weight * confidence * sign(signal.direction)) / totalWeight),
    atMs: signal.atMs,
    ...(signal.reason === undefined ? {} : { reason: signal.reason }),
  }));
  let why: string;
  if (counted.length < config.minSignals) {
    why = `only ${counted.length} fresh signal${counted.length === 1 ? '' : 's'}, ${config.minSignals} needed`;
  } else if (tie) {
    why = `long and short votes tie; tie rule "${config.tieRule}" gives ${decision}`;
  } else if (decision === 'BUY') {
    why = `score ${score.toFixed(2)} ≥ threshold ${config.threshold.toFixed(2)}`;
  } else if (decision === 'SELL') {
    why = `score ${score.toFixed(2)} ≤ −${config.threshold.toFixed(2)}`;
  } else {
    why = `score ${score.toFixed(2)} inside ±${config.threshold.toFixed(2)}`;
  }
  const confidence = decision === 'FLAT' ? 0 : round(Math.abs(score));
  const parts = contributions.map((c) => `${c.strategyId} ${c.direction} ${c.confidence.toFixed(2)}×w${c.weight}${c.reason ? ` (${c.reason})` : ''}`);
  const summary = `${decision} ${symbol}: ${why}; from ${parts.length > 0 ? parts.join(', ') : 'no signals'}${ignored.length > 0 ? `; ignored ${ignored.map((i) => `${i.strategyId} (${i.why})`).join(', ')}` : ''}`;
  return { symbol, decision, score, confidence, atMs: nowMs, contributions, summary, ignored, tie };
}

/**
 * The aggregator actor's working state: {@link AggregatorState}'s shape, updated in place
 * (the actor owns it; snapshots take a copy). One vote costs a tally of the symbol's signals;
 * the explanation is built only when someone reads it.
 */
export class AggregatorBook {
  private readonly signals: Record<string, Record<string, Signal>>;
  private readonly decisions: Record<string, Aggregation['decision']>;

  constructor(state: AggregatorState = emptyAggregatorState()) {
    const copy = structuredClone(state) as { signals: Record<string, Record<string, Signal>>; decisions: Record<string, Aggregation['decision']> };
    this.signals = copy.signals;
    this.decisions = copy.decisions;
  }

  /** Records a signal, replacing that strategy's previous one for the symbol. */
  record(signal: Signal): void {
    (this.signals[signal.symbol] ??= {})[signal.strategyId] = signal;
  }

  hasSignals(symbol: string): boolean {
    const forSymbol = this.signals[symbol];
    if (forSymbol === undefined) return false;
    for (const _ in forSymbol) return true;
    return false;
  }

  /**
   * Votes on `symbol` at `nowMs` and records the decision. `explained` builds the full
   * aggregation when the decision changed or `wanted`; otherwise it is left out (undefined).
   */
  vote(symbol: string, nowMs: number, config: AggregatorConfig, wanted: boolean): { readonly changed: boolean; readonly aggregation: Aggregation | undefined } {
    const previous = this.decisions[symbol];
    const signals = Object.values(this.signals[symbol] ?? {});
    const t = tally(signals, nowMs, config, previous ?? 'FLAT', wanted);
    const changed = t.decision !== previous;
    this.decisions[symbol] = t.decision;
    if (!changed && !wanted) return { changed, aggregation: undefined };
    // a changed decision nobody asked for is explained too (it is published): tally again, listing
    return { changed, aggregation: explain(symbol, wanted ? t : tally(signals, nowMs, config, previous ?? 'FLAT'), nowMs, config) };
  }

  /** The vote on `symbol` now, explained, without recording it. */
  peek(symbol: string, nowMs: number, config: AggregatorConfig): Aggregation {
    return explain(symbol, tally(Object.values(this.signals[symbol] ?? {}), nowMs, config, this.decisions[symbol] ?? 'FLAT'), nowMs, config);
  }

  /** A copy in the snapshot shape. */
  toState(): AggregatorState {
    return structuredClone({ signals: this.signals, decisions: this.decisions });
  }
}

/** Evaluates a symbol from the state and records the decision (for the `keep` tie rule). */
export function decide(
  state: AggregatorState,
  symbol: string,
  nowMs: number,
  config: AggregatorConfig = DEFAULT_AGGREGATOR_CONFIG,
): { readonly state: AggregatorState; readonly aggregation: Aggregation; readonly changed: boolean } {
  const previous = state.decisions[symbol] ?? 'FLAT';
  const aggregation = explain(symbol, tally(Object.values(state.signals[symbol] ?? {}), nowMs, config, previous), nowMs, config);
  const changed = aggregation.decision !== previous || state.decisions[symbol] === undefined;
  return { state: { ...state, decisions: { ...state.decisions, [symbol]: aggregation.decision } }, aggregation, changed };
}

/** The event form of an aggregation, for the bus. */
export function toSignalAggregated(aggregation: Aggregation): SignalAggregated {
  const { symbol, decision, score, confidence, atMs, contributions, summary } = aggregation;
  return { type: 'SignalAggregated', symbol, decision, score, confidence, atMs, contributions, summary };
}

/** Whether a symbol has any signal recorded (fresh or not). */
export function hasSignals(state: AggregatorState, symbol: string): boolean {
  return Object.keys(state.signals[symbol] ?? {}).length > 0;
}

/** The explanation as an order's reason (`OrderIntent.reason`): short enough for a column, complete enough for a person. */
export function aggregationReason(aggregation: Aggregation, maxLength = 500): string {
  return aggregation.summary.length <= maxLength ? aggregation.summary : `${aggregation.summary.slice(0, maxLength - 1)}…`;
}
