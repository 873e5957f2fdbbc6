import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addCharges,
  brokerageForExecutionPaise,
  chargeCategory,
  chargeFill,
  chargeOrderFill,
  chargesForBasis,
  chargesForOrderExecution,
  contractNoteCharges,
  dpChargePerScripPaise,
  EMPTY_CHARGE_LEDGER,
  NO_CHARGES,
  ZERODHA_NSE_EQUITY_RATES,
  type ChargeBreakdown,
  type ChargeLedger,
  type DayLedger,
  type ContractNoteExecution,
} from '../../src/model/charges.js';

const componentsSum = (c: ChargeBreakdown): number =>
  c.brokeragePaise + c.sttPaise + c.transactionPaise + c.sebiPaise + c.gstPaise + c.stampPaise + c.dpPaise + c.callAndTradePaise;

describe('the reference worked example (kite-reference §9): buy ₹1,00,000 and sell ₹1,00,000', () => {
  it('intraday comes to ₹82.45 exactly', () => {
    const note = contractNoteCharges([
      { symbol: 'INFY', side: 'BUY', product: 'MIS', quantity: 100, pricePaise: 1_000_00, orderId: 'b' },
      { symbol: 'INFY', side: 'SELL', product: 'MIS', quantity: 100, pricePaise: 1_000_00, orderId: 's' },
    ]);
    expect(note).toEqual({
      brokeragePaise: 40_00,
      sttPaise: 25_00,
      transactionPaise: 5_94,
      sebiPaise: 20,
      gstPaise: 8_31, // 18% × 46.14 = 8.3052
      stampPaise: 3_00,
      dpPaise: 0,
      callAndTradePaise: 0,
      totalPaise: 82_45,
    });
  });

  it('delivery (bought one day, sold on a later one) comes to ₹237.58 over the two notes, ₹222.24 without the DP charge', () => {
    const buy: ContractNoteExecution[] = [{ symbol: 'INFY', side: 'BUY', product: 'CNC', quantity: 100, pricePaise: 1_000_00 }];
    const sell: ContractNoteExecution[] = [{ symbol: 'INFY', side: 'SELL', product: 'CNC', quantity: 100, pricePaise: 1_000_00 }];
    // buy day: STT 0.1% = ₹100 (a whole rupee), transaction 0.00297% = ₹2.97, SEBI ₹0.10,
    // GST 18% × 3.07 = ₹0.5526 → ₹0.55, stamp 0.015% = ₹15 → ₹118.62
    expect(contractNoteCharges(buy)).toEqual({
      brokeragePaise: 0,
      sttPaise: 100_00,
      transactionPaise: 2_97,
      sebiPaise: 10,
      gstPaise: 55,
      stampPaise: 15_00,
      dpPaise: 0,
      callAndTradePaise: 0,
      totalPaise: 118_62,
    });
    // sell day: STT ₹100, transaction ₹2.97, SEBI ₹0.10, GST ₹0.55, DP ₹13 + 18% = ₹15.34 → ₹118.96
    expect(contractNoteCharges(sell)).toEqual({
      brokeragePaise: 0,
      sttPaise: 100_00,
      transactionPaise: 2_97,
      sebiPaise: 10,
      gstPaise: 55,
      stampPaise: 0,
      dpPaise: 15_34,
      callAndTradePaise: 0,
      totalPaise: 118_96,
    });
    // The reference's ₹237.59 puts both legs on one note (GST 18% × 6.14 = 1.1052 → ₹1.11); on
    // two days each note rounds its own GST (0.55 + 0.55): ₹237.58, and ₹222.24 without DP.
    const noDp = { ...ZERODHA_NSE_EQUITY_RATES, dpChargePerScripPaise: 0 };
    expect(contractNoteCharges(buy, noDp).totalPaise + contractNoteCharges(sell, noDp).totalPaise).toBe(222_24);
  });

  it('a same-day CNC round trip is intraday: ₹82.45 like MIS, no DP charge', () => {
    // kite-reference §9: bought and sold the same day, whatever the product. Brokerage min(0.03%
    // of ₹1,00,000 = ₹30, ₹20) per order = ₹40, STT 0.025% of the sell = ₹25, transaction
    // ₹5.94, SEBI ₹0.20, GST 18% × 46.14 = ₹8.3052 → ₹8.31, stamp 0.003% = ₹3: ₹82.45.
    const note = contractNoteCharges([
      { symbol: 'INFY', side: 'BUY', product: 'CNC', quantity: 100, pricePaise: 1_000_00, orderId: 'b' },
      { symbol: 'INFY', side: 'SELL', product: 'CNC', quantity: 100, pricePaise: 1_000_00, orderId: 's' },
    ]);
    expect(note).toEqual({
      brokeragePaise: 40_00,
      sttPaise: 25_00,
      transactionPaise: 5_94,
      sebiPaise: 20,
      gstPaise: 8_31,
      stampPaise: 3_00,
      dpPaise: 0,
      callAndTradePaise: 0,
      totalPaise: 82_45,
    });
  });

  it('per-fill charges through the ledger add up to the note exactly', () => {
    let ledger: ChargeLedger = EMPTY_CHARGE_LEDGER;
    let sum = NO_CHARGES;
    for (const side of ['BUY', 'SELL'] as const) {
      const result = chargeFill(ledger, { symbol: 'INFY', side, product: 'MIS', quantity: 100, pricePaise: 1_000_00 });
      ledger = result.ledger;
      sum = addCharges(sum, result.charges);
    }
    expect(sum.totalPaise).toBe(82_45);
    expect(sum).toEqual(ledger.charged);
  });

  it('each order priced alone: GST rounds per order, one paisa less than the note', () => {
    const buy = chargesForOrderExecution({ side: 'BUY', product: 'MIS', quantity: 100, pricePaise: 1_000_00 });
    const sell = chargesForOrderExecution({ side: 'SELL', product: 'MIS', quantity: 100, pricePaise: 1_000_00 });
    expect(buy).toEqual({
      brokeragePaise: 20_00,
      sttPaise: 0,
      transactionPaise: 2_97,
      sebiPaise: 10,
      gstPaise: 4_15,
      stampPaise: 3_00,
      dpPaise: 0,
      callAndTradePaise: 0,
      totalPaise: 30_22,
    });
    expect(sell).toEqual({
      brokeragePaise: 20_00,
      sttPaise: 25_00,
      transactionPaise: 2_97,
      sebiPaise: 10,
      gstPaise: 4_15,
      stampPaise: 0,
      dpPaise: 0,
      callAndTradePaise: 0,
      totalPaise: 52_22,
    });
    expect(buy.totalPaise + sell.totalPaise).toBe(82_44);
  });
});

