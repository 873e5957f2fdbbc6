import { divRound, mul, type Paise } from './money.js';
import { signedQuantity, type Fill } from './fill.js';
import type { Product } from './order.js';

/**
 * A net position in one symbol and product. `costPaise` is the signed cost of the open
 * quantity (Σ signed qty × price of the open lots at average cost), so the average price
 * is costPaise / netQuantity and unrealised P&L is netQuantity × last − costPaise.
 * Everything is integer paise; the only division (cost removed on a partial close) is
 * exact-rounded and does not leak: realised − cost + qty × last always equals the sum of
 * the fills' cash flows plus the market value.
 */
export interface Position {
  readonly symbol: string;
  readonly product: Product;
  readonly netQuantity: number;
  readonly costPaise: Paise;
  readonly realisedPaise: Paise;
  readonly chargesPaise: Paise;
  readonly buyQuantity: number;
  readonly sellQuantity: number;
  readonly buyValuePaise: Paise;
  readonly sellValuePaise: Paise;
  readonly lastPricePaise: Paise;
}

export function emptyPosition(symbol: string, product: Product, lastPricePaise: Paise = 0): Position {
  return {
    symbol,
    product,
    netQuantity: 0,
    costPaise: 0,
    realisedPaise: 0,
    chargesPaise: 0,
    buyQuantity: 0,
    sellQuantity: 0,
    buyValuePaise: 0,
    sellValuePaise: 0,
    lastPricePaise,
  };
}

/** Applies one fill. Pure. Realised P&L here is before charges (charges are tracked apart). */
export function applyFill(position: Position, fill: Fill): Position {
  const f = signedQuantity(fill);
  const price = fill.pricePaise;
  let quantity = position.netQuantity;
  let cost = position.costPaise;
  let realised = position.realisedPaise;
  const value = mul(fill.quantity, price);

  if (quantity === 0 || Math.sign(f) === Math.sign(quantity)) {
    quantity += f;
    cost += f * price;
  } else {
    const closing = Math.min(Math.abs(f), Math.abs(quantity));
    const removed = divRound(mul(cost, closing), Math.abs(quantity));
    realised += Math.sign(quantity) * closing * price - removed;
    cost -= removed;
    quantity += Math.sign(f) * closing;
    const opening = Math.abs(f) - closing;
    if (opening > 0) {
      quantity += Math.sign(f) * opening;
      cost += Math.sign(f) * opening * price;
    }
    if (quantity === 0) cost = 0;
  }

  // field by field, not a spread: one object shape with markPosition's and emptyPosition's (a spread's copy
  // of a literal has another, and a fill's update then cost over a microsecond)
  return {
    symbol: position.symbol,
    product: position.product,
    netQuantity: quantity,
    costPaise: cost,
    realisedPaise: realised,
    chargesPaise: position.chargesPaise + fill.chargesPaise,
    buyQuantity: position.buyQuantity + (fill.side === 'BUY' ? fill.quantity : 0),
    sellQuantity: position.sellQuantity + (fill.side === 'SELL' ? fill.quantity : 0),
    buyValuePaise: position.buyValuePaise + (fill.side === 'BUY' ? value : 0),
    sellValuePaise: position.sellValuePaise + (fill.side === 'SELL' ? value : 0),
    lastPricePaise: position.lastPricePaise === 0 ? price : position.lastPricePaise,
  };
}

/** Marks the position to a new last price. */
export function markPosition(position: Position, lastPricePaise: Paise): Position {
  if (position.lastPricePaise === lastPricePaise) return position;
  // field by field, not a spread: marks are the most frequent update and keep one object shape
  return {
    symbol: position.symbol,
    product: position.product,
    netQuantity: position.netQuantity,
    costPaise: position.costPaise,
    realisedPaise: position.realisedPaise,
    chargesPaise: position.chargesPaise,
    buyQuantity: position.buyQuantity,
    sellQuantity: position.sellQuantity,
    buyValuePaise: position.buyValuePaise,
    sellValuePaise: position.sellValuePaise,
    lastPricePaise,
  };
}

/** Market value of the open quantity at the last price (signed: shorts are negative). */
export function marketValuePaise(position: Position): Paise {
  return mul(position.netQuantity, position.lastPricePaise);
}

/** Unrealised P&L at the last price. */
export function unrealisedPaise(position: Position): Paise {
  return marketValuePaise(position) - position.costPaise;
}

/** Average price of the open quantity, rounded (display). */
export function positionAveragePricePaise(position: Position): Paise {
  return position.netQuantity === 0 ? 0 : divRound(position.costPaise, position.netQuantity);
}
