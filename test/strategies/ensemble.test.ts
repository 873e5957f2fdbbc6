import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/strategies/api.js';
import { ensemble, type EnsembleConfig } from '../../src/strategies/ensemble/ensemble.strategy.js';
import { strategyByKind, type AggregateDecision } from '../../src/strategies/index.js';
import { deliver, fakeContext } from '../support/strategy-kit.js';

const config = (overrides: Record<string, unknown> = {}): EnsembleConfig => ensemble.parseConfig({ symbols: ['INFY'], quantity: 10, ...overrides });
const t0 = Date.parse('2026-05-20T04:00:00Z');

function vote(decision: AggregateDecision['decision'], score: number, symbol = 'INFY'): AggregateDecision {
  return {
    symbol,
    decision,
    score,
    confidence: decision === 'FLAT' ? 0 : Math.abs(score),
    atMs: t0,
    contributions: [
      {
        strategyId: 'ema',
        direction: score > 0 ? 'long' : 'short',
        confidence: 0.9,
        weight: 2,
        contribution: score,
        atMs: t0,
        reason: 'EMA8 above EMA21 by 0.40%',
      },
      { strategyId: 'rsi', direction: 'flat', confidence: 0, weight: 1, contribution: 0, atMs: t0 },
    ],
    summary: `${decision} ${symbol}: score ${score.toFixed(2)}; from ema, rsi`,
  };
}

/** Feeds votes through onAggregate. */
function run(kit: ReturnType<typeof fakeContext<EnsembleConfig>>, votes: readonly AggregateDecision[]) {
  let state = ensemble.init(kit.ctx);
  for (const v of votes) state = ensemble.onAggregate!(state, v, kit.ctx);
  return state;
}

describe('ensemble strategy (trades the aggregator’s vote)', () => {
  it('is registered, subscribes to the aggregate of its symbols, and validates its settings', () => {
    expect(strategyByKind('ensemble')).toBe(ensemble);
    expect(ensemble.subscriptions(config())).toEqual([{ kind: 'aggregates', symbols: ['INFY'] }]);
    expect(config()).toMatchObject({ minConfidence: 0, onFlat: 'exit', product: 'CNC' });
    expect(() => config({ minConfidence: 2 })).toThrow(/minConfidence: must be at most 1/);
    expect(() => ensemble.parseConfig({ symbols: [] })).toThrow(/symbols: needs at least one symbol/);
    expect(() => config({ product: 'MIS' })).toThrow(/product: must be one of CNC/);
  });

  it('buys on BUY, sells on SELL and FLAT, never twice, with the vote as the explanation', () => {
    const kit = fakeContext(config());
    let state = run(kit, [vote('BUY', 0.6), vote('BUY', 0.7)]);
    expect(kit.recorded.submitted).toHaveLength(1); // the second BUY finds the first working
    const order = kit.recorded.submitted[0]!;
    expect(order).toMatchObject({
      symbol: 'INFY',
      side: 'BUY',
      quantity: 10,
      orderType: 'MARKET',
      product: 'CNC',
      reason: 'aggregate vote: BUY INFY: score 0.60; from ema, rsi',
    });
    expect(order.explanation).toEqual({
      source: 'signal-aggregator',
      summary: 'BUY INFY: score 0.60; from ema, rsi',
      decision: 'BUY',
      score: 0.6,
      confidence: 0.6,
      atMs: t0,
      signals: vote('BUY', 0.6).contributions,
    });
    kit.fillAll();
    state = ensemble.onAggregate!(state, vote('SELL', -0.5), kit.ctx);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 10 });
    expect(kit.recorded.submitted[1]?.explanation?.decision).toBe('SELL');
    kit.fillAll();
    ensemble.onAggregate!(state, vote('FLAT', 0.1), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(2); // flat already: nothing to do
  });

  it('exits only what it holds: a buy that has not filled is cancelled, never sold against (a CNC sell beyond the holdings is refused)', () => {
    const kit = fakeContext(config());
    let state = run(kit, [vote('BUY', 0.8)]);
    const buy = kit.recorded.submitted[0]!;
    state = ensemble.onAggregate!(state, vote('SELL', -0.7), kit.ctx); // the buy still works: nothing is held
    expect(kit.recorded.submitted).toHaveLength(1);
    expect(kit.recorded.cancelled).toEqual([buy.intentId]);
    kit.refuseAll(); // the buy is gone (cancelled, or refused by the broker)
    state = ensemble.onAggregate!(state, vote('SELL', -0.7), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1);
    // bought and filled: the exit sells the 10 held
    state = ensemble.onAggregate!(state, vote('BUY', 0.8), kit.ctx);
    kit.fillAll();
    ensemble.onAggregate!(state, vote('SELL', -0.7), kit.ctx);
    expect(kit.recorded.submitted.slice(1).map((r) => [r.side, r.quantity])).toEqual([
      ['BUY', 10],
      ['SELL', 10],
    ]);
    expect(kit.recorded.cancelled).toHaveLength(1);
  });

  it('holds on FLAT when told to, and ignores votes below its minimum confidence', () => {
    const holding = fakeContext(config({ onFlat: 'hold' }));
    const state = run(holding, [vote('BUY', 0.6)]);
    holding.fillAll();
    ensemble.onAggregate!(state, vote('FLAT', 0.1), holding.ctx);
    expect(holding.recorded.submitted).toHaveLength(1);

    const picky = fakeContext(config({ minConfidence: 0.5 }));
    run(picky, [vote('BUY', 0.4)]);
    expect(picky.recorded.submitted).toEqual([]);
    run(picky, [vote('BUY', 0.5)]);
    expect(picky.recorded.submitted).toHaveLength(1);
  });

  it('state survives an encode/decode round trip', () => {
    const kit = fakeContext(config());
    const state = run(kit, [vote('BUY', 0.6)]);
    const restored = ensemble.decodeState(JSON.parse(JSON.stringify(ensemble.encodeState(state))) as Json, ensemble.stateVersion);
    expect(restored).toEqual(state);
    expect(restored).not.toBe(state);
  });

  it('ignores order events (it has no hook for them) and delivers nothing on its own', () => {
    const kit = fakeContext(config());
    const state = deliver(ensemble, ensemble.init(kit.ctx), { type: 'IntentRejected', intentId: 'x:0', symbol: 'INFY', reason: 'no' }, kit.ctx);
    expect(state).toEqual({});
    expect(kit.recorded.signals).toEqual([]);
  });
});
