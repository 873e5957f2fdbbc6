/**
 * The Zerodha equity cost model (kite-reference §9): brokerage, STT, NSE transaction
 * charge, SEBI fee, GST, stamp duty, the DP charge and the call-and-trade fee, all in
 * exact integer paise.
 *
 * Rates are data ({@link ChargeRates}), every rate an integer ratio, so no float ever
 * touches money: each component is `value × numerator / denominator`, rounded once with
 * {@link mulDivRound} (half away from zero).
 *
 * ## What is intraday and what is delivery (per portfolio, per IST day, per symbol)
 * - MIS and NRML trades are intraday.
 * - A same-day round trip is intraday whatever the product (kite-reference §9): of the
 *   day's CNC trades in a symbol, the **matched quantity min(bought, sold)** is intraday
 *   (STT 0.025% on the sell side, intraday stamp duty 0.003% on the buy side, intraday
 *   brokerage, no DP charge), whichever came first (a sell from holdings bought back the
 *   same day is a round trip too). Only the rest is delivery: a net buy is a delivery buy
 *   (bought and held), a net sell a delivery sell (sold from holdings: the DP charge, once
 *   per scrip per day). MIS trades are not matched with CNC ones: Troupe keeps the two as
 *   separate positions and MIS is squared off within the day.
 * - Values follow the exchange's STT method (NSE circular NSE/CMO/0146/2004: per client,
 *   security and day, total buy and sell quantity and value, one volume-weighted average
 *   price): every CNC quantity of the symbol-day is valued at the VWAP of that day's CNC
 *   trades of both sides, (bought value + sold value) / (bought + sold quantity); the
 *   delivery and intraday sell values are rounded to the paisa, the intraday buy value
 *   takes the rest, so the values add up to the actual turnover (transaction charge and
 *   SEBI fee are on the actual turnover, unchanged). See {@link classifyCncDay}.
 * - Brokerage stays per executed order: the matched quantity is taken from each side's
 *   fills in fill order (the first units bought and the first units sold that day are the
 *   intraday ones); each fill's intraday part pays the intraday rate at its own price, its
 *   delivery part the delivery rate (0), each part rounded to the paisa, and each order's
 *   sum is capped at ₹20 once. When a later fill changes an order's classification, its
 *   brokerage is recomputed with the note: the ledger keeps CNC brokerage per order itself.
 *
 * ## Rounding rules (what this module does, on purpose)
 * - Each component is rounded **once over the basis it is charged on**: brokerage per
 *   executed order (per fill for a partially filled order, capped across the order's
 *   fills); STT over the whole contract note, to the **rupee** (`sttRoundingPaise: 100`,
 *   as contract notes do; 1 rounds it to the paisa); transaction charge, SEBI fee and
 *   stamp duty to the paisa over the note's turnover (per category and side where the rate
 *   differs); GST over (brokerage + transaction + SEBI) after those are rounded; the DP
 *   charge is a flat amount per scrip per sell day (GST on it computed and rounded once);
 *   the call-and-trade fee (₹50 + 18% GST = ₹59) is a flat amount per order placed by the
 *   broker's dealer desk (the MIS auto square-off), taken on the order's first fill
 *   (`callAndTrade`, with `callAndTradeAlreadyCharged` for its later fills).
 * - A contract note covers one portfolio's trades of one day. {@link chargeFill} keeps a
 *   running {@link ChargeLedger} and charges each fill the *change* of the note's rounded
 *   charges, so the fills' charges always add up to the note exactly. This is what makes
 *   the reference round trip come out at ₹82.45 (intraday) and ₹237.59 (delivery): GST on
 *   one ₹1,00,000 order alone is ₹4.1526 → ₹4.15, twice that is ₹8.30, but GST on the note
 *   is 18% × ₹46.14 = ₹8.3052 → ₹8.31. A fill can get a negative component (or total) when
 *   it reclassifies earlier CNC fills as intraday: the note itself never goes down below
 *   zero. {@link chargesForOrderExecution} prices one execution as a note of its own (a
 *   CNC execution alone is delivery), so summing it over orders can be up to a paisa per
 *   component per order (a rupee for STT) away from the note.
 *
 * ## Scope
 * NSE cash equities (F&O rates are not modelled). The IPFT levy is left out
 * (kite-reference marks it unconfirmed).
 */
