import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addCharges,
  brokerageForExecutionPaise,
  chargeCategory,
  chargeFill,
  chargesForBasis,
  chargesForOrderExecution,
  contractNoteCharges,
  dpChargePerScripPaise,
  EMPTY_CHARGE_LEDGER,
  NO_CHARGES,
  ZERODHA_NSE_EQUITY_RATES,
  type ChargeBreakdown,
  type ChargeLedger,
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

  it('delivery comes to ₹237.59 exactly, ₹222.25 without the DP charge', () => {
    const executions: ContractNoteExecution[] = [
      { symbol: 'INFY', side: 'BUY', product: 'CNC', quantity: 100, pricePaise: 1_000_00 },
      { symbol: 'INFY', side: 'SELL', product: 'CNC', quantity: 100, pricePaise: 1_000_00 },
    ];
    const note = contractNoteCharges(executions);
    expect(note).toEqual({
      brokeragePaise: 0,
      sttPaise: 200_00,
      transactionPaise: 5_94,
      sebiPaise: 20,
      gstPaise: 1_11, // 18% × 6.14 = 1.1052
      stampPaise: 15_00,
      dpPaise: 15_34, // ₹13 + 18% GST
      callAndTradePaise: 0,
      totalPaise: 237_59,
    });
    expect(note.totalPaise - note.dpPaise).toBe(222_25);
    expect(contractNoteCharges(executions, { ...ZERODHA_NSE_EQUITY_RATES, dpChargePerScripPaise: 0 }).totalPaise).toBe(222_25);
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
    expect(buy).toEqual({ brokeragePaise: 20_00, sttPaise: 0, transactionPaise: 2_97, sebiPaise: 10, gstPaise: 4_15, stampPaise: 3_00, dpPaise: 0, callAndTradePaise: 0, totalPaise: 30_22 });
    expect(sell).toEqual({ brokeragePaise: 20_00, sttPaise: 25_00, transactionPaise: 2_97, sebiPaise: 10, gstPaise: 4_15, stampPaise: 0, dpPaise: 0, callAndTradePaise: 0, totalPaise: 52_22 });
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

  it('STT can be rounded to the rupee', () => {
    const rupee = { ...ZERODHA_NSE_EQUITY_RATES, sttRoundingPaise: 100 };
    // 0.025% of ₹12,345 = ₹3.08625
    const sell = { side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 12_345_00 } as const;
    expect(chargesForOrderExecution(sell).sttPaise).toBe(3_09);
    expect(chargesForOrderExecution(sell, rupee).sttPaise).toBe(3_00);
  });

  it('stamp duty is on the buy side only, STT intraday on the sell side only', () => {
    const buy = chargesForOrderExecution({ side: 'BUY', product: 'MIS', quantity: 1, pricePaise: 5_000_00 });
    const sell = chargesForOrderExecution({ side: 'SELL', product: 'MIS', quantity: 1, pricePaise: 5_000_00 });
    expect(buy.stampPaise).toBe(15);
    expect(buy.sttPaise).toBe(0);
    expect(sell.stampPaise).toBe(0);
    expect(sell.sttPaise).toBe(1_25);
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
    const fill = (orderId: string) => ({ symbol: 'INFY', side: 'SELL', product: 'MIS', quantity: 100, pricePaise: 1_000_00, orderId, callAndTrade: true }) as const;
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
    expect(chargesForOrderExecution({ ...order, callAndTrade: true }, { ...ZERODHA_NSE_EQUITY_RATES, callAndTradeFeePaise: 20_00 }).callAndTradePaise).toBe(23_60);
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
    const fills: ContractNoteExecution[] = [1, 2, 3, 4].map(() => ({ symbol: 'INFY', side: 'BUY', product: 'MIS', quantity: 25, pricePaise: 1_000_00, orderId: 'o1' }));
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

  it('fills charged through the ledger are non-negative, itemised consistently, and add up to the note', () => {
    fc.assert(
      fc.property(fc.array(execution, { maxLength: 30 }), (executions) => {
        let ledger = EMPTY_CHARGE_LEDGER;
        let sum = NO_CHARGES;
        const brokerageByOrder = new Map<string, number>();
        for (const e of executions) {
          const already = brokerageByOrder.get(e.orderId) ?? 0;
          const result = chargeFill(ledger, { ...e, brokerageAlreadyChargedPaise: already });
          for (const value of Object.values(result.charges)) expect(value).toBeGreaterThanOrEqual(0);
          expect(componentsSum(result.charges)).toBe(result.charges.totalPaise);
          brokerageByOrder.set(e.orderId, already + result.charges.brokeragePaise);
          ledger = result.ledger;
          sum = addCharges(sum, result.charges);
        }
        expect(sum).toEqual(contractNoteCharges(executions));
        expect(sum).toEqual(chargesForBasis(ledger.basis));
        for (const total of brokerageByOrder.values()) expect(total).toBeLessThanOrEqual(20_00);
      }),
    );
  });

  it('a note is within one paisa per component per order of the orders priced alone', () => {
    fc.assert(
      fc.property(fc.array(execution, { minLength: 1, maxLength: 10 }), (executions) => {
        const alone = executions.map((e, i) => chargesForOrderExecution({ ...e, dpAlreadyChargedToday: executions.slice(0, i).some((p) => p.symbol === e.symbol && p.side === 'SELL' && p.product === 'CNC') }));
        const sum = alone.reduce(addCharges, NO_CHARGES);
        const note = contractNoteCharges(executions.map((e, i) => ({ ...e, orderId: String(i) })));
        expect(note.brokeragePaise).toBe(sum.brokeragePaise);
        expect(note.dpPaise).toBe(sum.dpPaise);
        expect(Math.abs(note.totalPaise - sum.totalPaise)).toBeLessThanOrEqual(executions.length * 5);
      }),
    );
  });
});
