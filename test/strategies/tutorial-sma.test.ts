// The tests the tutorial (docs/strategies.md, steps 3 and 5) walks through, verbatim, plus the
// backtest its step 4 runs: proof that the tutorial works as written.
import { describe, expect, it } from 'vitest';
import type { Json } from '../../src/strategies/api.js';
import { strategyByKind } from '../../src/strategies/index.js';
import { tutorialSma, type TutorialSmaConfig } from '../../src/strategies/tutorial-sma/tutorial-sma.strategy.js';
import { fakeContext, runBars } from '../support/strategy-kit.js';
import { barsFromCloses, deterministicBacktest, FIVE_MINUTE_DATA } from './helpers.js';

const config = (): TutorialSmaConfig => tutorialSma.parseConfig({ symbols: ['INFY'], period: 3, quantity: 5 });

describe('tutorial-sma strategy', () => {
  it('is registered under its kind', () => {
    expect(strategyByKind('tutorial-sma')).toBe(tutorialSma);
  });

  it('buys when the close rises above its SMA and sells when it falls below', () => {
    const kit = fakeContext(config());
    let state = tutorialSma.init(kit.ctx);
    state = runBars(tutorialSma, state, barsFromCloses('INFY', [100_000, 99_000, 98_000, 101_000]), kit.ctx);
    expect(kit.recorded.submitted).toEqual([expect.objectContaining({ symbol: 'INFY', side: 'BUY', quantity: 5, orderType: 'MARKET' })]);
    kit.fillAll(); // the fake broker fills the order
    runBars(tutorialSma, state, barsFromCloses('INFY', [97_000], { start: '09:35' }), kit.ctx);
    expect(kit.recorded.submitted[1]).toMatchObject({ side: 'SELL', quantity: 5 });
  });

  // docs/strategies.md, step 5, verbatim
  it('tells the aggregator its view, and stays out of regimes it is not meant for', () => {
    const kit = fakeContext(config(), { tradesIn: ['trending'] }); // as if it declared regimes: ['trending']
    kit.setRegime('INFY', 'ranging');
    runBars(tutorialSma, tutorialSma.init(kit.ctx), barsFromCloses('INFY', [100_000, 99_000, 98_000, 101_000]), kit.ctx);
    expect(kit.recorded.signals.map((s) => [s.direction, s.confidence, s.reason])).toEqual([
      ['short', 1, 'close vs SMA3'],
      ['long', 1, 'close vs SMA3'],
    ]);
    expect(kit.recorded.submitted).toEqual([]); // the BUY is an entry, and INFY is ranging
    expect(kit.recorded.gated).toEqual([expect.objectContaining({ side: 'BUY', quantity: 5, allowed: 0, regime: 'ranging' })]);
  });

  it('rejects a bad setting with the field named', () => {
    expect(() => tutorialSma.parseConfig({ symbols: ['INFY'], period: 1 })).toThrow(/period: must be at least 2/);
  });

  it('state survives an encode/decode round trip and continues identically', () => {
    const bars = barsFromCloses('INFY', [100_000, 99_000, 98_000, 101_000, 97_000, 99_500, 102_000]);
    const a = fakeContext(config());
    const b = fakeContext(config());
    const stateA = runBars(tutorialSma, tutorialSma.init(a.ctx), bars.slice(0, 3), a.ctx);
    const stateB = runBars(tutorialSma, tutorialSma.init(b.ctx), bars.slice(0, 3), b.ctx);
    const restored = tutorialSma.decodeState(JSON.parse(JSON.stringify(tutorialSma.encodeState(stateB))) as Json, tutorialSma.stateVersion);
    runBars(tutorialSma, stateA, bars.slice(3), a.ctx);
    runBars(tutorialSma, restored, bars.slice(3), b.ctx);
    expect(b.recorded.submitted).toEqual(a.recorded.submitted);
  });

  it('backtests on the shared 5-minute data as the tutorial shows', async () => {
    const result = await deterministicBacktest({
      dataDir: FIVE_MINUTE_DATA,
      strategyKind: 'tutorial-sma',
      strategyConfig: { symbols: ['INFY'], period: 20, quantity: 10 },
      symbols: ['INFY'],
    });
    expect(result.summary.fills).toBeGreaterThan(10);
    for (const position of result.positions) expect([0, 10]).toContain(position.netQuantity);
  });
});