import { mul, mulDivRound, type Paise } from './money.js';
import type { Order, Product, Side } from './order.js';

/** A non-negative rate as an exact integer ratio: 25/100_000 is 0.025%. */
export interface Ratio {
  readonly numerator: number;
  readonly denominator: number;
}

/** Every rate and flat amount of the cost model, as data. */
export interface ChargeRates {
  /** Human name of the schedule. */
  readonly name: string;
  /** First IST date the schedule applies to ("YYYY-MM-DD"). */
  readonly effectiveFrom: string;
  /** Brokerage as a share of the order value, intraday (MIS, NRML). */
  readonly brokerageIntraday: Ratio;
  /** Brokerage as a share of the order value, delivery (CNC). */
  readonly brokerageDelivery: Ratio;
  /** Brokerage cap per executed order, across all its fills. */
  readonly brokerageCapPerOrderPaise: Paise;
  readonly sttIntradayBuy: Ratio;
  readonly sttIntradaySell: Ratio;
  readonly sttDeliveryBuy: Ratio;
  readonly sttDeliverySell: Ratio;
  /** Unit the contract note's STT is rounded to: 100 (rupee, as contract notes do) or 1 (paisa). */
  readonly sttRoundingPaise: number;
  /** Exchange transaction charge on turnover (both sides). */
  readonly transaction: Ratio;
  /** SEBI turnover fee (both sides). */
  readonly sebi: Ratio;
  /** GST on brokerage + transaction charge + SEBI fee (and on the DP charge). */
  readonly gst: Ratio;
  readonly stampIntradayBuy: Ratio;
  readonly stampDeliveryBuy: Ratio;
  /**
   * Depository charge per scrip per day with a delivery (CNC) sell, before GST.
   * Configurable: ₹13 today, ₹13.50 on older schedules (kite-reference: to confirm).
   */
  readonly dpChargePerScripPaise: Paise;
  /** Whether GST is added to the DP charge. */
  readonly dpChargeAttractsGst: boolean;
  /**
   * Call-and-trade fee per order placed by the broker's dealer desk (the MIS auto
   * square-off), before GST; GST at {@link ChargeRates.gst} is added. ₹50 at Zerodha.
   */
  readonly callAndTradeFeePaise: Paise;
}

const ratio = (numerator: number, denominator: number): Ratio => ({ numerator, denominator });

/**
 * Zerodha NSE equity charges, rates since 1 Oct 2024 (kite-reference §9):
 * brokerage min(0.03%, ₹20) intraday, 0 delivery; STT 0.025% intraday sell, 0.1% delivery
 * both sides; NSE transaction 0.00297%; SEBI ₹10/crore; GST 18%; stamp 0.003% intraday buy,
 * 0.015% delivery buy; DP ₹13 + GST per scrip per sell day.
 */
export const ZERODHA_NSE_EQUITY_RATES: ChargeRates = Object.freeze({
  name: 'Zerodha NSE equity',
  effectiveFrom: '2024-10-01',
  brokerageIntraday: ratio(3, 10_000),
  brokerageDelivery: ratio(0, 1),
  brokerageCapPerOrderPaise: 20_00,
  sttIntradayBuy: ratio(0, 1),
  sttIntradaySell: ratio(25, 100_000),
  sttDeliveryBuy: ratio(1, 1_000),
  sttDeliverySell: ratio(1, 1_000),
  sttRoundingPaise: 100,
  transaction: ratio(297, 10_000_000),
  sebi: ratio(10_00, 1_00_00_000_00), // ₹10 per ₹1 crore
  gst: ratio(18, 100),
  stampIntradayBuy: ratio(3, 100_000),
  stampDeliveryBuy: ratio(15, 100_000),
  dpChargePerScripPaise: 13_00,
  dpChargeAttractsGst: true,
  callAndTradeFeePaise: 50_00,
});

/**
 * Itemised charges in paise. `gstPaise` excludes the GST on the DP charge and on the
 * call-and-trade fee, which `dpPaise` and `callAndTradePaise` include.
 */
export interface ChargeBreakdown {
  readonly brokeragePaise: Paise;
  readonly sttPaise: Paise;
  readonly transactionPaise: Paise;
  readonly sebiPaise: Paise;
  readonly gstPaise: Paise;
  readonly stampPaise: Paise;
  readonly dpPaise: Paise;
  /** Call-and-trade fees (₹50 + 18% GST = ₹59 per dealer-desk order), GST included. */
  readonly callAndTradePaise: Paise;
  readonly totalPaise: Paise;
}

