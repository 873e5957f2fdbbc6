// The regime gate and the signal aggregator in the whole tree, on real 5-minute NSE bars
// (../shared/data/nse-5min): the regime detector classifies the bars, strategies learn the
// regimes and signal, the aggregator votes, and the ensemble trades the vote through risk.
import { describe, expect, it } from 'vitest';
import type { Order, RegimeChanged, RiskAlert, SignalAggregated } from '../../../src/model/index.js';
import { replay } from './replay.js';

const symbols = ['INFY', 'TCS'];
const rsiConfig = { symbols, period: 14, lowerBand: 35, upperBand: 65, exitLevel: 50, quantity: 10, interval: '5m' };

// MIS entries after the 15:20 IST cut-off are refused by risk (mis-cutoff) in every run: not the gate's doing
const alertsOf = (events: readonly { type: string }[]): RiskAlert[] =>
  events.filter((e): e is RiskAlert => e.type === 'RiskAlert').filter((alert) => alert.code !== 'mis-cutoff');

describe('regime gating on real data', () => {
  it('keeps rsi-reversion (ranging) out of other regimes: entries refused with a counted reason, exits untouched; off, it trades them', async () => {
    const gated = await replay({ symbols, strategies: [{ strategyId: 'rsi', kind: 'rsi-reversion', config: rsiConfig }] });
    const free = await replay({ symbols, strategies: [{ strategyId: 'rsi', kind: 'rsi-reversion', config: rsiConfig, regimes: null }] });

    // the detector classified the data, and not everything is ranging
    const regimes = gated.events.filter((e): e is RegimeChanged => e.type === 'RegimeChanged');
    expect(new Set(regimes.map((e) => e.symbol))).toEqual(new Set(['INFY', 'TCS', 'MARKET']));
    expect(regimes.some((e) => e.to !== 'ranging')).toBe(true);

    const refused = alertsOf(gated.events);
    expect(refused.length).toBeGreaterThan(0);
    for (const alert of refused) {
      expect(alert).toMatchObject({ code: 'regime-gated', severity: 'info', strategyId: 'rsi' });
      // long only: an entry is a BUY; a SELL (an exit) is never refused or cut
      expect(alert.intent?.side).toBe('BUY');
      expect(alert.message).toMatch(/is (trending|high-volatility), outside the regimes rsi-reversion trades in \(ranging\)/);
    }
    expect(alertsOf(free.events)).toEqual([]);

    const entries = (orders: Map<string, Order>): number => [...orders.values()].filter((o) => o.side === 'BUY').length;
    expect(entries(gated.orders)).toBeLessThan(entries(free.orders));
    // every refused BUY is one the ungated run was free to make
    expect(entries(free.orders) - entries(gated.orders)).toBeLessThanOrEqual(refused.length);
    // exits all went through: the gated run never holds more than its one position per symbol
    for (const order of gated.orders.values()) expect(order.quantity).toBe(10);
  }, 120_000);
});

describe('signal aggregator on real data', () => {
  it('combines ema-cross and rsi-reversion signals by weight and confidence; the ensemble trades the vote with the explanation in its orders', async () => {
    const run = () =>
      replay({
        symbols,
        toMs: Date.parse('2026-06-06T00:00:00Z'),
        aggregator: { weights: { ema: 2, rsi: 1 }, threshold: 0.3, maxAgeMs: 20 * 60_000, halfLifeMs: 10 * 60_000 },
        strategies: [
          { strategyId: 'ema', kind: 'ema-cross', config: { symbols, fastPeriod: 8, slowPeriod: 21, quantity: 10, source: '5m' } },
          { strategyId: 'rsi', kind: 'rsi-reversion', config: rsiConfig },
          { strategyId: 'vote', kind: 'ensemble', config: { symbols, quantity: 10 } },
        ],
      });
    const first = await run();

    const votes = first.events.filter((e): e is SignalAggregated => e.type === 'SignalAggregated');
    expect(votes.length).toBeGreaterThan(4);
    expect(votes.some((v) => v.contributions.length === 2)).toBe(true);
    for (const vote of votes) for (const c of vote.contributions) expect(c.weight).toBe(c.strategyId === 'ema' ? 2 : 1);

    const ensembleOrders = [...first.orders.values()].filter((o) => o.strategyId === 'vote');
    expect(ensembleOrders.length).toBeGreaterThan(2);
    let position: Record<string, number> = {};
    for (const order of ensembleOrders.sort((a, b) => a.createdAtMs - b.createdAtMs || a.clientOrderId.localeCompare(b.clientOrderId))) {
      const explanation = order.explanation;
      expect(explanation?.source).toBe('signal-aggregator');
      expect(order.reason).toMatch(/^aggregate vote: (BUY|SELL|FLAT) /);
      expect(explanation?.summary).toContain(`${explanation?.decision} ${order.symbol}:`);
      expect(explanation?.signals?.length).toBeGreaterThan(0);
      for (const signal of explanation?.signals ?? []) {
        expect(['ema', 'rsi']).toContain(signal.strategyId);
        expect(signal.confidence).toBeGreaterThanOrEqual(0);
        expect(signal.confidence).toBeLessThanOrEqual(1);
      }
      // BUY follows a BUY vote; a sale follows a SELL or FLAT vote
      expect(order.side === 'BUY' ? ['BUY'] : ['SELL', 'FLAT']).toContain(explanation?.decision);
      // a CNC sell placed while the buy it undoes is still working has no holdings yet: Kite refuses it, so does the paper broker
      if (order.status === 'REJECTED') {
        expect(order).toMatchObject({ side: 'SELL', product: 'CNC', filledQuantity: 0 });
        expect(order.statusMessage).toMatch(/Insufficient holdings/);
      }
      position = { ...position, [order.symbol]: (position[order.symbol] ?? 0) + (order.side === 'BUY' ? order.filledQuantity : -order.filledQuantity) };
      expect([0, 10]).toContain(position[order.symbol]);
    }
    // the ema and rsi strategies still trade on their own, as before
    expect([...first.orders.values()].some((o) => o.strategyId === 'ema')).toBe(true);

    // deterministic: the same replay gives the same orders
    const second = await run();
    const key = (orders: Map<string, Order>): string => JSON.stringify([...orders.values()].sort((a, b) => a.clientOrderId.localeCompare(b.clientOrderId)));
    expect(key(second.orders)).toBe(key(first.orders));
  }, 120_000);
});
