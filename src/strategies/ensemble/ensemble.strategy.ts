import { Type, type Static } from 'typebox';
import type { Product } from '../../model/index.js';
import { defineStrategy, fieldConfig, plainJsonState, StrategyConfigError, type ConfigField, type Subscription } from '../api.js';
import { onlyProductField, quantityField, symbolsField } from '../shared/config.js';
import { committedQuantity } from '../shared/orders.js';

/** Settings of the ensemble (the weights, threshold and expiry of the vote are the aggregator's: `RuntimeOptions.aggregator`). */
export interface EnsembleConfig {
  readonly symbols: readonly string[];
  /** Shares to hold on a BUY decision. */
  readonly quantity: number;
  /** The vote's confidence (|score|) needed to act on a BUY or SELL, on top of the aggregator's threshold. */
  readonly minConfidence: number;
  /** What a FLAT decision (no consensus, or too few fresh signals) does: sell what is held, or keep it. */
  readonly onFlat: 'exit' | 'hold';
  readonly product: Product;
}

/**
 * The last decision acted on, per symbol (for people reading the snapshot; the orders carry the
 * full explanation), and the last buy sent (cancelled when the vote turns while it still works).
 */
export const EnsembleState = Type.Record(
  Type.String(),
  Type.Object({
    decision: Type.Union([Type.Literal('BUY'), Type.Literal('SELL'), Type.Literal('FLAT')]),
    score: Type.Number(),
    atMs: Type.Number(),
    buyIntentId: Type.Optional(Type.String()),
  }),
);
export type EnsembleState = Static<typeof EnsembleState>;

const FIELDS = [
  symbolsField('Symbols to trade on the aggregate vote'),
  quantityField(),
  { name: 'minConfidence', type: 'number', description: 'Vote confidence |score| needed to act (0…1)', default: 0, min: 0, max: 1 },
  { name: 'onFlat', type: 'enum', description: 'On a FLAT vote: exit the position or hold it', default: 'exit', options: ['exit', 'hold'] },
  onlyProductField('CNC', 'CNC (delivery; long only)'),
] as const satisfies readonly ConfigField[];

/**
 * Trades on the signal aggregator's vote: other strategies (`ctx.signal`) give their views of
 * a symbol, the aggregator combines them (weighted by strategy, by confidence, expiring with
 * age), and this strategy holds `quantity` shares while the vote is BUY, none on SELL, and
 * exits (or holds) on FLAT. Every order carries the vote as its explanation: which signals,
 * weights, confidence, and why. Long only, CNC.
 */
export const ensemble = defineStrategy<EnsembleConfig, EnsembleState>({
  kind: 'ensemble',
  description: 'Trades the signal aggregator’s weighted vote of other strategies’ signals',
  stateVersion: 1,
  ...fieldConfig(FIELDS, (config) => {
    if (config.symbols.length === 0) throw new StrategyConfigError('symbols', 'needs at least one symbol');
    return config;
  }),
  product: (config) => config.product,
  subscriptions(config): Subscription[] {
    return [{ kind: 'aggregates', symbols: config.symbols }];
  },
  init() {
    return {};
  },
  onAggregate(state, vote, ctx) {
    const { quantity, minConfidence, onFlat, product } = ctx.config;
    const committed = committedQuantity(ctx, vote.symbol);
    const sure = vote.confidence >= minConfidence;
    const target = vote.decision === 'BUY' && sure ? quantity : vote.decision === 'SELL' && sure ? 0 : onFlat === 'exit' ? 0 : committed;
    let delta = target - committed;
    if (delta === 0) return state;
    const previous = state[vote.symbol];
    if (delta < 0) {
      // an exit sells only what is held (filled), less what is already being sold: a CNC sell beyond
      // the holdings is refused (insufficient-holdings); a buy still working is cancelled instead
      const working = ctx.portfolio.workingQuantity(vote.symbol);
      if (working > 0 && previous?.buyIntentId !== undefined) ctx.cancel(previous.buyIntentId);
      const sellable = Math.max(0, ctx.portfolio.netQuantity(vote.symbol) + Math.min(0, working));
      delta = -Math.min(-delta, sellable);
      if (delta === 0) {
        state[vote.symbol] = { decision: vote.decision, score: vote.score, atMs: vote.atMs };
        return state;
      }
    }
    const summary = vote.summary.length <= 500 ? vote.summary : `${vote.summary.slice(0, 499)}…`;
    const intentId = ctx.submit({
      symbol: vote.symbol,
      side: delta > 0 ? 'BUY' : 'SELL',
      quantity: Math.abs(delta),
      orderType: 'MARKET',
      product,
      reason: `aggregate vote: ${summary}`,
      explanation: {
        source: 'signal-aggregator',
        summary,
        decision: vote.decision,
        score: vote.score,
        confidence: vote.confidence,
        atMs: vote.atMs,
        signals: vote.contributions,
      },
    });
    state[vote.symbol] = { decision: vote.decision, score: vote.score, atMs: vote.atMs, ...(delta > 0 ? { buyIntentId: intentId } : {}) };
    return state;
  },
  ...plainJsonState(EnsembleState),
});