/** A breakdown of zeros. */
export const NO_CHARGES: ChargeBreakdown = Object.freeze({
  brokeragePaise: 0,
  sttPaise: 0,
  transactionPaise: 0,
  sebiPaise: 0,
  gstPaise: 0,
  stampPaise: 0,
  dpPaise: 0,
  callAndTradePaise: 0,
  totalPaise: 0,
});

/** Which column of the rate table a product is priced from. */
export type ChargeCategory = 'intraday' | 'delivery';

/** A product's column when an execution is priced alone: CNC delivery, MIS (and NRML, priced as intraday equity) intraday. On a day's note a CNC round trip is intraday ({@link classifyCncDay}). */
export function chargeCategory(product: Product): ChargeCategory {
  return product === 'CNC' ? 'delivery' : 'intraday';
}

/**
 * The order `reason` of the orders the MIS auto square-off places (the broker's dealer desk):
 * the execution paths charge them the call-and-trade fee.
 */
export const AUTO_SQUARE_OFF_REASON = 'auto-square-off';

/** One execution to price: a whole executed order, or one fill of a partially filled order. */
export interface OrderExecutionInput {
  readonly side: Side;
  readonly product: Product;
  readonly quantity: number;
  readonly pricePaise: Paise;
  /** Brokerage already charged on earlier fills of the same order (the cap is per order). Default 0. */
  readonly brokerageAlreadyChargedPaise?: Paise;
  /** For CNC sells: the DP charge for this scrip was already taken today. Default false. */
  readonly dpAlreadyChargedToday?: boolean;
  /**
   * The order was placed by the broker's dealer desk (the MIS auto square-off): it pays the
   * call-and-trade fee once, on its first fill. Default false.
   */
  readonly callAndTrade?: boolean;
  /** For a call-and-trade order: the fee was already taken on an earlier fill of it. Default false. */
  readonly callAndTradeAlreadyCharged?: boolean;
}

/**
 * The brokerage for one execution: `min(value × rate, cap − already charged)`, never
 * negative; the percentage is rounded to the paisa per execution.
 */
export function brokerageForExecutionPaise(
  input: Pick<OrderExecutionInput, 'product' | 'quantity' | 'pricePaise' | 'brokerageAlreadyChargedPaise'>,
  rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES,
): Paise {
  const rate = chargeCategory(input.product) === 'delivery' ? rates.brokerageDelivery : rates.brokerageIntraday;
  const percentage = mulDivRound(mul(input.quantity, input.pricePaise), rate.numerator, rate.denominator);
  const room = Math.max(0, rates.brokerageCapPerOrderPaise - (input.brokerageAlreadyChargedPaise ?? 0));
  return Math.min(percentage, room);
}

/**
 * What a contract note charges on: turnover by category and side, the brokerage of its
 * orders, and the number of scrips with a delivery sell. JSON-safe.
 */
export interface ChargeBasis {
  readonly intradayBuyValuePaise: Paise;
  readonly intradaySellValuePaise: Paise;
  readonly deliveryBuyValuePaise: Paise;
  readonly deliverySellValuePaise: Paise;
  readonly brokeragePaise: Paise;
  readonly dpScripCount: number;
  /** Orders charged the call-and-trade fee. */
  readonly callAndTradeOrderCount: number;
}

/** A basis with nothing traded. */
export const EMPTY_CHARGE_BASIS: ChargeBasis = Object.freeze({
  intradayBuyValuePaise: 0,
  intradaySellValuePaise: 0,
  deliveryBuyValuePaise: 0,
  deliverySellValuePaise: 0,
  brokeragePaise: 0,
  dpScripCount: 0,
  callAndTradeOrderCount: 0,
});

const applyRate = (valuePaise: Paise, rate: Ratio): Paise => mulDivRound(valuePaise, rate.numerator, rate.denominator);

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * Σ value × rate, exact, rounded once to a multiple of `unitPaise` (half away from zero):
 * how STT is rounded over a whole contract note.
 */
