import { describe, expect, it } from 'vitest';
import { priceBand } from '../../../src/model/instrument.js';
import type { Tick } from '../../../src/model/market.js';
import { istTimeMs } from '../../../src/model/time.js';
import {
  TICK_REJECTION_REASONS,
  TickValidator,
  createTickValidationStats,
  normaliseKiteTick,
  validateTicks,
  type KiteTickerTick,
  type TickRejection,
  type TickRejectionReason,
  type ValidateTicksOptions,
} from '../../../src/streams/operators/validate-ticks.js';
import { INFY, INSTRUMENTS, ITC, TCS, testScheduler, tick } from '../fixtures.js';

const NOW = 42;

function validator(overrides: Partial<ValidateTicksOptions> = {}): { validator: TickValidator; rejections: TickRejection[] } {
  const rejections: TickRejection[] = [];
  return {
    validator: new TickValidator({ instruments: INSTRUMENTS, onRejected: (r) => rejections.push(r), monotonicNow: () => NOW, ...overrides }),
    rejections,
  };
}

/** The tick as validation outputs it. */
const stamped = (t: Tick): Tick => ({ ...t, receivedMonoMs: NOW });

describe('TickValidator', () => {
  it('accepts valid ticks as fresh normalised objects, resolving the symbol from the token', () => {
    const { validator: v, rejections } = validator();
    const fromToken = { token: TCS.token, ltpPaise: 3000_00, lastQuantity: 5, volume: 5, exchangeTimeMs: 1, extra: 'dropped' };
    const full = tick({ bidPaise: 1499_90, askPaise: 1500_00, bidQuantity: 3, askQuantity: 4, receivedMonoMs: 7 });
    const out = v.validate([full, fromToken]);
    expect(rejections).toEqual([]);
    expect(out).toEqual([
      { ...full, receivedMonoMs: 7 },
      { type: 'tick', symbol: 'TCS', token: TCS.token, ltpPaise: 3000_00, lastQuantity: 5, volume: 5, exchangeTimeMs: 1, receivedMonoMs: NOW },
    ]);
    expect(out[0]).not.toBe(full);
    expect(v.stats).toMatchObject({ accepted: 2, rejected: 0 });
  });

  const band = priceBand(INFY);
  const cases: ReadonlyArray<readonly [TickRejectionReason, string, unknown]> = [
    ['not-an-object', 'null', null],
    ['not-an-object', 'a number', 17],
    ['not-an-object', 'an array', [tick()]],
    ['unknown-instrument', 'unknown symbol', tick({ symbol: 'NOPE' })],
    ['unknown-instrument', 'unknown token', { ...tick(), symbol: undefined, token: 999 }],
    ['unknown-instrument', 'token of another symbol', tick({ token: TCS.token })],
    ['unknown-instrument', 'neither symbol nor token', { ltpPaise: 1500_00 }],
    ['invalid-price', 'zero price', tick({ ltpPaise: 0 })],
    ['invalid-price', 'negative price', tick({ ltpPaise: -10 })],
    ['invalid-price', 'fractional paise', tick({ ltpPaise: 1500_00.5 })],
    ['invalid-price', 'a string', { ...tick(), ltpPaise: '150000' }],
    ['off-tick-grid', 'INFY moves in 10 paise', tick({ ltpPaise: 1500_03 })],
    ['outside-price-band', 'above the upper band', tick({ ltpPaise: band.upperPaise + INFY.tickSizePaise })],
    ['outside-price-band', 'below the lower band', tick({ ltpPaise: band.lowerPaise - INFY.tickSizePaise })],
    ['invalid-quantity', 'negative last quantity', tick({ lastQuantity: -1 })],
    ['invalid-quantity', 'fractional last quantity', tick({ lastQuantity: 1.5 })],
    ['invalid-quantity', 'missing volume', { ...tick(), volume: undefined }],
    ['invalid-timestamp', 'NaN', tick({ exchangeTimeMs: Number.NaN })],
    ['invalid-timestamp', 'infinite', tick({ exchangeTimeMs: Number.POSITIVE_INFINITY })],
    ['invalid-timestamp', 'missing', { ...tick(), exchangeTimeMs: undefined }],
    ['invalid-quote', 'negative bid', tick({ bidPaise: -5 })],
    ['invalid-quote', 'ask off the grid', tick({ askPaise: 1500_01 })],
    ['invalid-quote', 'fractional bid quantity', tick({ bidQuantity: 0.5 })],
    ['invalid-quote', 'malformed depth', { ...tick(), depth: { buy: [{ pricePaise: 1, quantity: -1, orders: 1 }], sell: [] } }],
  ];
  it.each(cases)('rejects %s: %s', (reason, _label, candidate) => {
    const { validator: v, rejections } = validator();
    expect(v.validate([candidate])).toEqual([]);
    expect(rejections).toHaveLength(1);
    expect(rejections[0]).toMatchObject({ reason, candidate });
    expect(rejections[0]!.detail.length).toBeGreaterThan(5);
    expect(v.stats.byReason[reason]).toBe(1);
    expect(v.stats.rejected).toBe(1);
  });

  it('names the symbol in a rejection once it is known', () => {
    const { validator: v, rejections } = validator();
    v.validate([tick({ ltpPaise: 0 }), tick({ symbol: 'NOPE' })]);
    expect(rejections.map((r) => r.symbol)).toEqual(['INFY', undefined]);
  });

  it('rejects cumulative volume going backwards within a day, accepts the reset of a new day', () => {
    const { validator: v, rejections } = validator();
    const day1 = istTimeMs('2026-05-20', 10, 0);
    const day2 = istTimeMs('2026-05-21', 9, 15);
    const out = v.validate([
      tick({ volume: 100, exchangeTimeMs: day1 }),
      tick({ volume: 90, exchangeTimeMs: day1 + 1000 }),
      tick({ volume: 100, exchangeTimeMs: day1 + 2000 }),
      tick({ volume: 5, exchangeTimeMs: day2 }),
      tick({ symbol: 'TCS', ltpPaise: 3000_00, volume: 1, exchangeTimeMs: day2 }), // other symbols are independent
    ]);
    expect(out.map((t) => t.volume)).toEqual([100, 100, 5, 1]);
    expect(rejections.map((r) => r.reason)).toEqual(['volume-backwards']);
  });

  it('rejects a symbol’s timestamp going backwards by more than the tolerance', () => {
    const { validator: v, rejections } = validator({ timestampToleranceMs: 500 });
    const out = v.validate([
      tick({ exchangeTimeMs: 10_000 }),
      tick({ exchangeTimeMs: 9_500 }), // within tolerance
      tick({ exchangeTimeMs: 9_499 }), // beyond
      tick({ symbol: 'ITC', ltpPaise: 200_00, exchangeTimeMs: 1 }), // other symbols keep their own clock
    ]);
    expect(out.map((t) => t.exchangeTimeMs)).toEqual([10_000, 9_500, 1]);
    expect(rejections.map((r) => r.reason)).toEqual(['timestamp-backwards']);
  });

  it('does not let a rejected tick move the per-symbol state', () => {
    const { validator: v } = validator();
    const out = v.validate([
      tick({ volume: 10, exchangeTimeMs: 100 }),
      tick({ volume: 1000, exchangeTimeMs: 200, ltpPaise: 1 }),
      tick({ volume: 20, exchangeTimeMs: 300 }),
    ]);
    expect(out.map((t) => t.volume)).toEqual([10, 20]);
  });

  it('counts every reason in shared stats', () => {
    const stats = createTickValidationStats();
    expect(Object.keys(stats.byReason).sort()).toEqual([...TICK_REJECTION_REASONS].sort());
    const { validator: v } = validator({ stats });
    v.validate([tick(), null, tick({ ltpPaise: 0 })]);
    expect(stats).toMatchObject({ accepted: 1, rejected: 2 });
  });
});

