/**
 * Issue #14's acceptance property: for random order flows across days, portfolios, symbols and
 * products (MIS and CNC, buys and sells, orders filled in several parts, auto square-off
 * orders), the charges the paper broker books on its fills add up, per portfolio and IST day
 * and per component, to the contract note computed here by an independent implementation of
 * Zerodha's rules (kite-reference §9). The oracle below does not import the cost model: its
 * rates are written out and its arithmetic is BigInt rationals.
 *
 * The rules the oracle states:
 * - MIS: intraday. Brokerage per order min(0.03% of its value, ₹20), 0.03% rounded per fill.
 * - CNC, per portfolio, IST day and symbol: the matched quantity m = min(bought, sold) is an
 *   intraday round trip, the rest |bought − sold| is a delivery buy (net buy) or a delivery sell
 *   (net sell). Values at the day's CNC VWAP T/Q (T = bought + sold value, Q = bought + sold
 *   quantity): delivery value round(|b − s|·T/Q), intraday sell value round(m·T/Q), intraday
 *   buy value the rest. Brokerage: the first m units of each side (in fill order) are intraday
 *   at 0.03% of their own price, rounded per fill, the order's sum capped at ₹20.
 * - STT: 0.025% of intraday sells + 0.1% of delivery buys and sells, summed exactly over the
 *   note and rounded once to the rupee.
 * - Transaction 0.00297% and SEBI ₹10/crore on the actual turnover; GST 18% of brokerage +
 *   transaction + SEBI; stamp 0.003% of intraday buys + 0.015% of delivery buys (each
 *   rounded to the paisa).
 * - DP ₹13 + 18% = ₹15.34 per symbol with a net CNC delivery sell that day.
 * - Call-and-trade ₹50 + 18% = ₹59 per auto square-off order with a fill that day.
 * Rounding is half away from zero.
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

const DAY = 86_400_000;
const INSTRUMENTS: Record<string, Instrument> = {
  INFY: nseEquity('INFY', 408_065, 1_000_00),
  TCS: nseEquity('TCS', 2_953_217, 1_000_00),
};

/** round(n / d), half away from zero, n ≥ 0. */
const roundDiv = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);
const big = (value: number): bigint => BigInt(value);
const rate = (value: bigint, numerator: bigint, denominator: bigint): bigint => roundDiv(value * numerator, denominator);

interface NoteFill {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly product: Product;
  readonly quantity: number;
  readonly pricePaise: number;
  readonly autoSquareOff: boolean;
}

type Components = Omit<ChargeBreakdown, 'totalPaise'>;

