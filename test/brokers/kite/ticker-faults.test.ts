process.env.TZ = 'Asia/Kolkata';
import type { AddressInfo } from 'node:net';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { frameProblem, KiteFeed, type KiteFeedEvent } from '../../../src/brokers/kite/index.js';
import { nseEquity, type Tick } from '../../../src/model/index.js';
import { encodeFrame, HEARTBEAT_FRAME, type PacketState } from '../../../src/sim/ticker-codec.js';
import { marketDataPipeline } from '../../../src/streams/index.js';
import type { TickRejection } from '../../../src/streams/operators/validate-ticks.js';
import { eventually } from '../../sim/support.js';

/** A hand-driven "Kite" ticker server that sends whatever the test wants, good or bad. */
class FakeTickerServer {
  readonly wss: WebSocketServer;
  readonly sockets: WebSocket[] = [];
  readonly received: string[][] = [];
  refuse = false;
  /** Send a heartbeat every 20 ms to the latest socket (off = a stalled feed). */
  heartbeats = true;
  attempts = 0;
  private readonly timer = setInterval(() => {
    const socket = this.sockets.at(-1);
    if (this.heartbeats && socket && socket.readyState === socket.OPEN) socket.send(HEARTBEAT_FRAME, { binary: true });
  }, 20);
  constructor() {
    this.wss = new WebSocketServer({
      port: 0,
      host: '127.0.0.1',
      verifyClient: (_info, done) => {
        this.attempts += 1;
        if (this.refuse) done(false, 403, 'Forbidden');
        else done(true);
      },
    });
    this.wss.on('connection', (socket) => {
      const messages: string[] = [];
      this.sockets.push(socket);
      this.received.push(messages);
      socket.on('message', (data) =>
        messages.push(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8')),
      );
    });
  }
  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/`;
  }
  get current(): WebSocket {
    return this.sockets.at(-1)!;
  }
  send(data: Buffer | string): void {
    this.current.send(data, { binary: typeof data !== 'string' });
  }
  close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.sockets) s.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const INFY = nseEquity('INFY', 408065, 1500_00);
const state = (token: number, ltpPaise: number, exchangeTimeSec: number, volume: number): PacketState => ({
  token,
  tradable: true,
  ltpPaise,
  lastQuantity: 5,
  averagePricePaise: ltpPaise,
  volume,
  totalBuyQuantity: 100,
  totalSellQuantity: 100,
  openPaise: ltpPaise,
  highPaise: ltpPaise,
  lowPaise: ltpPaise,
  closePaise: 1500_00,
  lastTradeTimeSec: exchangeTimeSec,
  exchangeTimeSec,
  depth: { buy: [{ pricePaise: ltpPaise - 10, quantity: 10, orders: 1 }], sell: [{ pricePaise: ltpPaise + 10, quantity: 12, orders: 2 }] },
});
const T0 = Date.parse('2026-05-20T04:00:00Z') / 1000;

let server: FakeTickerServer;
let feed: KiteFeed;
let pipeline: Subscription;
const ticks: Tick[] = [];
const rejected: TickRejection[] = [];
const events: KiteFeedEvent[] = [];
const postbacks: Record<string, unknown>[] = [];

beforeAll(async () => {
  server = new FakeTickerServer();
  await new Promise<void>((resolve) => server.wss.once('listening', () => resolve()));
  feed = new KiteFeed({ apiKey: 'k', accessToken: 't', root: server.url, tokens: [INFY.token], staleAfterMs: 150, backoff: { initialMs: 10, maxMs: 50 } });
  feed.events$.subscribe((e) => events.push(e));
  feed.orderUpdates$.subscribe((o) => postbacks.push({ ...o }));
  pipeline = marketDataPipeline({
    source$: feed.ticks$,
    instruments: [INFY],
    onRejected: (r) => rejected.push(r),
    onTicks: (_s, batch) => ticks.push(...batch),
  });
  feed.start();
  await eventually(() => expect(feed.connected).toBe(true));
});
afterAll(async () => {
  feed.stop();
  pipeline.unsubscribe();
  await server.close();
});

describe('KiteFeed with a misbehaving server', () => {
  it('subscribes in full mode on connect', async () => {
    await eventually(() =>
      expect(server.received[0]).toEqual([JSON.stringify({ a: 'subscribe', v: [INFY.token] }), JSON.stringify({ a: 'mode', v: ['full', [INFY.token]] })]),
    );
  });

  it('drops malformed frames, unknown tokens and bad postbacks without crashing, and keeps streaming', async () => {
    const good = encodeFrame([{ state: state(INFY.token, 1501_00, T0, 100), mode: 'full' }]);
    const badCount = Buffer.from(good);
    badCount.writeUInt16BE(3, 0); // claims 3 packets
    const badLength = Buffer.from(good);
    badLength.writeUInt16BE(100, 2); // a 100-byte packet does not exist
    const trailing = Buffer.concat([good, Buffer.from([1, 2, 3])]);
    const unknownToken = encodeFrame([{ state: state(999_001, 1501_00, T0, 100), mode: 'full' }]);
    const offGrid = encodeFrame([{ state: state(INFY.token, 1501_03, T0, 100), mode: 'full' }]);
    for (const frame of [badCount, badLength, trailing, Buffer.from([0xff, 0xff, 0, 8, 1]), unknownToken, offGrid]) server.send(frame);
    for (const text of [
      'not json',
      '{"type":"order","data":null}',
      '{"type":"order","data":"x"}',
      '{"type":"order","data":{"status":"OPEN"}}',
      '{"type":"error","data":"boom"}',
    ])
      server.send(text);
    server.send('{"type":"order","data":{"order_id":"1","status":"OPEN","tag":"A1"}}');
    server.send(encodeFrame([{ state: state(INFY.token, 1502_00, T0 + 1, 120), mode: 'full' }]));
    await eventually(() => expect(ticks.map((t) => t.ltpPaise)).toEqual([1502_00]));
    expect(ticks[0]).toMatchObject({ symbol: 'INFY', bidPaise: 1501_90, askPaise: 1502_10, volume: 120, exchangeTimeMs: (T0 + 1) * 1000 });
    expect(feed.stats.badFrames).toBe(4);
    expect(events.filter((e) => e.kind === 'bad-frame')).toHaveLength(4);
    expect(rejected.map((r) => r.reason)).toEqual(['unknown-instrument', 'off-tick-grid']);
    expect(feed.stats.badOrderUpdates).toBe(3);
    expect(postbacks).toEqual([{ order_id: '1', status: 'OPEN', tag: 'A1' }]);
    expect(feed.connected).toBe(true);
    expect(feed.stats.reconnects).toBe(0);
  });

  it('detects a feed that stalls on an open socket, reconnects, resubscribes and flags the gap', async () => {
    events.length = 0;
    const before = server.sockets.length;
    // the server keeps the socket open and sends nothing, not even heartbeats
    server.heartbeats = false;
    await eventually(() => expect(server.sockets.length).toBe(before + 1));
    server.heartbeats = true;
    await eventually(() => expect(feed.connected).toBe(true));
    expect(events.map((e) => e.kind).slice(0, 3)).toEqual(['stalled', 'disconnected', 'reconnecting']);
    await eventually(() => expect(server.received.at(-1)).toHaveLength(2));
    expect(server.received.at(-1)![0]).toBe(JSON.stringify({ a: 'subscribe', v: [INFY.token] }));
    const gap = events.find((e) => e.kind === 'gap');
    expect(gap).toMatchObject({ kind: 'gap' });
    expect(gap?.kind === 'gap' && gap.reason.startsWith('stalled')).toBe(true);
    expect(feed.stats.stalls).toBeGreaterThanOrEqual(1);
    // heartbeats keep it alive
    const stalls = feed.stats.stalls;
    const beats = feed.stats.heartbeats;
    await eventually(() => expect(feed.stats.heartbeats).toBeGreaterThan(beats + 15));
    expect(feed.stats.stalls).toBe(stalls);
  });

  it('halts (no retry loop) when the server refuses the credentials, and resumes on start', async () => {
    events.length = 0;
    server.refuse = true;
    const attempts = server.attempts;
    server.current.terminate();
    await eventually(() => expect(events.some((e) => e.kind === 'halted')).toBe(true));
    expect(server.attempts).toBe(attempts + 1);
    expect(feed.connected).toBe(false);
    server.refuse = false;
    feed.start();
    await eventually(() => expect(feed.connected).toBe(true));
    expect(events.some((e) => e.kind === 'gap')).toBe(true);
  });

  it('checks frame framing', () => {
    expect(frameProblem(new ArrayBuffer(1))).toBeUndefined();
    expect(frameProblem(new Uint8Array([0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2]).buffer)).toBeUndefined();
    expect(frameProblem(new Uint8Array([0, 2, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2]).buffer)).toMatch(/ends before packet 2/);
  });
});
