/**
 * Issue #14's acceptance property: for random order flows across days, portfolios, symbols and
 * products (MIS and CNC, buys and sells, orders filled in several parts, auto square-off
 * orders), the charges the paper broker books on its fills add up, per portfolio and IST day
 * and per component, to the contract note computed here by an independent implementation of
 * Zerodha's rules (kite-reference §9): `test/support/contract-note-oracle.ts`, which does not
 * import the cost model (its file notes state the rules).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PaperBroker } from '../../../src/brokers/paper/paper-broker.js';
import type { BrokerEvent } from '../../../src/brokers/paper/paper-broker.types.js';
import type { ChargeBreakdown } from '../../../src/model/charges.js';
import type { Fill } from '../../../src/model/fill.js';
import { nseEquity, type Instrument } from '../../../src/model/instrument.js';
import type { Product, Side } from '../../../src/model/order.js';
import { order } from '../../model/fixtures.js';
import { SESSION_MS } from './fixtures.js';
import { oracleNote } from '../../support/contract-note-oracle.js';

const DAY = 86_400_000;
const INSTRUMENTS: Record<string, Instrument> = {
  INFY: nseEquity('INFY', 408_065, 1_000_00),
  TCS: nseEquity('TCS', 2_953_217, 1_000_00),
};

const istDay = (atMs: number): string => new Date(atMs + 330 * 60_000).toISOString().slice(0, 10);

const orderArb = fc.record({
  day: fc.integer({ min: 0, max: 2 }),
  portfolioId: fc.constantFrom('pf-1', 'pf-2'),
  symbol: fc.constantFrom('INFY', 'TCS'),
  side: fc.constantFrom<Side>('BUY', 'SELL'),
  product: fc.constantFrom<Product>('MIS', 'CNC'),
  autoSquareOff: fc.boolean(),
  // filled in 1–3 parts, each at its own price (₹900–₹1,100 on the ₹0.05 grid)
  parts: fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 400 }), priceSteps: fc.integer({ min: 18_000, max: 22_000 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
});

describe('the charges the paper broker books equal an independent contract note (issue #14)', () => {
  it('per portfolio and IST day, component by component, for random flows of MIS and CNC orders', () => {
    fc.assert(
      fc.property(fc.array(orderArb, { minLength: 1, maxLength: 25 }), (orders) => {
        const broker = new PaperBroker();
        const sorted = [...orders].sort((a, b) => a.day - b.day);
        const booked: { fill: Fill; charges: ChargeBreakdown; autoSquareOff: boolean }[] = [];
        let clock = 0;
        const squaredOff = new Set<string>();
        sorted.forEach((o, i) => {
          clock = Math.max(clock + 1_000, SESSION_MS + o.day * DAY);
          const quantity = o.parts.reduce((sum, p) => sum + p.quantity, 0);
          const autoSquareOff = o.autoSquareOff && o.product === 'MIS';
          const placed = order(
            {
              portfolioId: o.portfolioId,
              symbol: o.symbol,
              side: o.side,
              product: o.product,
              quantity,
              ...(autoSquareOff ? { reason: 'auto-square-off' } : {}),
            },
            `O${i}`,
            clock,
          );
          const accepted = broker.submit(placed, INSTRUMENTS[o.symbol]!, clock);
          if (accepted[0]?.kind === 'order-updated' && accepted[0].order.status === 'REJECTED') {
            // only a CNC sell beyond the holdings is refused
            expect(accepted[0].rejectionCode).toBe('insufficient-holdings');
            expect(o.product === 'CNC' && o.side === 'SELL').toBe(true);
            return;
          }
          for (const part of o.parts) {
            clock += 1_000;
            const events: readonly BrokerEvent[] = broker.onTicks([
              {
                type: 'tick',
                symbol: o.symbol,
                token: INSTRUMENTS[o.symbol]!.token,
                ltpPaise: part.priceSteps * 5,
                lastQuantity: part.quantity,
                volume: 0,
                exchangeTimeMs: clock,
              },
            ]);
            for (const event of events) {
              // the broker's own square-off of a MIS position left open the day before is a call-and-trade order too
              if (event.kind === 'order-updated' && event.order.reason === 'auto-square-off') squaredOff.add(event.order.clientOrderId);
              if (event.kind === 'fill')
                booked.push({ fill: event.fill, charges: event.charges, autoSquareOff: autoSquareOff || squaredOff.has(event.fill.clientOrderId) });
            }
          }
        });
        const groups = new Map<string, typeof booked>();
        for (const entry of booked) {
          const key = `${entry.fill.portfolioId} ${istDay(entry.fill.atMs)}`;
          groups.set(key, [...(groups.get(key) ?? []), entry]);
        }
        for (const [key, entries] of groups) {
          const note = oracleNote(
            entries.map(({ fill, autoSquareOff }) => ({
              orderId: fill.clientOrderId,
              symbol: fill.symbol,
              side: fill.side,
              product: fill.product,
              quantity: fill.quantity,
              pricePaise: fill.pricePaise,
              autoSquareOff,
            })),
          );
          const sum = (pick: (c: ChargeBreakdown) => number) => entries.reduce((total, e) => total + pick(e.charges), 0);
          const bookedNote = {
            brokeragePaise: sum((c) => c.brokeragePaise),
            sttPaise: sum((c) => c.sttPaise),
            transactionPaise: sum((c) => c.transactionPaise),
            sebiPaise: sum((c) => c.sebiPaise),
            gstPaise: sum((c) => c.gstPaise),
            stampPaise: sum((c) => c.stampPaise),
            dpPaise: sum((c) => c.dpPaise),
            callAndTradePaise: sum((c) => c.callAndTradePaise),
            totalPaise: sum((c) => c.totalPaise),
          };
          expect({ key, ...bookedNote }).toEqual({ key, ...note });
          expect(entries.reduce((total, e) => total + e.fill.chargesPaise, 0)).toBe(note.totalPaise);
        }
      }),
      { numRuns: 300 },
    );
  });
});