describe('components', () => {
  it('brokerage is 0.03% below the ₹20 cap and 0 for delivery', () => {
    expect(brokerageForExecutionPaise({ product: 'MIS', quantity: 10, pricePaise: 1_000_00 })).toBe(3_00);
    expect(brokerageForExecutionPaise({ product: 'MIS', quantity: 1, pricePaise: 1_234_56 })).toBe(37); // 37.0368
    expect(brokerageForExecutionPaise({ product: 'MIS', quantity: 1_000, pricePaise: 1_000_00 })).toBe(20_00);
    expect(brokerageForExecutionPaise({ product: 'CNC', quantity: 1_000, pricePaise: 1_000_00 })).toBe(0);
    expect(brokerageForExecutionPaise({ product: 'NRML', quantity: 1_000, pricePaise: 1_000_00 })).toBe(20_00);
  });

  it('CNC is delivery, MIS and NRML intraday', () => {
    expect(chargeCategory('CNC')).toBe('delivery');
    expect(chargeCategory('MIS')).toBe('intraday');
    expect(chargeCategory('NRML')).toBe('intraday');
  });

  it('STT is rounded to the rupee by default, to the paisa on request', () => {
    const paisa = { ...ZERODHA_NSE_EQUITY_RATES, sttRoundingPaise: 1 };
    // 0.025% of ₹12,345 = ₹3.08625 → ₹3 (rupee), ₹3.09 (paisa)
    const sell = { side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 12_345_00 } as const;
    expect(chargesForOrderExecution(sell).sttPaise).toBe(3_00);
    expect(chargesForOrderExecution(sell, paisa).sttPaise).toBe(3_09);
    // 0.025% of ₹14,000 = ₹3.50 → ₹4 (half away from zero)
    expect(chargesForOrderExecution({ ...sell, pricePaise: 14_000_00 }).sttPaise).toBe(4_00);
  });

  it('STT is rounded once over the whole note, not per trade or per category', () => {
    // two intraday sells of ₹1,400 (₹0.35 each) and a delivery buy of ₹300 (₹0.30): ₹1.00 exactly;
    // per trade to the rupee it would be 0 + 0 + 0
    const note = contractNoteCharges([
      { symbol: 'INFY', side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 1_400_00 },
      { symbol: 'TCS', side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 1_400_00 },
      { symbol: 'SBIN', side: 'BUY', product: 'CNC', quantity: 1, pricePaise: 300_00 },
    ]);
    expect(note.sttPaise).toBe(1_00);
  });

  it('stamp duty is on the buy side only, STT intraday on the sell side only', () => {
    const buy = chargesForOrderExecution({ side: 'BUY', product: 'MIS', quantity: 1, pricePaise: 5_000_00 });
    const sell = chargesForOrderExecution({ side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 5_000_00 });
    expect(buy.stampPaise).toBe(15);
    expect(buy.sttPaise).toBe(0);
    expect(sell.stampPaise).toBe(0);
    expect(sell.sttPaise).toBe(1_00); // 0.025% of ₹5,000 = ₹1.25 → ₹1 (rupee rounding)
  });

  it('the DP charge is ₹13 + GST per scrip per sell day, configurable', () => {
    expect(dpChargePerScripPaise()).toBe(15_34);
    expect(dpChargePerScripPaise({ ...ZERODHA_NSE_EQUITY_RATES, dpChargePerScripPaise: 13_50 })).toBe(15_93);
    expect(dpChargePerScripPaise({ ...ZERODHA_NSE_EQUITY_RATES, dpChargeAttractsGst: false })).toBe(13_00);
    const sell = { side: 'SELL', product: 'CNC', quantity: 1, pricePaise: 100_00 } as const;
    expect(chargesForOrderExecution(sell).dpPaise).toBe(15_34);
    expect(chargesForOrderExecution({ ...sell, dpAlreadyChargedToday: true }).dpPaise).toBe(0);
    expect(chargesForOrderExecution({ ...sell, side: 'BUY' }).dpPaise).toBe(0);
  });

  it('the ledger takes the DP charge once per scrip per day', () => {
    const sell = (symbol: string) => ({ symbol, side: 'SELL', product: 'CNC', quantity: 1, pricePaise: 100_00 }) as const;
    let ledger = EMPTY_CHARGE_LEDGER;
    const dp: number[] = [];
    for (const symbol of ['INFY', 'INFY', 'TCS', 'INFY', 'TCS']) {
      const result = chargeFill(ledger, sell(symbol));
      ledger = result.ledger;
      dp.push(result.charges.dpPaise);
    }
    expect(dp).toEqual([15_34, 0, 15_34, 0, 0]);
    expect(ledger.dpSymbols).toEqual(['INFY', 'TCS']);
  });

  it('rejects non-positive or fractional quantities and prices', () => {
    expect(() => chargesForOrderExecution({ side: 'BUY', product: 'MIS', quantity: 0, pricePaise: 100 })).toThrow(RangeError);
    expect(() => chargesForOrderExecution({ side: 'BUY', product: 'MIS', quantity: 1, pricePaise: 1.5 })).toThrow(RangeError);
  });
});

