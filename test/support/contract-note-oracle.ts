/**
 * An independent implementation of a Zerodha contract note (kite-reference §9), for tests of
 * the cost model: it does not import it; its rates are written out and its arithmetic is
 * BigInt rationals. Used by the paper broker's property test and the Kite square-off test.
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
import type { ChargeBreakdown } from '../../src/model/charges.js';
import type { Product, Side } from '../../src/model/order.js';

/** round(n / d), half away from zero, n ≥ 0. */
const roundDiv = (n: bigint, d: bigint): bigint => (2n * n + d) / (2n * d);
const big = (value: number): bigint => BigInt(value);
const rate = (value: bigint, numerator: bigint, denominator: bigint): bigint => roundDiv(value * numerator, denominator);

export interface NoteFill {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly product: Product;
  readonly quantity: number;
  readonly pricePaise: number;
  readonly autoSquareOff: boolean;
}

export type Components = Omit<ChargeBreakdown, 'totalPaise'>;

/** The day's contract note of one portfolio, by the rules in the file notes. */
export function oracleNote(fills: readonly NoteFill[]): Components & { totalPaise: number } {
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
