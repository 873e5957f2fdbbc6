import { divRound, type Paise } from './money.js';

/** Exchanges Troupe knows. Cash equities trade on NSE; the rest come with F&O support. */
export type Exchange = 'NSE' | 'BSE' | 'NFO';

/** A tradable instrument, as Kite's instrument dump describes it (prices in paise). */
export interface Instrument {
  /** NSE trading symbol, e.g. "INFY". Unique per exchange. */
  readonly symbol: string;
  readonly exchange: Exchange;
  /** Kite instrument token (segment in the low byte: 1 = NSE). */
  readonly token: number;
  readonly name: string;
  /** Minimum price step in paise (5 = ₹0.05). */
  readonly tickSizePaise: Paise;
  /** Minimum quantity step (1 for cash equities). */
  readonly lotSize: number;
  /** Largest quantity one order may carry (the exchange's freeze quantity). */
  readonly freezeQuantity: number;
  /** Previous close, the reference for the daily price band. */
  readonly referencePricePaise: Paise;
  /** Daily price band as a percentage of the reference price (2, 5, 10, 20). */
  readonly priceBandPercent: number;
}

/** NSE cash-market tick size by price (kite-reference §9, from 15 Apr 2025), in paise. */
export function nseTickSizePaise(pricePaise: Paise): Paise {
  if (pricePaise <= 250_00) return 1;
  if (pricePaise <= 1_000_00) return 5;
  if (pricePaise <= 5_000_00) return 10;
  if (pricePaise <= 10_000_00) return 50;
  if (pricePaise <= 20_000_00) return 100;
  return 500;
}

/** How to round a price onto the tick grid. */
export type TickRounding = 'nearest' | 'down' | 'up';

/** Rounds a price in paise to a multiple of `tickPaise`. Exact integer arithmetic. */
export function roundToTick(pricePaise: Paise, tickPaise: Paise, mode: TickRounding = 'nearest'): Paise {
  if (tickPaise <= 1) return pricePaise;
  const remainder = ((pricePaise % tickPaise) + tickPaise) % tickPaise;
  if (remainder === 0) return pricePaise;
  const down = pricePaise - remainder;
  if (mode === 'down') return down;
  if (mode === 'up') return down + tickPaise;
  return remainder * 2 >= tickPaise ? down + tickPaise : down;
}

/** True when the price sits on the instrument's tick grid. */
export function isOnTick(pricePaise: Paise, tickPaise: Paise): boolean {
  return pricePaise % tickPaise === 0;
}

/** The lower and upper circuit limits for the day, on the tick grid, inside the band. */
export function priceBand(instrument: Instrument): { readonly lowerPaise: Paise; readonly upperPaise: Paise } {
  const delta = divRound(instrument.referencePricePaise * instrument.priceBandPercent, 100);
  return {
    lowerPaise: roundToTick(instrument.referencePricePaise - delta, instrument.tickSizePaise, 'up'),
    upperPaise: roundToTick(instrument.referencePricePaise + delta, instrument.tickSizePaise, 'down'),
  };
}

/** Builds an NSE equity instrument with NSE defaults for the fields a data file lacks. */
export function nseEquity(symbol: string, token: number, referencePricePaise: Paise, overrides: Partial<Instrument> = {}): Instrument {
  return {
    symbol,
    exchange: 'NSE',
    token,
    name: symbol,
    tickSizePaise: nseTickSizePaise(referencePricePaise),
    lotSize: 1,
    freezeQuantity: 100_000,
    referencePricePaise,
    priceBandPercent: 20,
    ...overrides,
  };
}

/** A deterministic Kite-style NSE instrument token for a symbol (segment byte 1). */
export function syntheticToken(index: number): number {
  return ((index + 1) * 256 + 1) >>> 0;
}