describe('the call-and-trade fee (auto square-off by the dealer desk)', () => {
  it('is ₹50 + 18% GST = ₹59.00 once per order, on its first fill, on top of the intraday charges', () => {
    // a square-off sell of 300 × ₹1,000 in three fills of 100, then a second square-off order of 100
    const fill = (orderId: string) =>
      ({ symbol: 'INFY', side: 'SELL', product: 'MIS', quantity: 100, pricePaise: 1_000_00, orderId, callAndTrade: true }) as const;
    let ledger = EMPTY_CHARGE_LEDGER;
    const fees: number[] = [];
    let filled = new Set<string>();
    for (const orderId of ['sq1', 'sq1', 'sq1', 'sq2']) {
      const result = chargeFill(ledger, { ...fill(orderId), callAndTradeAlreadyCharged: filled.has(orderId) });
      filled = new Set([...filled, orderId]);
      ledger = result.ledger;
      fees.push(result.charges.callAndTradePaise);
      // the fee carries its own GST: gstPaise stays 18% of (brokerage + transaction + SEBI)
      expect(result.charges.gstPaise).toBeLessThan(5_00);
    }
    expect(fees).toEqual([59_00, 0, 0, 59_00]);
    expect(ledger.charged.callAndTradePaise).toBe(118_00);
    // the whole note: 400 × ₹1,000 = ₹4,00,000 sold intraday by two orders.
    // brokerage 2 × ₹20 = ₹40 (each order over the cap: 0.03% of ₹3,00,000 and ₹1,00,000 are ₹90 and ₹30)
    // STT 0.025% × 4,00,000 = ₹100; transaction 0.00297% = ₹11.88; SEBI ₹0.40
    // GST 18% × (40 + 11.88 + 0.40) = 18% × 52.28 = ₹9.4104 → ₹9.41; fees 2 × ₹59 = ₹118
    const note = contractNoteCharges([fill('sq1'), fill('sq1'), fill('sq1'), fill('sq2')]);
    expect(note).toEqual({
      brokeragePaise: 40_00,
      sttPaise: 100_00,
      transactionPaise: 11_88,
      sebiPaise: 40,
      gstPaise: 9_41,
      stampPaise: 0,
      dpPaise: 0,
      callAndTradePaise: 118_00,
      totalPaise: 279_69,
    });
  });

  it('is not charged on an ordinary order, and follows the rates', () => {
    const order = { side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 100_00 } as const;
    expect(chargesForOrderExecution(order).callAndTradePaise).toBe(0);
    expect(chargesForOrderExecution({ ...order, callAndTrade: true }).callAndTradePaise).toBe(59_00);
    expect(chargesForOrderExecution({ ...order, callAndTrade: true, callAndTradeAlreadyCharged: true }).callAndTradePaise).toBe(0);
    expect(chargesForOrderExecution({ ...order, callAndTrade: true }, { ...ZERODHA_NSE_EQUITY_RATES, callAndTradeFeePaise: 20_00 }).callAndTradePaise).toBe(
      23_60,
    );
  });
});

