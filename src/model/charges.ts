/**
 * The Zerodha equity cost model (kite-reference §9): brokerage, STT, NSE transaction
 * charge, SEBI fee, GST, stamp duty and the DP charge, all in exact integer paise.
 *
 * Rates are data ({@link ChargeRates}), every rate an integer ratio, so no float ever
 * touches money: each component is `value × numerator / denominator`, rounded once with
 * {@link mulDivRound} (half away from zero).
 *
 * ## Rounding rules (what this module does, on purpose)
 * - Each component is rounded to the paisa, half away from zero, **once over the basis it
 *   is charged on**: brokerage per executed order (per fill for a partially filled order,
 *   capped across the order's fills); STT, transaction charge, SEBI fee and stamp duty
 *   over the contract note's turnover (per product category and side where the rate
 *   differs); GST over (brokerage + transaction + SEBI) after those are rounded; the DP
 *   charge is a flat amount per scrip per sell day (GST on it computed and rounded once);
 *   the call-and-trade fee (₹50 + 18% GST = ₹59) is a flat amount per order placed by the
 *   broker's dealer desk (the MIS auto square-off), taken on the order's first fill
 *   (`callAndTrade`, with `callAndTradeAlreadyCharged` for its later fills).
 * - Real contract notes round STT to the rupee. The default here rounds it to the paisa
 *   (`sttRoundingPaise: 1`); set `sttRoundingPaise: 100` in the rates for rupee rounding.
 * - A contract note covers one portfolio's trades of one day. {@link chargeFill} keeps a
 *   running {@link ChargeLedger} and charges each fill the *increase* of the note's
 *   rounded total, so the fills' charges always add up to the note exactly. This is what
 *   makes the reference round trip come out at ₹82.45 (intraday) and ₹237.59 (delivery):
 *   GST on one ₹1,00,000 order alone is ₹4.1526 → ₹4.15, twice that is ₹8.30, but GST on
 *   the note is 18% × ₹46.14 = ₹8.3052 → ₹8.31. {@link chargesForOrderExecution} prices
 *   one execution as a note of its own, so summing it over orders can be up to a paisa
 *   per component per order away from the note.
 *
 * ## Scope
 * NSE cash equities. CNC is priced as delivery; MIS and NRML as intraday (F&O rates are
 * not modelled). The IPFT levy is left out (kite-reference marks it unconfirmed).
 */
import { mul, mulDivRound, type Paise } from './money.js';
import type { Product, Side } from './order.js';

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
  /** Unit STT is rounded to: 1 (paisa, default) or 100 (rupee, as contract notes do). */
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
  sttRoundingPaise: 1,
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

/** CNC is delivery; MIS (and NRML, priced as intraday equity) are intraday. */
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
  /** Orders charged the call-and-trade fee (absent in bases saved before the fee existed: 0). */
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

const applySttRate = (valuePaise: Paise, rate: Ratio, unitPaise: number): Paise =>
  unitPaise === 1 ? applyRate(valuePaise, rate) : mul(mulDivRound(valuePaise, rate.numerator, mul(rate.denominator, unitPaise)), unitPaise);

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
  const sttPaise =
    applySttRate(basis.intradayBuyValuePaise, rates.sttIntradayBuy, unit) +
    applySttRate(basis.intradaySellValuePaise, rates.sttIntradaySell, unit) +
    applySttRate(basis.deliveryBuyValuePaise, rates.sttDeliveryBuy, unit) +
    applySttRate(basis.deliverySellValuePaise, rates.sttDeliverySell, unit);
  const turnover = basis.intradayBuyValuePaise + basis.intradaySellValuePaise + basis.deliveryBuyValuePaise + basis.deliverySellValuePaise;
  const transactionPaise = applyRate(turnover, rates.transaction);
  const sebiPaise = applyRate(turnover, rates.sebi);
  const gstPaise = applyRate(brokeragePaise + transactionPaise + sebiPaise, rates.gst);
  const stampPaise = applyRate(basis.intradayBuyValuePaise, rates.stampIntradayBuy) + applyRate(basis.deliveryBuyValuePaise, rates.stampDeliveryBuy);
  const dpPaise = mul(basis.dpScripCount, dpChargePerScripPaise(rates));
  const callAndTradePaise = mul(basis.callAndTradeOrderCount ?? 0, callAndTradeFeePaise(rates));
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
    callAndTradeOrderCount: (basis.callAndTradeOrderCount ?? 0) + (input.callAndTrade === true && input.callAndTradeAlreadyCharged !== true ? 1 : 0),
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

/**
 * The running contract note of one portfolio for one trading day: its basis, the symbols
 * whose DP charge is taken, and what has been charged so far. JSON-safe, immutable.
 */
export interface ChargeLedger {
  readonly basis: ChargeBasis;
  /** Symbols with a delivery sell today (DP charged once each), sorted. */
  readonly dpSymbols: readonly string[];
  /** Sum of the charges of every fill so far (= chargesForBasis(basis)). */
  readonly charged: ChargeBreakdown;
}

/** A ledger with nothing charged: start one per portfolio per trading day. */
export const EMPTY_CHARGE_LEDGER: ChargeLedger = Object.freeze({ basis: EMPTY_CHARGE_BASIS, dpSymbols: Object.freeze([]), charged: NO_CHARGES });

/** One fill to charge through a ledger. */
export interface FillChargeInput extends OrderExecutionInput {
  readonly symbol: string;
}

/**
 * Charges one fill (of a whole or partially filled order) against the day's ledger: the
 * fill pays the increase of the contract note's rounded charges, so the fills of a day
 * always add up to the note to the paisa. Brokerage stays capped per order across fills
 * through `brokerageAlreadyChargedPaise`; the DP charge is taken on the first delivery
 * sell of each symbol. Every component of the result is ≥ 0.
 */
export function chargeFill(
  ledger: ChargeLedger,
  input: FillChargeInput,
  rates: ChargeRates = ZERODHA_NSE_EQUITY_RATES,
): { readonly ledger: ChargeLedger; readonly charges: ChargeBreakdown } {
  assertExecution(input);
  const deliverySell = input.side === 'SELL' && chargeCategory(input.product) === 'delivery';
  const chargeDp = deliverySell && input.dpAlreadyChargedToday !== true && !ledger.dpSymbols.includes(input.symbol);
  const basis = addToBasis(ledger.basis, input, brokerageForExecutionPaise(input, rates), chargeDp);
  const charged = chargesForBasis(basis, rates);
  return {
    ledger: {
      basis,
      dpSymbols: chargeDp ? [...ledger.dpSymbols, input.symbol].sort() : ledger.dpSymbols,
      charged,
    },
    charges: subtractCharges(charged, ledger.charged),
  };
}

/** An execution on a contract note; executions sharing `orderId` share the brokerage cap. */
export interface ContractNoteExecution extends FillChargeInput {
  readonly orderId?: string;
}

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