describe('validateTicks', () => {
  const options = (rejections: TickRejection[] = []): ValidateTicksOptions => ({
    instruments: INSTRUMENTS,
    onRejected: (r) => rejections.push(r),
    monotonicNow: () => NOW,
  });
  const a = tick({ exchangeTimeMs: 1 });
  const b = tick({ symbol: 'ITC', ltpPaise: 201_23, exchangeTimeMs: 2 });

  it('empty: completes without emitting', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly unknown[]>('|').pipe(validateTicks(options()))).toBe('|');
    });
  });

  it('single and many: one output batch per input batch with valid ticks; all-invalid batches emit nothing', () => {
    const rejections: TickRejection[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly unknown[]>('a-b-c-|', { a: [a], b: [null, 'x'], c: [b, { bad: true }, b] });
      expectObservable(source.pipe(validateTicks(options(rejections)))).toBe('a---c-|', { a: [stamped(a)], c: [stamped(b), stamped(b)] });
    });
    expect(rejections.map((r) => r.reason)).toEqual(['not-an-object', 'not-an-object', 'unknown-instrument']);
  });

  it('error: passes the source error through', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<readonly unknown[]>('a-#', { a: [a] }).pipe(validateTicks(options()))).toBe('a-#', { a: [stamped(a)] });
    });
  });

  it('never-ending and early unsubscribe: emits while subscribed, then lets go of the source', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot<readonly unknown[]>('-a-b-c-', { a: [a], b: [b], c: [a] });
      expectObservable(source.pipe(validateTicks(options())), '^--!').toBe('-a-', { a: [stamped(a)] });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('callback throws: the stream errors with the callback’s error', () => {
    const boom = new Error('kaboom');
    testScheduler().run(({ cold, expectObservable }) => {
      const throwing: ValidateTicksOptions = {
        ...options(),
        onRejected: () => {
          throw boom;
        },
      };
      expectObservable(cold<readonly unknown[]>('a-b-|', { a: [a], b: [null] }).pipe(validateTicks(throwing))).toBe('a-#', { a: [stamped(a)] }, boom);
    });
  });

  it('keeps per-symbol state per subscription', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold<readonly unknown[]>('a|', { a: [tick({ volume: 10, exchangeTimeMs: 5000 })] });
      const validated = source.pipe(validateTicks(options()));
      expectObservable(validated).toBe('a|', { a: [stamped(tick({ volume: 10, exchangeTimeMs: 5000 }))] });
      expectObservable(validated).toBe('a|', { a: [stamped(tick({ volume: 10, exchangeTimeMs: 5000 }))] });
    });
  });
});

