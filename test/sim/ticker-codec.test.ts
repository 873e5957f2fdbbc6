import fc from 'fast-check';
import { KiteTicker } from 'kiteconnect';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameWriter, PacketBuilder, type PacketState, type TickerMode } from '../../src/sim/ticker-codec.js';

// parseBinary is on the client's class, not in its type declarations
const client = new KiteTicker({ api_key: 'k', access_token: 't', reconnect: false }) as unknown as {
  parseBinary(frame: ArrayBuffer): Record<string, unknown>[];
};
const parse = (frame: Buffer): Record<string, unknown>[] =>
  client.parseBinary(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer);

const int = fc.integer({ min: 0, max: 2_000_000_000 });
const level = fc.record({
  pricePaise: fc.integer({ min: 1, max: 10_000_000 }),
  quantity: fc.integer({ min: 0, max: 1_000_000 }),
  orders: fc.integer({ min: 0, max: 65_535 }),
});
const state: fc.Arbitrary<PacketState> = fc.record({
  token: fc.oneof(
    fc.integer({ min: 1, max: 0x7fffff }).map((n) => (n << 8) | 1),
    fc.constant(256265),
  ),
  tradable: fc.boolean(),
  ltpPaise: int,
  lastQuantity: int,
  averagePricePaise: int,
  volume: int,
  totalBuyQuantity: int,
  totalSellQuantity: int,
  openPaise: int,
  highPaise: int,
  lowPaise: int,
  closePaise: fc.integer({ min: 1, max: 2_000_000_000 }),
  lastTradeTimeSec: int,
  exchangeTimeSec: int,
  depth: fc.record({ buy: fc.array(level, { maxLength: 5 }), sell: fc.array(level, { maxLength: 5 }) }),
});
const mode: fc.Arbitrary<TickerMode> = fc.constantFrom('ltp', 'quote', 'full');

describe('ticker codec', () => {
  it('FrameWriter writes the same bytes as encodeFrame, and the unmodified client parses every packet back', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ state, mode }), { minLength: 1, maxLength: 20 }), (items) => {
        const writer = new FrameWriter(items.length);
        const builder = new PacketBuilder();
        for (const item of items) expect(writer.append(builder.load(item.state), item.mode)).toBe(true);
        expect(writer.full).toBe(true);
        expect(writer.append(builder, 'ltp')).toBe(false);
        const frame = writer.take()!;
        expect(frame.equals(encodeFrame(items))).toBe(true);
        expect(writer.take()).toBeUndefined();
        const ticks = parse(frame);
        expect(ticks).toHaveLength(items.length);
        ticks.forEach((tick, i) => {
          const { state: s, mode: m } = items[i]!;
          expect(tick['instrument_token']).toBe(s.token);
          expect(tick['last_price']).toBe(s.ltpPaise / 100);
          expect(tick['mode']).toBe(m);
          if (m === 'full' && s.tradable) {
            const depth = tick['depth'] as { buy: { price: number; quantity: number; orders: number }[]; sell: unknown[] };
            expect(depth.buy).toHaveLength(5);
            s.depth.buy.forEach((l, k) => expect(depth.buy[k]).toEqual({ price: l.pricePaise / 100, quantity: l.quantity, orders: l.orders }));
            for (let k = s.depth.buy.length; k < 5; k += 1) expect(depth.buy[k]).toEqual({ price: 0, quantity: 0, orders: 0 });
          }
        });
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips a PacketState through the builder', () => {
    fc.assert(
      fc.property(state, (s) => {
        expect(new PacketBuilder().load(s).toState()).toEqual(s);
      }),
    );
  });

  it('starts a new frame after take, without reusing a buffer handed out', () => {
    const writer = new FrameWriter(2);
    const builder = new PacketBuilder();
    builder.token = 257;
    builder.ltpPaise = 100;
    writer.append(builder, 'ltp');
    const first = writer.take()!;
    builder.ltpPaise = 200;
    writer.append(builder, 'ltp');
    writer.append(builder, 'ltp');
    const second = writer.take()!;
    expect(parse(first).map((t) => t['last_price'])).toEqual([1]);
    expect(parse(second).map((t) => t['last_price'])).toEqual([2, 2]);
  });
});
