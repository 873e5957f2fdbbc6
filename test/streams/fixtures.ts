import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import { nseEquity, syntheticToken, type Instrument } from '../../src/model/instrument.js';
import type { Tick } from '../../src/model/market.js';

/** INFY at ₹1,500: tick 10 paise, band ₹1,200–₹1,800. */
export const INFY: Instrument = nseEquity('INFY', syntheticToken(0), 1500_00);
/** TCS at ₹3,000: tick 10 paise, band ₹2,400–₹3,600. */
export const TCS: Instrument = nseEquity('TCS', syntheticToken(1), 3000_00);
/** ITC at ₹200: tick 1 paisa, band ₹160–₹240. */
export const ITC: Instrument = nseEquity('ITC', syntheticToken(2), 200_00);
export const INSTRUMENTS: readonly Instrument[] = [INFY, TCS, ITC];

/** A valid tick with defaults for everything not given. */
export function tick(overrides: Partial<Tick> & { symbol?: string } = {}): Tick {
  const symbol = overrides.symbol ?? 'INFY';
  const instrument = INSTRUMENTS.find((i) => i.symbol === symbol);
  return {
    type: 'tick',
    symbol,
    token: instrument?.token ?? 0,
    ltpPaise: instrument?.referencePricePaise ?? 100_00,
    lastQuantity: 1,
    volume: 1,
    exchangeTimeMs: 0,
    ...overrides,
  };
}

/** A TestScheduler whose assertions use vitest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });
}