function roundedSumOfRates(terms: readonly (readonly [Paise, Ratio])[], unitPaise: number): Paise {
  let denominator = 1n;
  for (const [, rate] of terms) {
    const d = BigInt(rate.denominator);
    denominator = (denominator / gcd(denominator, d)) * d;
  }
  let numerator = 0n;
  for (const [value, rate] of terms) numerator += BigInt(value) * BigInt(rate.numerator) * (denominator / BigInt(rate.denominator));
  const divisor = denominator * BigInt(unitPaise);
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let units = magnitude / divisor;
  if ((magnitude % divisor) * 2n >= divisor) units += 1n;
  return mul(Number(negative ? -units : units), unitPaise);
}

/** The DP charge for one scrip-day, GST included when the rates say so. */
export function dpChargePerScripPaise(rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES): Paise {
  const base = rates.dpChargePerScripPaise;
  return rates.dpChargeAttractsGst ? base + applyRate(base, rates.gst) : base;
}

/** The call-and-trade fee of one order, GST included (₹50 + 18% = ₹59 at Zerodha). */
export function callAndTradeFeePaise(rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES): Paise {
  return rates.callAndTradeFeePaise + applyRate(rates.callAndTradeFeePaise, rates.gst);
}

/** Charges of a contract note with this basis, each component rounded once (see the module notes). */
export function chargesForBasis(basis: ChargeBasis, rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES): ChargeBreakdown {
  const unit = rates.sttRoundingPaise;
  const brokeragePaise = basis.brokeragePaise;
  const sttPaise = roundedSumOfRates(
    [
      [basis.intradayBuyValuePaise, rates.sttIntradayBuy],
      [basis.intradaySellValuePaise, rates.sttIntradaySell],
      [basis.deliveryBuyValuePaise, rates.sttDeliveryBuy],
      [basis.deliverySellValuePaise, rates.sttDeliverySell],
    ],
    unit,
  );
  const turnover = basis.intradayBuyValuePaise + basis.intradaySellValuePaise + basis.deliveryBuyValuePaise + basis.deliverySellValuePaise;
  const transactionPaise = applyRate(turnover, rates.transaction);
  const sebiPaise = applyRate(turnover, rates.sebi);
  const gstPaise = applyRate(brokeragePaise + transactionPaise + sebiPaise, rates.gst);
  const stampPaise = applyRate(basis.intradayBuyValuePaise, rates.stampIntradayBuy) + applyRate(basis.deliveryBuyValuePaise, rates.stampDeliveryBuy);
  const dpPaise = mul(basis.dpScripCount, dpChargePerScripPaise(rates));
  const callAndTradePaise = mul(basis.callAndTradeOrderCount, callAndTradeFeePaise(rates));
  return {
    brokeragePaise,
    sttPaise,
    transactionPaise,
    sebiPaise,
    gstPaise,
    stampPaise,
    dpPaise,
    callAndTradePaise,
    totalPaise: brokeragePaise + sttPaise + transactionPaise + sebiPaise + gstPaise + stampPaise + dpPaise + callAndTradePaise,
  };
}

function assertExecution(input: OrderExecutionInput): void {
  if (!Number.isSafeInteger(input.quantity) || input.quantity <= 0) {
    throw new RangeError(`charges need a positive integer quantity, got ${input.quantity}`);
  }
  if (!Number.isSafeInteger(input.pricePaise) || input.pricePaise <= 0) {
    throw new RangeError(`charges need a positive integer price in paise, got ${input.pricePaise}`);
  }
}

/** Adds one execution (with its already computed brokerage and DP decision) to a basis. */
function addToBasis(basis: ChargeBasis, input: OrderExecutionInput, brokeragePaise: Paise, chargeDp: boolean): ChargeBasis {
  const value = mul(input.quantity, input.pricePaise);
  const delivery = chargeCategory(input.product) === 'delivery';
  const buy = input.side === 'BUY';
  return {
    intradayBuyValuePaise: basis.intradayBuyValuePaise + (!delivery && buy ? value : 0),
    intradaySellValuePaise: basis.intradaySellValuePaise + (!delivery && !buy ? value : 0),
    deliveryBuyValuePaise: basis.deliveryBuyValuePaise + (delivery && buy ? value : 0),
    deliverySellValuePaise: basis.deliverySellValuePaise + (delivery && !buy ? value : 0),
    brokeragePaise: basis.brokeragePaise + brokeragePaise,
    dpScripCount: basis.dpScripCount + (chargeDp ? 1 : 0),
    callAndTradeOrderCount: basis.callAndTradeOrderCount + (input.callAndTrade === true && input.callAndTradeAlreadyCharged !== true ? 1 : 0),
  };
}

