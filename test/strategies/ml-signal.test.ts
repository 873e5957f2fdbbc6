import { describe, expect, it } from 'vitest';
import { istTimeMs, type Prediction } from '../../src/model/index.js';
import { StrategyConfigError, strategyByKind } from '../../src/strategies/index.js';
import { mlSignal, type MlSignalConfig, type MlSignalState } from '../../src/strategies/ml-signal/ml-signal.strategy.js';
import { fakeContext, netSubmitted } from '../support/strategy-kit.js';

/** A prediction of the 5-minute bar that starts at IST `hh:mm` on 2026-06-15. */
function prediction(symbol: string, hhmm: string, [down, flat, up]: [number, number, number], horizonBars = 6): Prediction {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return {
    modelVersion: 'rf-test',
    modelKind: 'random-forest',
    symbol,
    interval: '5m',
    barStartMs: istTimeMs('2026-06-15', h, m),
    horizonBars,
    classes: ['down', 'flat', 'up'],
    probabilities: [down, flat, up],
  };
}

function setup(raw: Record<string, unknown> = {}) {
  const config = mlSignal.parseConfig({ symbols: ['INFY', 'TCS'], quantity: 10, ...raw });
  const kit = fakeContext<MlSignalConfig>(config);
  let state: MlSignalState = mlSignal.init(kit.ctx);
  const feed = (p: Prediction): void => {
    state = mlSignal.onPrediction!(state, p, kit.ctx);
  };
  return { config, kit, feed, state: () => state };
}

/** Times of consecutive 5-minute bars from `hh:mm`. */
function bars(from: string, count: number): string[] {
  const [h, m] = from.split(':').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => {
    const minute = h * 60 + m + i * 5;
    return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
  });
}

