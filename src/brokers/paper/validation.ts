/**
 * Order validation as Kite/NSE do it, pure. Messages follow Kite's wording where known;
 * callers match on the stable {@link RejectionCode}, never on the text.
 */
import { isOnTick, priceBand, type Instrument } from '../../model/instrument.js';
import { paiseToRupeeString, type Paise } from '../../model/money.js';
import type { Order } from '../../model/order.js';
import { isMarketOpenAt } from '../../model/calendar.js';
import type { RejectionCode } from './paper-broker.types.js';

/** Why an order is refused. */
export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
}

/** What validation needs besides the order and the instrument. */
export interface ValidationContext {
  readonly atMs: number;
  readonly marketHoursOnly: boolean;
  /** Last traded price of the symbol, 0 when none has been seen. */
  readonly lastPricePaise: Paise;
}

const rupees = (paise: Paise): string => paiseToRupeeString(paise);

function checkPrice(what: 'price' | 'trigger', pricePaise: Paise, instrument: Instrument): Rejection | undefined {
  if (!Number.isSafeInteger(pricePaise) || pricePaise <= 0) {
    return { code: 'invalid-price', message: `Invalid ${what === 'price' ? 'price' : 'trigger price'}: ${String(pricePaise)} paise.` };
  }
  if (!isOnTick(pricePaise, instrument.tickSizePaise)) {
    return {
      code: 'tick-size',
      message: `Tick size for this script is ${rupees(instrument.tickSizePaise)}. Kindly enter ${what === 'price' ? 'price' : 'trigger price'} in the multiple of tick size for this script.`,
    };
  }
  const band = priceBand(instrument);
  const code: RejectionCode = what === 'price' ? 'price-band' : 'trigger-band';
  const label = what === 'price' ? 'order price' : 'trigger price';
  if (pricePaise < band.lowerPaise) {
    return {
      code,
      message: `Your ${label} is lower than the current lower circuit limit of ${rupees(band.lowerPaise)}. Place an order within the daily range.`,
    };
  }
  if (pricePaise > band.upperPaise) {
    return {
      code,
      message: `Your ${label} is higher than the current upper circuit limit of ${rupees(band.upperPaise)}. Place an order within the daily range.`,
    };
  }
  return undefined;
}

/**
 * Checks an order against the instrument and the market, in this order: symbol, product,
 * market hours, quantity (positive whole number, lot multiple, ≤ freeze quantity), limit
 * price (present, positive, on the tick grid, inside the circuit limits), trigger price
 * (same), SL limit on the right side of the trigger, and the trigger on the far side of
 * the last traded price (a stop that would trigger at once is refused, as Kite does).
 * Returns undefined when the order is acceptable.
 */
export function validateOrder(order: Order, instrument: Instrument, context: ValidationContext): Rejection | undefined {
  if (order.symbol !== instrument.symbol) {
    return { code: 'symbol-mismatch', message: `Instrument ${instrument.symbol} does not match the order's symbol ${order.symbol}.` };
  }
  if (order.product === 'NRML' && instrument.exchange !== 'NFO') {
    return { code: 'product-not-allowed', message: 'NRML product is not allowed for equity. Use CNC or MIS.' };
  }
  if (order.product === 'CNC' && instrument.exchange === 'NFO') {
    return { code: 'product-not-allowed', message: 'CNC product is not allowed for derivatives. Use NRML or MIS.' };
  }
  if (context.marketHoursOnly && !isMarketOpenAt(context.atMs)) {
    return { code: 'market-closed', message: 'Markets are closed right now. Place an after market order (AMO) instead.' };
  }
  if (!Number.isSafeInteger(order.quantity) || order.quantity <= 0) {
    return { code: 'invalid-quantity', message: `Quantity should be a positive whole number, got ${String(order.quantity)}.` };
  }
  if (order.quantity % instrument.lotSize !== 0) {
    return { code: 'lot-size', message: `Quantity should be a multiple of the lot size ${instrument.lotSize}.` };
  }
  if (order.quantity > instrument.freezeQuantity) {
    return {
      code: 'freeze-quantity',
      message: `Quantity exceeds the freeze limit of ${instrument.freezeQuantity} for this instrument. Use autoslice or split the order.`,
    };
  }
  const needsPrice = order.orderType === 'LIMIT' || order.orderType === 'SL';
  const needsTrigger = order.orderType === 'SL' || order.orderType === 'SL-M';
  if (needsPrice) {
    if (order.limitPricePaise === undefined) return { code: 'price-missing', message: `Price is required for ${order.orderType} orders.` };
    const problem = checkPrice('price', order.limitPricePaise, instrument);
    if (problem) return problem;
  }
  if (needsTrigger) {
    if (order.triggerPricePaise === undefined) return { code: 'trigger-missing', message: `Trigger price is required for ${order.orderType} orders.` };
    const problem = checkPrice('trigger', order.triggerPricePaise, instrument);
    if (problem) return problem;
    const trigger = order.triggerPricePaise;
    if (order.orderType === 'SL' && order.limitPricePaise !== undefined) {
      if (order.side === 'BUY' && trigger > order.limitPricePaise) {
        return { code: 'trigger-above-price', message: 'Trigger price for stoploss buy orders cannot be above the order price.' };
      }
      if (order.side === 'SELL' && trigger < order.limitPricePaise) {
        return { code: 'trigger-below-price', message: 'Trigger price for stoploss sell orders cannot be below the order price.' };
      }
    }
    if (context.lastPricePaise > 0) {
      if (order.side === 'BUY' && trigger <= context.lastPricePaise) {
        return { code: 'trigger-vs-ltp', message: 'Trigger price for stoploss buy orders should be higher than the last traded price.' };
      }
      if (order.side === 'SELL' && trigger >= context.lastPricePaise) {
        return { code: 'trigger-vs-ltp', message: 'Trigger price for stoploss sell orders should be lower than the last traded price.' };
      }
    }
  }
  return undefined;
}