/**
 * Charges for one executed order (or one fill, passing the brokerage its order already
 * paid), priced as a contract note of its own. Use {@link chargeFill} to charge fills that
 * add up exactly to the day's contract note.
 */
export function chargesForOrderExecution(input: OrderExecutionInput, rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES): ChargeBreakdown {
  assertExecution(input);
  const chargeDp = input.side === 'SELL' && chargeCategory(input.product) === 'delivery' && input.dpAlreadyChargedToday !== true;
  return chargesForBasis(addToBasis(EMPTY_CHARGE_BASIS, input, brokerageForExecutionPaise(input, rates), chargeDp), rates);
}

/** Component-wise `after − before`. */
export function subtractCharges(after: ChargeBreakdown, before: ChargeBreakdown): ChargeBreakdown {
  return {
    brokeragePaise: after.brokeragePaise - before.brokeragePaise,
    sttPaise: after.sttPaise - before.sttPaise,
    transactionPaise: after.transactionPaise - before.transactionPaise,
    sebiPaise: after.sebiPaise - before.sebiPaise,
    gstPaise: after.gstPaise - before.gstPaise,
    stampPaise: after.stampPaise - before.stampPaise,
    dpPaise: after.dpPaise - before.dpPaise,
    callAndTradePaise: after.callAndTradePaise - before.callAndTradePaise,
    totalPaise: after.totalPaise - before.totalPaise,
  };
}

/** Component-wise sum. */
export function addCharges(a: ChargeBreakdown, b: ChargeBreakdown): ChargeBreakdown {
  return {
    brokeragePaise: a.brokeragePaise + b.brokeragePaise,
    sttPaise: a.sttPaise + b.sttPaise,
    transactionPaise: a.transactionPaise + b.transactionPaise,
    sebiPaise: a.sebiPaise + b.sebiPaise,
    gstPaise: a.gstPaise + b.gstPaise,
    stampPaise: a.stampPaise + b.stampPaise,
    dpPaise: a.dpPaise + b.dpPaise,
    callAndTradePaise: a.callAndTradePaise + b.callAndTradePaise,
    totalPaise: a.totalPaise + b.totalPaise,
  };
}

/** One CNC fill of the day, as the ledger keeps it to classify the day's CNC trades. */
export interface CncFillRecord {
  /** The order it belongs to (the brokerage cap is per order). */
  readonly orderId: string;
  readonly quantity: number;
  readonly pricePaise: Paise;
}

/** The day's CNC fills of one symbol, each side in fill order. */
export interface CncSymbolDay {
  readonly symbol: string;
  readonly buys: readonly CncFillRecord[];
  readonly sells: readonly CncFillRecord[];
  /** {@link classifyCncDay} of these fills (kept, so a fill reclassifies only its own symbol). */
  readonly classification: CncClassification;
}

/**
 * The running contract note of one portfolio for one trading day. JSON-safe, immutable.
 * `settled` holds what later fills cannot reclassify (MIS/NRML executions with their
 * brokerage, call-and-trade fees); `cnc` the day's CNC fills, classified again at every
 * fill; `basis`, `dpSymbols` and `charged` are the note as it stands.
 */
export interface ChargeLedger {
  readonly settled: ChargeBasis;
  /** The day's CNC fills per symbol, sorted by symbol. */
  readonly cnc: readonly CncSymbolDay[];
  /** CNC fills charged without an order id (each is an order of its own). */
  readonly anonymousFills: number;
  /** The whole note's basis (settled + the CNC classification). */
  readonly basis: ChargeBasis;
  /** Symbols with a delivery sell as the note stands (the DP charge is taken once each), sorted. */
  readonly dpSymbols: readonly string[];
  /** Sum of the charges of every fill so far (= chargesForBasis(basis)). */
  readonly charged: ChargeBreakdown;
}

/** A ledger with nothing charged: start one per portfolio per trading day. */
export const EMPTY_CHARGE_LEDGER: ChargeLedger = Object.freeze({
  settled: EMPTY_CHARGE_BASIS,
  cnc: Object.freeze([]),
  anonymousFills: 0,
  basis: EMPTY_CHARGE_BASIS,
  dpSymbols: Object.freeze([]),
  charged: NO_CHARGES,
});