describe('normaliseKiteTick', () => {
  const kite: KiteTickerTick = {
    instrument_token: INFY.token,
    last_price: 1319.9000244140625,
    last_traded_quantity: 12,
    volume_traded: 345_678,
    exchange_timestamp: new Date('2026-05-20T04:00:00Z'),
    depth: {
      buy: [
        { price: 1319.8, quantity: 40, orders: 2 },
        { price: 1319.7, quantity: 10, orders: 1 },
      ],
      sell: [{ price: 1320.1, quantity: 7, orders: 1 }],
    },
  };

  it('converts rupee floats to exact paise and takes bid/ask from the best depth level', () => {
    expect(normaliseKiteTick(kite)).toEqual({
      token: INFY.token,
      ltpPaise: 1319_90,
      lastQuantity: 12,
      volume: 345_678,
      exchangeTimeMs: Date.parse('2026-05-20T04:00:00Z'),
      bidPaise: 1319_80,
      bidQuantity: 40,
      askPaise: 1320_10,
      askQuantity: 7,
      depth: {
        buy: [
          { pricePaise: 1319_80, quantity: 40, orders: 2 },
          { pricePaise: 1319_70, quantity: 10, orders: 1 },
        ],
        sell: [{ pricePaise: 1320_10, quantity: 7, orders: 1 }],
      },
    });
  });

  it('feeds validation: the symbol comes from the token', () => {
    const { validator: v, rejections } = validator();
    const [out] = v.validate([normaliseKiteTick(kite)]);
    expect(rejections).toEqual([]);
    expect(out).toMatchObject({ symbol: 'INFY', ltpPaise: 1319_90, bidPaise: 1319_80, askPaise: 1320_10 });
  });

  it('never throws: a non-finite price or a missing time becomes a rejection', () => {
    const { validator: v, rejections } = validator();
    const badPrice = normaliseKiteTick({ ...kite, last_price: Number.NaN });
    const noTime = normaliseKiteTick({ instrument_token: ITC.token, last_price: 200, exchange_timestamp: null });
    expect(noTime).toEqual({ token: ITC.token, ltpPaise: 200_00, lastQuantity: 0, volume: 0, exchangeTimeMs: Number.NaN });
    expect(v.validate([badPrice, noTime])).toEqual([]);
    expect(rejections.map((r) => r.reason)).toEqual(['invalid-price', 'invalid-timestamp']);
  });

  it('falls back to the last trade time and drops empty depth levels from bid/ask', () => {
    const candidate = normaliseKiteTick({
      instrument_token: ITC.token,
      last_price: 200.5,
      last_trade_time: new Date(1000),
      depth: { buy: [{ price: 0, quantity: 0, orders: 0 }], sell: [] },
    });
    expect(candidate).toMatchObject({ exchangeTimeMs: 1000, ltpPaise: 200_50 });
    expect(candidate).not.toHaveProperty('bidPaise');
    expect(candidate).not.toHaveProperty('askPaise');
  });
});