describe('chargeOrderFill: the notes both execution paths keep, per portfolio and IST day', () => {
  it("a portfolio's note restarts each day; portfolios do not share a note; the order decides product and fee", () => {
    const ledgers = new Map<string, DayLedger>();
    const order = (portfolioId: string, side: 'BUY' | 'SELL', filledQuantity = 0, reason?: string) =>
      ({
        clientOrderId: `${portfolioId}-${side}`,
        portfolioId,
        symbol: 'INFY',
        side,
        product: 'CNC',
        filledQuantity,
        ...(reason === undefined ? {} : { reason }),
      }) as const;
    const charge = (day: string, o: ReturnType<typeof order>) =>
      chargeOrderFill(ledgers, day, { order: o, quantity: 100, pricePaise: 1_000_00, brokerageAlreadyChargedPaise: 0 });
    // day 1: pf-1 buys CNC (delivery, ₹118.62); pf-2 sells nothing of it; pf-1's sell the same day makes it ₹82.45 in all
    expect(charge('2026-05-20', order('pf-1', 'BUY')).totalPaise).toBe(118_62);
    expect(charge('2026-05-20', order('pf-1', 'SELL')).totalPaise).toBe(82_45 - 118_62);
    // the same sell on the next day is a delivery sell of its own note: STT ₹100 + ₹2.97 + ₹0.10 + GST ₹0.55 + DP ₹15.34
    expect(charge('2026-05-21', order('pf-1', 'SELL')).totalPaise).toBe(118_96);
    // another portfolio on that day starts its own note
    expect(charge('2026-05-21', order('pf-2', 'BUY')).totalPaise).toBe(118_62);
    // an auto square-off order pays the fee on its first fill only
    expect(charge('2026-05-21', order('pf-3', 'SELL', 0, 'auto-square-off')).callAndTradePaise).toBe(59_00);
    expect(charge('2026-05-21', order('pf-3', 'SELL', 100, 'auto-square-off')).callAndTradePaise).toBe(0);
    expect(ledgers.get('pf-1')?.day).toBe('2026-05-21');
  });
});