/** A ledger as saved before same-day CNC classification and the call-and-trade fee (no `cnc`). */
export interface LegacyChargeLedger {
  readonly basis: Omit<ChargeBasis, 'callAndTradeOrderCount'> & { readonly callAndTradeOrderCount?: number };
  readonly dpSymbols: readonly string[];
  readonly charged: Omit<ChargeBreakdown, 'callAndTradePaise'> & { readonly callAndTradePaise?: Paise };
}

/**
 * A saved ledger in today's shape. A legacy one (saved by an older version, mid-day) keeps
 * its whole basis as settled: its CNC fills stay as they were charged, fills from now on
 * are classified among themselves.
 */
export function upgradeChargeLedger(saved: ChargeLedger | LegacyChargeLedger): ChargeLedger {
  if ('cnc' in saved) return saved;
  const settled: ChargeBasis = { ...saved.basis, callAndTradeOrderCount: saved.basis.callAndTradeOrderCount ?? 0 };
  return {
    settled,
    cnc: [],
    anonymousFills: 0,
    basis: settled,
    dpSymbols: saved.dpSymbols,
    charged: { ...saved.charged, callAndTradePaise: saved.charged.callAndTradePaise ?? 0 },
  };
}

/** The classification of one symbol's CNC fills of a day (see the module notes). */
export interface CncClassification {
  readonly intradayBuyValuePaise: Paise;
  readonly intradaySellValuePaise: Paise;
  readonly deliveryBuyValuePaise: Paise;
  readonly deliverySellValuePaise: Paise;
  readonly brokeragePaise: Paise;
  /** Matched (same-day, intraday) quantity: min(bought, sold). */
  readonly matchedQuantity: number;
}

/**
 * Brokerage of one side's CNC fills: the first `matched` units (in fill order) are intraday,
 * the rest delivery; each fill's part is priced at its own price and rounded to the paisa,
 * and each order's sum is capped once.
 */
function cncSideBrokerage(fills: readonly CncFillRecord[], matched: number, rates: ChargeRates): Paise {
  const byOrder = new Map<string, number>();
  let left = matched;
  for (const fill of fills) {
    const intraday = Math.min(fill.quantity, left);
    left -= intraday;
    const amount =
      mulDivRound(mul(intraday, fill.pricePaise), rates.brokerageIntraday.numerator, rates.brokerageIntraday.denominator) +
      mulDivRound(mul(fill.quantity - intraday, fill.pricePaise), rates.brokerageDelivery.numerator, rates.brokerageDelivery.denominator);
    byOrder.set(fill.orderId, (byOrder.get(fill.orderId) ?? 0) + amount);
  }
  let total = 0;
  for (const amount of byOrder.values()) total += Math.min(amount, rates.brokerageCapPerOrderPaise);
  return total;
}

/**
 * Classifies one symbol's CNC fills of a day: the matched quantity min(bought, sold) is an
 * intraday round trip, the rest delivery (a net buy is a delivery buy, a net sell a delivery
 * sell). Values follow NSE's STT method: every quantity at the day's volume-weighted
 * average price of the CNC trades of both sides, (bought value + sold value) / (bought +
 * sold quantity); the delivery value and the intraday sell value are rounded to the paisa
 * and the intraday buy value takes the rest, so the four values add up to the turnover.
 */
export function classifyCncDay(
  day: { readonly buys: readonly CncFillRecord[]; readonly sells: readonly CncFillRecord[] },
  rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES,
): CncClassification {
  let boughtQuantity = 0;
  let boughtValue = 0;
  let soldQuantity = 0;
  let soldValue = 0;
  for (const fill of day.buys) {
    boughtQuantity += fill.quantity;
    boughtValue += mul(fill.quantity, fill.pricePaise);
  }
  for (const fill of day.sells) {
    soldQuantity += fill.quantity;
    soldValue += mul(fill.quantity, fill.pricePaise);
  }
  const quantity = boughtQuantity + soldQuantity;
  const turnover = boughtValue + soldValue;
  const matchedQuantity = Math.min(boughtQuantity, soldQuantity);
  const deliveryValue = quantity === 0 ? 0 : mulDivRound(Math.abs(boughtQuantity - soldQuantity), turnover, quantity);
  const intradaySellValuePaise = quantity === 0 ? 0 : mulDivRound(matchedQuantity, turnover, quantity);
  const brokeragePaise = cncSideBrokerage(day.buys, matchedQuantity, rates) + cncSideBrokerage(day.sells, matchedQuantity, rates);
  return {
    intradayBuyValuePaise: turnover - deliveryValue - intradaySellValuePaise,
    intradaySellValuePaise,
    deliveryBuyValuePaise: boughtQuantity > soldQuantity ? deliveryValue : 0,
    deliverySellValuePaise: soldQuantity > boughtQuantity ? deliveryValue : 0,
    brokeragePaise,
    matchedQuantity,
  };
}

