import { describe, expect, it } from 'vitest';
import { nseEquity, type Instrument } from '../../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS, RiskManager } from '../../src/risk/risk-manager.js';
import { intent } from '../support/builders.js';

/** IST wall time, from the UTC+05:30 offset. */
const ist = (hh: number, mm: number, ss = 0, date = '2026-05-20'): number => Date.parse(`${date}T00:00:00Z`) - 330 * 60_000 + ((hh * 60 + mm) * 60 + ss) * 1000;
const INFY: Instrument = nseEquity('INFY', 257, 150_000);

function verdictAt(manager: RiskManager, atMs: number, product: 'MIS' | 'CNC', side: 'BUY' | 'SELL' = 'BUY'): string {
  const verdict = manager.evaluate(intent({ product, side, quantity: 1, createdAtMs: atMs }), atMs, 150_000);
  return verdict.approved ? 'approved' : `${verdict.rejection.code}: ${verdict.rejection.message}`;
}

describe('risk: no new MIS order after the intraday cut-off', () => {
  it('refuses MIS intents from 15:20 IST to the end of the day with mis-cutoff, and approves CNC and the next morning', () => {
    const manager = new RiskManager(DEFAULT_RISK_MANAGER_LIMITS, { instrument: () => INFY });
    expect(verdictAt(manager, ist(15, 19, 59), 'MIS')).toBe('approved');
    expect(verdictAt(manager, ist(15, 20), 'MIS')).toBe(
      'mis-cutoff: no new MIS orders after 15:20 IST (intraday cut-off; open MIS positions are squared off by the broker)',
    );
    expect(verdictAt(manager, ist(15, 20), 'MIS', 'SELL')).toMatch(/^mis-cutoff/);
    expect(verdictAt(manager, ist(22, 0), 'MIS')).toMatch(/^mis-cutoff/);
    expect(verdictAt(manager, ist(15, 25), 'CNC')).toBe('approved');
    expect(verdictAt(manager, ist(9, 15, 0, '2026-05-21'), 'MIS')).toBe('approved');
  });

  it('follows a configured cut-off', () => {
    const manager = new RiskManager(DEFAULT_RISK_MANAGER_LIMITS, { instrument: () => INFY, squareOffMinute: 15 * 60 });
    expect(verdictAt(manager, ist(14, 59), 'MIS')).toBe('approved');
    expect(verdictAt(manager, ist(15, 0), 'MIS')).toMatch(/^mis-cutoff: no new MIS orders after 15:00 IST/);
  });

  it("a fill of the broker's own square-off order moves the position but releases no reservation", () => {
    const manager = new RiskManager(DEFAULT_RISK_MANAGER_LIMITS, { instrument: () => INFY });
    expect(manager.evaluate(intent({ product: 'CNC', side: 'SELL', quantity: 3 }), ist(11, 0), 150_000).approved).toBe(true);
    manager.onFill({ portfolioId: 'p1', symbol: 'INFY', signedQuantity: 10, pricePaise: 150_000 }, ist(11, 1));
    manager.onFill({ portfolioId: 'p1', symbol: 'INFY', signedQuantity: -10, pricePaise: 150_000, unreserved: true }, ist(15, 20));
    expect(manager.portfolio('p1').symbols.INFY).toEqual({ net: 0, workingBuy: 0, workingSell: 3 });
  });
});
