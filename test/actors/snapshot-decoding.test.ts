import { describe, expect, it } from 'vitest';
import { SnapshotDecodeError, type Json, type StateCodec } from '../../src/actors/core/index.js';
import { aggregatorCodec } from '../../src/actors/aggregator/aggregator.snapshot.js';
import { portfolioCodec } from '../../src/actors/portfolio/portfolio.snapshot.js';
import { regimeCodec } from '../../src/actors/regime/regime.snapshot.js';
import { riskCodec } from '../../src/actors/risk/risk.snapshot.js';
import { strategyHostCodec } from '../../src/actors/strategy/strategy.snapshot.js';
import { decodeSymbolSnapshot } from '../../src/actors/symbol/symbol.snapshot.js';
import { emaCross } from '../../src/strategies/ema-cross/ema-cross.strategy.js';

// snapshots as each actor kind writes them, written out by hand (not produced by the code under test)
const position = {
  symbol: 'INFY',
  product: 'MIS',
  netQuantity: 10,
  costPaise: 150_000,
  realisedPaise: 0,
  chargesPaise: 12,
  buyQuantity: 10,
  sellQuantity: 0,
  buyValuePaise: 150_000,
  sellValuePaise: 0,
  lastPricePaise: 15_100,
};
const portfolio = { portfolioId: 'paper', initialCashPaise: 1_000_000, cashPaise: 849_988, positions: { 'INFY:MIS': position }, fillCount: 1 };
const risk = {
  approved: 3,
  rejected: 1,
  day: '2026-05-20',
  manager: {
    version: 1,
    marks: { INFY: 15_100 },
    portfolios: { paper: { dayCashFlowPaise: -150_012, dayStartValuePaise: 0, symbols: { INFY: { net: 10, workingBuy: 0, workingSell: 0 } } } },
    killSwitch: null,
  },
  paced: [],
};
const strategy = {
  hostVersion: 3,
  strategy: { INFY: { fast: 100, slow: 99, samples: 30, side: 1 } },
  sequence: 4,
  positions: { INFY: 10 },
  working: { 'ema:3': { symbol: 'INFY', clientOrderId: 'T0000000000000000003', remaining: 5 } },
  workingBySymbol: { INFY: 5 },
  paused: false,
  pending: {},
  refused: [],
  regimes: { INFY: 'trending' },
  stats: { ticks: 1, bars: 0, intents: 4, rejected: 0, fills: 1, gated: 0, signals: 0, paced: 0 },
};
const symbol = {
  symbol: 'INFY',
  lastPricePaise: 15_100,
  openPaise: 15_000,
  highPaise: 15_200,
  lowPaise: 14_900,
  volume: 1_000,
  ticks: 12,
  lastExchangeTimeMs: 1_000,
  barsClosed: 2,
};
const detector = {
  bars: 3,
  regime: 'ranging',
  pending: null,
  pendingBars: 0,
  previousHigh: 1,
  previousLow: 1,
  previousClose: 1,
  trueRange: 0,
  plusMove: 0,
  minusMove: 0,
  movesSeen: 2,
  dxSum: 0,
  dxSeen: 0,
  adx: null,
  closes: [1, 1, 1],
  logReturns: [0, 0],
  volatilities: [],
};
const regime = { symbols: { INFY: detector }, market: { symbols: { INFY: 'ranging' }, regime: 'ranging' }, changes: 1 };
const aggregator = {
  signals: { INFY: { ema: { strategyId: 'ema', symbol: 'INFY', direction: 'long', confidence: 0.5, atMs: 1_000 } } },
  decisions: { INFY: 'BUY' },
};

const riskCodecForTest = riskCodec(() => ({ manager: { version: 1, marks: {}, portfolios: {}, killSwitch: null }, paced: [] }));
const decoders: [string, (json: Json) => unknown, Json][] = [
  ['portfolio', (json) => portfolioCodec.decode(json, 1), portfolio],
  ['risk', (json) => riskCodecForTest.decode(json, 1), risk],
  ['strategy', (json) => (strategyHostCodec(emaCross) as StateCodec<unknown>).decode(json, 1), strategy],
  ['symbol', (json) => decodeSymbolSnapshot(json), symbol],
  ['regime', (json) => regimeCodec.decode(json, 1), regime],
  ['aggregator', (json) => aggregatorCodec.decode(json, 1), aggregator],
];

/** A copy of `json` with the value at `path` replaced. */
function corrupt(json: Json, path: readonly string[], value: Json): Json {
  const copy = structuredClone(json);
  let at: Json = copy;
  for (const key of path.slice(0, -1)) at = (at as Record<string, Json>)[key]!;
  (at as Record<string, Json>)[path.at(-1)!] = value;
  return copy;
}

const corruptions: Record<string, { path: string[]; value: Json; pointer: string }> = {
  portfolio: { path: ['positions', 'INFY:MIS', 'netQuantity'], value: 'ten', pointer: '/positions/INFY:MIS/netQuantity' },
  risk: { path: ['manager', 'portfolios', 'paper', 'symbols', 'INFY', 'workingBuy'], value: -1, pointer: '/manager/portfolios/paper/symbols/INFY/workingBuy' },
  strategy: { path: ['working', 'ema:3', 'remaining'], value: null, pointer: '/working/ema:3/remaining' },
  symbol: { path: ['lastPricePaise'], value: 151.5, pointer: '/lastPricePaise' },
  regime: { path: ['symbols', 'INFY', 'regime'], value: 'sideways', pointer: '/symbols/INFY/regime' },
  aggregator: { path: ['signals', 'INFY', 'ema', 'direction'], value: 'up', pointer: '/signals/INFY/ema/direction' },
};

describe('snapshot decoding by schema', () => {
  for (const [kind, decode, good] of decoders) {
    it(`${kind}: a sound snapshot decodes; a corrupted one is a SnapshotDecodeError naming the field`, () => {
      expect(() => decode(good)).not.toThrow();
      const { path, value, pointer } = corruptions[kind]!;
      let thrown: unknown;
      try {
        decode(corrupt(good, path, value));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SnapshotDecodeError);
      expect((thrown as SnapshotDecodeError).path).toBe(pointer);
      expect((thrown as Error).message).toContain(`${kind} snapshot: ${pointer}`);
    });

    it(`${kind}: a snapshot that is not an object at all is refused`, () => {
      expect(() => decode('garbage')).toThrow(SnapshotDecodeError);
    });
  }

  it('portfolio: a missing field is named', () => {
    const { fillCount: _dropped, ...withoutCount } = portfolio;
    expect(() => portfolioCodec.decode(withoutCount, 1)).toThrow(/portfolio snapshot: .*fillCount/);
  });
});