/** The note's basis: the settled part plus every symbol's CNC classification. */
function noteBasis(settled: ChargeBasis, cnc: readonly CncSymbolDay[]): { basis: ChargeBasis; dpSymbols: string[] } {
  let { intradayBuyValuePaise, intradaySellValuePaise, deliveryBuyValuePaise, deliverySellValuePaise, brokeragePaise, dpScripCount } = settled;
  const dpSymbols: string[] = [];
  for (const day of cnc) {
    const c = day.classification;
    intradayBuyValuePaise += c.intradayBuyValuePaise;
    intradaySellValuePaise += c.intradaySellValuePaise;
    deliveryBuyValuePaise += c.deliveryBuyValuePaise;
    deliverySellValuePaise += c.deliverySellValuePaise;
    brokeragePaise += c.brokeragePaise;
    if (c.deliverySellValuePaise > 0) {
      dpSymbols.push(day.symbol);
      dpScripCount += 1;
    }
  }
  return {
    basis: {
      intradayBuyValuePaise,
      intradaySellValuePaise,
      deliveryBuyValuePaise,
      deliverySellValuePaise,
      brokeragePaise,
      dpScripCount,
      callAndTradeOrderCount: settled.callAndTradeOrderCount,
    },
    dpSymbols,
  };
}

/** One fill to charge through a ledger. */
export interface FillChargeInput extends Omit<OrderExecutionInput, 'dpAlreadyChargedToday'> {
  readonly symbol: string;
  /**
   * The order the fill belongs to. CNC fills need it for the per-order brokerage cap (the
   * ledger keeps CNC brokerage itself, since a later fill can make an order intraday); a
   * CNC fill without one is an order of its own.
   */
  readonly orderId?: string;
}

/**
 * Charges one fill (of a whole or partially filled order) against the day's ledger: the
 * fill pays the change of the contract note's rounded charges, so the fills of a day
 * always add up to the note to the paisa.
 *
 * - MIS/NRML fills are intraday; their brokerage stays capped per order across fills
 *   through `brokerageAlreadyChargedPaise` (the caller's bookkeeping).
 * - CNC fills are classified per symbol with the day's other CNC fills (same-day round
 *   trips are intraday, see {@link classifyCncDay}); the ledger keeps their per-order
 *   brokerage and ignores `brokerageAlreadyChargedPaise`. A CNC fill that turns earlier CNC
 *   fills intraday pays the change of the note, which can make a component negative (a CNC
 *   sell matching a morning's CNC buy gives back the delivery STT and stamp duty the buy
 *   paid; a buy-back after a sell from holdings gives back the DP charge). The total of a
 *   fill can be negative too; the day's fills always add up to the note, which is never
 *   negative.
 */
