/** Stubs for paper-broker tests. */
import { nseEquity, type Instrument } from '../../../src/model/instrument.js';
import type { Tick } from '../../../src/model/market.js';
import { istTimeMs } from '../../../src/model/time.js';

/** A Wednesday, 10:00 IST: inside the NSE session. */
export const SESSION_MS = istTimeMs('2026-05-20', 10, 0);

/** INFY at ₹1,000 reference: tick ₹0.05, band 20% (₹800–₹1,200), lot 1, freeze 100,000. */
export const INFY: Instrument = nseEquity('INFY', 408_065, 1_000_00);

/** A tick with defaults; `volume` defaults to 0 so that `lastQuantity` is the traded quantity. */
export function tick(ltpPaise: number, overrides: Partial<Tick> = {}): Tick {
  return {
    type: 'tick',
    symbol: 'INFY',
    token: 408_065,
    ltpPaise,
    lastQuantity: 1_000_000,
    volume: 0,
    exchangeTimeMs: SESSION_MS + 1_000,
    ...overrides,
  };
}