/** The day's contract note of one portfolio, by the rules in the file notes. */
function oracleNote(fills: readonly NoteFill[]): Components & { totalPaise: number } {
  let intradayBuy = 0n;
  let intradaySell = 0n;
  let deliveryBuy = 0n;
  let deliverySell = 0n;
  let turnover = 0n;
  let dpScrips = 0n;
  const brokerageByOrder = new Map<string, bigint>();
  const addBrokerage = (orderId: string, amount: bigint) => brokerageByOrder.set(orderId, (brokerageByOrder.get(orderId) ?? 0n) + amount);
  for (const f of fills) turnover += big(f.quantity) * big(f.pricePaise);
  for (const f of fills.filter((x) => x.product === 'MIS')) {
    const value = big(f.quantity) * big(f.pricePaise);
    if (f.side === 'BUY') intradayBuy += value;
    else intradaySell += value;
    addBrokerage(f.orderId, rate(value, 3n, 10_000n));
  }
  for (const symbol of new Set(fills.map((f) => f.symbol))) {
    const buys = fills.filter((f) => f.product === 'CNC' && f.symbol === symbol && f.side === 'BUY');
    const sells = fills.filter((f) => f.product === 'CNC' && f.symbol === symbol && f.side === 'SELL');
    const qty = (side: readonly NoteFill[]) => side.reduce((sum, f) => sum + big(f.quantity), 0n);
    const val = (side: readonly NoteFill[]) => side.reduce((sum, f) => sum + big(f.quantity) * big(f.pricePaise), 0n);
    const b = qty(buys);
    const s = qty(sells);
    const q = b + s;
    if (q === 0n) continue;
    const t = val(buys) + val(sells);
    const m = b < s ? b : s;
    const deliveryValue = roundDiv((b > s ? b - s : s - b) * t, q);
    const intradaySellValue = roundDiv(m * t, q);
    intradaySell += intradaySellValue;
    intradayBuy += t - deliveryValue - intradaySellValue;
    if (b > s) deliveryBuy += deliveryValue;
    if (s > b) {
      deliverySell += deliveryValue;
      dpScrips += 1n;
    }
    for (const side of [buys, sells]) {
      let left = m;
      for (const f of side) {
        const intraday = big(f.quantity) < left ? big(f.quantity) : left;
        left -= intraday;
        addBrokerage(f.orderId, rate(intraday * big(f.pricePaise), 3n, 10_000n));
      }
    }
  }
  let brokerage = 0n;
  for (const amount of brokerageByOrder.values()) brokerage += amount < 20_00n ? amount : 20_00n;
  // STT exact over the note, in units of 1/100_000 paise, then to the rupee (10_000_000 units)
  const sttExact = intradaySell * 25n + (deliveryBuy + deliverySell) * 100n;
  const stt = roundDiv(sttExact, 100_000n * 100n) * 100n;
  const transaction = rate(turnover, 297n, 10_000_000n);
  const sebi = rate(turnover, 1n, 1_000_000n);
  const gst = rate(brokerage + transaction + sebi, 18n, 100n);
  const stamp = rate(intradayBuy, 3n, 100_000n) + rate(deliveryBuy, 15n, 100_000n);
  const dp = dpScrips * 15_34n;
  const callAndTrade = big(new Set(fills.filter((f) => f.autoSquareOff).map((f) => f.orderId)).size) * 59_00n;
  const components: Components = {
    brokeragePaise: Number(brokerage),
    sttPaise: Number(stt),
    transactionPaise: Number(transaction),
    sebiPaise: Number(sebi),
    gstPaise: Number(gst),
    stampPaise: Number(stamp),
    dpPaise: Number(dp),
    callAndTradePaise: Number(callAndTrade),
  };
  return { ...components, totalPaise: Object.values(components).reduce((sum, value) => sum + value, 0) };
}

const istDay = (atMs: number): string => new Date(atMs + 330 * 60_000).toISOString().slice(0, 10);

const orderArb = fc.record({
  day: fc.integer({ min: 0, max: 2 }),
  portfolioId: fc.constantFrom('pf-1', 'pf-2'),
  symbol: fc.constantFrom('INFY', 'TCS'),
  side: fc.constantFrom<Side>('BUY', 'SELL'),
  product: fc.constantFrom<Product>('MIS', 'CNC'),
  autoSquareOff: fc.boolean(),
  // filled in 1–3 parts, each at its own price (₹900–₹1,100 on the ₹0.05 grid)
  parts: fc.array(fc.record({ quantity: fc.integer({ min: 1, max: 400 }), priceSteps: fc.integer({ min: 18_000, max: 22_000 }) }), { minLength: 1, maxLength: 3 }),
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
            { portfolioId: o.portfolioId, symbol: o.symbol, side: o.side, product: o.product, quantity, ...(autoSquareOff ? { reason: 'auto-square-off' } : {}) },
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
              { type: 'tick', symbol: o.symbol, token: INSTRUMENTS[o.symbol]!.token, ltpPaise: part.priceSteps * 5, lastQuantity: part.quantity, volume: 0, exchangeTimeMs: clock },
            ]);
            for (const event of events) {
              // the broker's own square-off of a MIS position left open the day before is a call-and-trade order too
              if (event.kind === 'order-updated' && event.order.reason === 'auto-square-off') squaredOff.add(event.order.clientOrderId);
              if (event.kind === 'fill') booked.push({ fill: event.fill, charges: event.charges, autoSquareOff: autoSquareOff || squaredOff.has(event.fill.clientOrderId) });
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
            entries.map(({ fill, autoSquareOff }) => ({ orderId: fill.clientOrderId, symbol: fill.symbol, side: fill.side, product: fill.product, quantity: fill.quantity, pricePaise: fill.pricePaise, autoSquareOff })),
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