export function chargeFill(
  ledger: ChargeLedger,
  input: FillChargeInput,
  rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES,
): { readonly ledger: ChargeLedger; readonly charges: ChargeBreakdown } {
  assertExecution(input);
  const fee = input.callAndTrade === true && input.callAndTradeAlreadyCharged !== true ? 1 : 0;
  let settled = ledger.settled;
  let cnc = ledger.cnc;
  let anonymousFills = ledger.anonymousFills;
  if (input.product === 'CNC') {
    if (input.orderId === undefined) anonymousFills += 1;
    const record: CncFillRecord = { orderId: input.orderId ?? `#fill-${anonymousFills}`, quantity: input.quantity, pricePaise: input.pricePaise };
    const at = cnc.findIndex((day) => day.symbol >= input.symbol);
    const found = at >= 0 && cnc[at]!.symbol === input.symbol ? cnc[at] : undefined;
    const buys = [...(found?.buys ?? []), ...(input.side === 'BUY' ? [record] : [])];
    const sells = [...(found?.sells ?? []), ...(input.side === 'SELL' ? [record] : [])];
    const after: CncSymbolDay = { symbol: input.symbol, buys, sells, classification: classifyCncDay({ buys, sells }, rates) };
    cnc = found ? cnc.map((day) => (day === found ? after : day)) : at < 0 ? [...cnc, after] : [...cnc.slice(0, at), after, ...cnc.slice(at)];
    if (fee > 0) settled = { ...settled, callAndTradeOrderCount: settled.callAndTradeOrderCount + fee };
  } else {
    settled = addToBasis(settled, input, brokerageForExecutionPaise(input, rates), false);
  }
  const { basis, dpSymbols } = noteBasis(settled, cnc);
  const charged = chargesForBasis(basis, rates);
  return {
    ledger: { settled, cnc, anonymousFills, basis, dpSymbols, charged },
    charges: subtractCharges(charged, ledger.charged),
  };
}

/** A portfolio's running note and the IST date ("YYYY-MM-DD") it belongs to. */
export interface DayLedger {
  day: string;
  ledger: ChargeLedger;
}

/**
 * Charges one fill of an order against its portfolio's note of `day` (the IST date of the
 * fill; a new day starts a new note), updating `ledgers` in place: the one way both execution
 * paths (paper broker, Kite actor) charge fills. The order is the order before this fill; it
 * pays the call-and-trade fee when placed by the auto square-off ({@link AUTO_SQUARE_OFF_REASON}).
 */
export function chargeOrderFill(
  ledgers: Map<string, DayLedger>,
  day: string,
  fill: {
    readonly order: Pick<Order, 'clientOrderId' | 'portfolioId' | 'symbol' | 'side' | 'product' | 'reason' | 'filledQuantity'>;
    readonly quantity: number;
    readonly pricePaise: Paise;
    /** Brokerage charged on the order's earlier fills (MIS/NRML; the ledger keeps CNC brokerage). */
    readonly brokerageAlreadyChargedPaise: Paise;
  },
  rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES,
): ChargeBreakdown {
  const { order } = fill;
  let entry = ledgers.get(order.portfolioId);
  if (entry === undefined || entry.day !== day) {
    entry = { day, ledger: EMPTY_CHARGE_LEDGER };
    ledgers.set(order.portfolioId, entry);
  }
  const charged = chargeFill(
    entry.ledger,
    {
      symbol: order.symbol,
      side: order.side,
      product: order.product,
      quantity: fill.quantity,
      pricePaise: fill.pricePaise,
      brokerageAlreadyChargedPaise: fill.brokerageAlreadyChargedPaise,
      orderId: order.clientOrderId,
      callAndTrade: order.reason === AUTO_SQUARE_OFF_REASON,
      callAndTradeAlreadyCharged: order.filledQuantity > 0,
    },
    rates,
  );
  entry.ledger = charged.ledger;
  return charged.charges;
}

/** An execution on a contract note; executions sharing `orderId` share the brokerage cap and the call-and-trade fee. */
export type ContractNoteExecution = FillChargeInput;

/**
 * The charges of a whole contract note (one portfolio, one day): folds the executions
 * through {@link chargeFill}. Reproduces Zerodha's worked examples exactly.
 */
export function contractNoteCharges(executions: readonly ContractNoteExecution[], rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES): ChargeBreakdown {
  let ledger = EMPTY_CHARGE_LEDGER;
  const brokerageByOrder = new Map<string, number>();
  const filledOrders = new Set<string>();
  for (const execution of executions) {
    const id = execution.orderId;
    const already = id === undefined ? (execution.brokerageAlreadyChargedPaise ?? 0) : (brokerageByOrder.get(id) ?? 0);
    const callAndTradeAlreadyCharged = id === undefined ? execution.callAndTradeAlreadyCharged === true : filledOrders.has(id);
    const result = chargeFill(ledger, { ...execution, brokerageAlreadyChargedPaise: already, callAndTradeAlreadyCharged }, rates);
    ledger = result.ledger;
    if (id !== undefined) {
      brokerageByOrder.set(id, already + result.charges.brokeragePaise);
      filledOrders.add(id);
    }
  }
  return ledger.charged;
}