describe('ml-signal (pure, fake context)', () => {
  it('is registered, subscribes to predictions of its symbols, and picks MIS on intraday bars and CNC on daily ones', () => {
    expect(strategyByKind('ml-signal')).toBe(mlSignal);
    const { config } = setup();
    expect(mlSignal.subscriptions(config)).toEqual([{ kind: 'predictions', symbols: ['INFY', 'TCS'] }]);
    expect(config.product).toBe('MIS');
    expect(mlSignal.parseConfig({ symbols: ['INFY'], interval: '1d' }).product).toBe('CNC');
    expect(() => mlSignal.parseConfig({ symbols: ['INFY'], interval: '1d', allowShort: true })).toThrow(StrategyConfigError);
    expect(() => mlSignal.parseConfig({ symbols: ['INFY'], exitTime: '15:25' })).toThrow(/15:20/);
    expect(() => mlSignal.parseConfig({ symbols: ['INFY'], entryProbability: 2 })).toThrow(StrategyConfigError);
  });

  it('enters on a confident "up", holds for the horizon, then goes flat', () => {
    const { kit, feed } = setup({ entryProbability: 0.5, minEdge: 0.2 });
    const times = bars('10:00', 8);
    feed(prediction('INFY', times[0]!, [0.1, 0.2, 0.7], 3));
    expect(kit.recorded.submitted).toHaveLength(1);
    expect(kit.recorded.submitted[0]).toMatchObject({ symbol: 'INFY', side: 'BUY', quantity: 10, product: 'MIS' });
    expect(kit.recorded.submitted[0]!.explanation).toMatchObject({ source: 'ml-signal', decision: 'BUY' });
    expect(kit.recorded.submitted[0]!.reason).toContain('rf-test');
    kit.fillAll();
    // two unsure predictions: still inside the horizon of 3 bars
    feed(prediction('INFY', times[1]!, [0.3, 0.4, 0.3], 3));
    feed(prediction('INFY', times[2]!, [0.3, 0.4, 0.3], 3));
    expect(kit.recorded.submitted).toHaveLength(1);
    // third bar after the entry: the horizon is over
    feed(prediction('INFY', times[3]!, [0.3, 0.4, 0.3], 3));
    expect(kit.recorded.submitted).toHaveLength(2);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 10 });
    expect(kit.recorded.submitted[1]!.reason).toContain('horizon');
    kit.fillAll();
    expect(netSubmitted(kit.recorded, 'INFY')).toBe(0);
  });

  it('a confirming prediction renews the holding period; a confident "down" exits a long (no short unless allowed)', () => {
    const { kit, feed } = setup({ entryProbability: 0.5, minEdge: 0.2 });
    const times = bars('10:00', 6);
    feed(prediction('TCS', times[0]!, [0.1, 0.2, 0.7], 2));
    kit.fillAll();
    feed(prediction('TCS', times[1]!, [0.1, 0.2, 0.7], 2)); // renews: no order
    feed(prediction('TCS', times[2]!, [0.3, 0.4, 0.3], 2)); // 1 bar left
    expect(kit.recorded.submitted).toHaveLength(1);
    feed(prediction('TCS', times[3]!, [0.6, 0.3, 0.1], 2)); // turned
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 10 });
    expect(kit.recorded.submitted[1]!.reason).toContain('turned');
    kit.fillAll();
    feed(prediction('TCS', times[4]!, [0.8, 0.1, 0.1], 2));
    expect(kit.recorded.submitted).toHaveLength(2); // no short: allowShort is off
  });

  it('shorts a confident "down" when allowed (MIS)', () => {
    const { kit, feed } = setup({ allowShort: true });
    feed(prediction('INFY', '11:00', [0.7, 0.2, 0.1]));
    expect(kit.recorded.submitted[0]).toMatchObject({ side: 'SELL', quantity: 10, product: 'MIS' });
    kit.fillAll();
    feed(prediction('INFY', '11:05', [0.1, 0.2, 0.7]));
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'BUY', quantity: 20 }); // flips to long
  });

  it('does not enter when the horizon would end after the exit time, and is flat from the exit time on', () => {
    const { kit, feed } = setup({ exitTime: '15:10' });
    // the 14:40 bar closes 14:45; 6 bars → 15:15 > 15:10: too late to enter
    feed(prediction('INFY', '14:40', [0.1, 0.1, 0.8], 6));
    expect(kit.recorded.submitted).toHaveLength(0);
    feed(prediction('INFY', '14:30', [0.1, 0.1, 0.8], 1)); // out of order: ignored and counted
    expect(kit.recorded.submitted).toHaveLength(0);
    feed(prediction('INFY', '14:45', [0.1, 0.1, 0.8], 2)); // closes 14:50, ends 15:00: fine
    expect(kit.recorded.submitted).toHaveLength(1);
    kit.fillAll();
    feed(prediction('INFY', '15:05', [0.1, 0.1, 0.8], 2)); // closes 15:10: exit time
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 10 });
    expect(kit.recorded.submitted[1]!.reason).toContain('exit time');
  });

  it('ignores and counts predictions of another interval; reads thresholds as ≥', () => {
    const { kit, feed, state } = setup({ entryProbability: 0.5, minEdge: 0.25 });
    feed({ ...prediction('INFY', '10:00', [0.1, 0.1, 0.8]), interval: '15m' });
    expect(state().ignored).toBe(1);
    feed(prediction('INFY', '10:05', [0.25, 0.25, 0.5])); // exactly at both thresholds
    expect(kit.recorded.submitted).toHaveLength(1);
    expect(mlSignal.decodeState(mlSignal.encodeState(state()), 1)).toEqual(state());
  });

  it('CNC (daily): long only, sells only what is held', () => {
    const config = mlSignal.parseConfig({ symbols: ['INFY'], interval: '1d', quantity: 5 });
    const kit = fakeContext<MlSignalConfig>(config);
    let state = mlSignal.init(kit.ctx);
    const day = (date: string, probabilities: [number, number, number]): Prediction => ({
      ...prediction('INFY', '09:15', probabilities, 2),
      interval: '1d',
      barStartMs: istTimeMs(date, 9, 15),
    });
    state = mlSignal.onPrediction!(state, day('2026-06-15', [0.1, 0.1, 0.8]), kit.ctx);
    expect(kit.recorded.submitted[0]).toMatchObject({ side: 'BUY', quantity: 5, product: 'CNC' });
    // the buy has not filled yet: a "down" does not sell what is not held
    state = mlSignal.onPrediction!(state, day('2026-06-16', [0.8, 0.1, 0.1]), kit.ctx);
    expect(kit.recorded.submitted).toHaveLength(1);
    kit.fillAll();
    mlSignal.onPrediction!(state, day('2026-06-17', [0.8, 0.1, 0.1]), kit.ctx);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 5, product: 'CNC' });
  });
});