describe('brokerage cap across partial fills', () => {
  it('charges at most ₹20 over the fills of one order', () => {
    // ₹1,00,000 order filled in four ₹25,000 fills: 0.03% = ₹7.50 each; cap ₹20.
    let already = 0;
    const brokerage: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const charges = chargesForOrderExecution({ side: 'BUY', product: 'MIS', quantity: 25, pricePaise: 1_000_00, brokerageAlreadyChargedPaise: already });
      brokerage.push(charges.brokeragePaise);
      already += charges.brokeragePaise;
    }
    expect(brokerage).toEqual([7_50, 7_50, 5_00, 0]);
    expect(already).toBe(20_00);
  });

  it('the contract note applies the cap per order id', () => {
    const fills: ContractNoteExecution[] = [1, 2, 3, 4].map(() => ({
      symbol: 'INFY',
      side: 'BUY',
      product: 'MIS',
      quantity: 25,
      pricePaise: 1_000_00,
      orderId: 'o1',
    }));
    const split = contractNoteCharges(fills);
    const whole = contractNoteCharges([{ symbol: 'INFY', side: 'BUY', product: 'MIS', quantity: 100, pricePaise: 1_000_00, orderId: 'o1' }]);
    expect(split).toEqual(whole);
    const separate = contractNoteCharges(fills.map((f, i) => ({ ...f, orderId: `o${i}` })));
    expect(separate.brokeragePaise).toBe(30_00);
  });
});

describe('properties', () => {
  const execution = fc.record({
    symbol: fc.constantFrom('INFY', 'TCS', 'SBIN'),
    side: fc.constantFrom('BUY' as const, 'SELL' as const),
    product: fc.constantFrom('MIS' as const, 'CNC' as const),
    quantity: fc.integer({ min: 1, max: 10_000 }),
    pricePaise: fc.integer({ min: 1, max: 50_000_00 }),
    orderId: fc.constantFrom('a', 'b', 'c', 'd'),
  });
  // an order has one side and product: key the ids by them
  const keyed = <T extends { readonly orderId: string; readonly side: string; readonly product: string; readonly symbol: string }>(e: T): T => ({
    ...e,
    orderId: `${e.orderId}:${e.side}:${e.product}:${e.symbol}`,
  });

  it('fills charged through the ledger are itemised consistently and add up to the note, which is never negative', () => {
    fc.assert(
      fc.property(fc.array(execution.map(keyed), { maxLength: 30 }), (executions) => {
        let ledger = EMPTY_CHARGE_LEDGER;
        let sum = NO_CHARGES;
        const brokerageByOrder = new Map<string, number>();
        for (const e of executions) {
          const already = brokerageByOrder.get(e.orderId) ?? 0;
          const result = chargeFill(ledger, { ...e, brokerageAlreadyChargedPaise: already });
          expect(componentsSum(result.charges)).toBe(result.charges.totalPaise);
          // only a CNC fill can reclassify (and so lower) what earlier fills were charged
          if (e.product === 'MIS') for (const value of Object.values(result.charges)) expect(value).toBeGreaterThanOrEqual(0);
          brokerageByOrder.set(e.orderId, already + result.charges.brokeragePaise);
          ledger = result.ledger;
          sum = addCharges(sum, result.charges);
          for (const value of Object.values(ledger.charged)) expect(value).toBeGreaterThanOrEqual(0);
        }
        expect(sum).toEqual(contractNoteCharges(executions));
        expect(sum).toEqual(chargesForBasis(ledger.basis));
        expect(sum).toEqual(ledger.charged);
      }),
    );
  });

  it('an MIS note is within one paisa per component per order of the orders priced alone (paisa STT)', () => {
    const paisa = { ...ZERODHA_NSE_EQUITY_RATES, sttRoundingPaise: 1 };
    fc.assert(
      fc.property(
        fc.array(
          execution.map((e) => ({ ...e, product: 'MIS' as const })),
          { minLength: 1, maxLength: 10 },
        ),
        (executions) => {
          const alone = executions.map((e) => chargesForOrderExecution(e, paisa));
          const sum = alone.reduce(addCharges, NO_CHARGES);
          const note = contractNoteCharges(
            executions.map((e, i) => ({ ...e, orderId: String(i) })),
            paisa,
          );
          expect(note.brokeragePaise).toBe(sum.brokeragePaise);
          expect(Math.abs(note.totalPaise - sum.totalPaise)).toBeLessThanOrEqual(executions.length * 5);
        },
      ),
    );
  });
});
