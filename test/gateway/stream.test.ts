import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { eventually } from '../../src/actors/core/index.js';
import { TroupeClient, type StreamEventMessage, type TroupeStream } from '../../src/gateway/client/index.js';
import { listenGateway } from '../../src/gateway/gateway.js';
import type { StreamHubOptions } from '../../src/gateway/stream/hub.js';
import { ADMIN, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
const streams: TroupeStream[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  for (const socket of sockets.splice(0)) socket.terminate();
  await harness?.close();
  harness = undefined;
});

async function serve(stream: Partial<StreamHubOptions> = {}): Promise<{ client: TroupeClient; port: number; disconnects: string[] }> {
  const disconnects: string[] = [];
  harness = await startHarness({}, { stream: { ...stream, onDisconnect: (info) => disconnects.push(info.reason) } });
  const port = await listenGateway(harness.app, 0, '127.0.0.1');
  const client = new TroupeClient({ baseUrl: `http://127.0.0.1:${port}` });
  await client.login(ADMIN.username, ADMIN.password);
  return { client, port, disconnects };
}

function open(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
): Promise<{ socket: WebSocket; messages: { type: string; [key: string]: unknown }[] }> {
  const socket = new WebSocket(url, options);
  sockets.push(socket);
  const messages: { type: string; [key: string]: unknown }[] = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string }));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages }));
    socket.once('error', reject);
  });
}

describe('gateway WebSocket /api/v1/stream', () => {
  it('refuses a connection without a valid token, and accepts one by first message', async () => {
    const { client, port } = await serve();
    const bad = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=nonsense`);
    const [code] = await new Promise<[number]>((resolve) => bad.socket.once('close', (closeCode: number) => resolve([closeCode])));
    expect(code).toBe(4401);

    const byMessage = await open(`ws://127.0.0.1:${port}/api/v1/stream`);
    byMessage.socket.send(JSON.stringify({ type: 'auth', token: client.token }));
    await eventually(() => expect(byMessage.messages[0]).toMatchObject({ type: 'welcome', role: 'admin' }));
    byMessage.socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders', 'quotes:NOPE'] }));
    await eventually(() => expect(byMessage.messages.at(-1)).toMatchObject({ type: 'error', code: 'invalid-topic' }));
    byMessage.socket.send('not json');
    await eventually(() => expect(byMessage.messages.at(-1)).toMatchObject({ type: 'error', code: 'invalid-json' }));
  });

  it('streams real order, position, P&L events and conflated quotes with sequence numbers', async () => {
    const { client } = await serve({ quoteIntervalMs: 20 });
    const events: StreamEventMessage[] = [];
    const stream = client.stream({ topics: ['orders', 'positions', 'pnl', 'quotes:INFY'], onEvent: (event) => events.push(event) });
    streams.push(stream);
    await eventually(() => expect(stream.subscribed).toBe(true));
    await harness!.feed('INFY', [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000]);
    await eventually(() => {
      const topics = new Set(events.map((event) => event.topic));
      expect([...topics].sort()).toEqual(['orders', 'pnl', 'positions', 'quotes:INFY']);
    });
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(events.find((event) => event.topic === 'orders')?.data).toMatchObject({ event: 'submitted', order: { symbol: 'INFY', side: 'BUY' } });
  });

  it('closes the open streams of a user an admin disables, and of an API key that is revoked, with a reason', async () => {
    const { client: admin, port, disconnects } = await serve();
    const app = harness!.app;
    const headers = { authorization: `Bearer ${admin.token!}` };
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers,
      payload: { username: 'tara', password: 'long-enough-pass-123', role: 'trader' },
    });
    const tara = new TroupeClient({ baseUrl: `http://127.0.0.1:${port}` });
    await tara.login('tara', 'long-enough-pass-123');
    const { key: taraKey } = await tara.createApiKey({ name: 'tara-bot', role: 'viewer' });
    const { key: adminKey, apiKey: adminKeyRecord } = await admin.createApiKey({ name: 'admin-bot', role: 'viewer' });
    const url = (token: string): string => `ws://127.0.0.1:${port}/api/v1/stream?token=${encodeURIComponent(token)}`;
    const closed = (socket: WebSocket): Promise<{ code: number; reason: string }> =>
      new Promise((resolve) => socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
    const byToken = await open(url(tara.token!));
    const byKey = await open(url(taraKey));
    const adminStream = await open(url(admin.token!));
    const adminKeyStream = await open(url(adminKey));
    for (const { messages } of [byToken, byKey, adminStream, adminKeyStream]) await eventually(() => expect(messages[0]).toMatchObject({ type: 'welcome' }));
    const taraClosed = [closed(byToken.socket), closed(byKey.socket)];

    const disabled = await app.inject({ method: 'POST', url: `/api/v1/users/${created.json<{ id: string }>().id}/disable`, headers });
    expect(disabled.statusCode).toBe(200);
    for (const result of await Promise.all(taraClosed)) {
      expect(result.code).toBe(4403);
      expect(result.reason).toMatch(/^user-disabled: tara was disabled/);
    }
    expect(disconnects.filter((reason) => reason.startsWith('user-disabled'))).toHaveLength(2);
    // the admin's streams are untouched
    expect(adminStream.socket.readyState).toBe(WebSocket.OPEN);
    expect(adminKeyStream.socket.readyState).toBe(WebSocket.OPEN);

    const keyClosed = closed(adminKeyStream.socket);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${adminKeyRecord.id}`, headers })).statusCode).toBe(204);
    expect(await keyClosed).toEqual({ code: 4403, reason: 'api-key-revoked: the API key admin-bot was revoked' });
    expect(adminStream.socket.readyState).toBe(WebSocket.OPEN);
    const audit = (await app.inject({ url: '/api/v1/audit', headers })).json<{ items: { action: string; details?: { closedStreams?: number } }[] }>();
    expect(audit.items.find((entry) => entry.action === 'user.disable')?.details?.closedStreams).toBe(2);
    expect(audit.items.find((entry) => entry.action === 'api-key.revoke')?.details?.closedStreams).toBe(1);
  });

  it('resumes from the last sequence number after the connection is killed, without a gap', async () => {
    const { client } = await serve();
    const hub = harness!.app.troupe.hub;
    const received: number[] = [];
    const stream = client.stream({
      topics: ['orders'],
      onEvent: (event) => received.push((event.data as { n: number }).n),
      reconnect: { minMs: 10, maxMs: 50 },
    });
    streams.push(stream);
    await eventually(() => expect(stream.subscribed).toBe(true));
    for (let n = 0; n < 100; n += 1) hub.publish('orders', `o${n}`, { n });
    hub.publish('pnl', 'paper', { ignored: true }); // another topic: not for this client
    await eventually(() => expect(received.length).toBe(100));

    stream.rawSocket!.terminate(); // the network drops
    await eventually(() => expect(stream.subscribed).toBe(false));
    for (let n = 100; n < 250; n += 1) hub.publish('orders', `o${n}`, { n }); // missed while away
    await eventually(() => expect(stream.connections).toBe(2));
    for (let n = 250; n < 300; n += 1) hub.publish('orders', `o${n}`, { n });
    await eventually(() => expect(received.length).toBe(300));
    expect(received).toEqual(Array.from({ length: 300 }, (_, n) => n));
  });

  it('sends a snapshot when the resume point fell out of the replay buffer', async () => {
    const { client } = await serve({ replayCapacity: 10 });
    const hub = harness!.app.troupe.hub;
    const snapshots: { reason: string; data: Record<string, unknown> }[] = [];
    const received: number[] = [];
    const stream = client.stream({
      topics: ['orders', 'pnl'],
      onEvent: (event) => received.push(event.seq),
      onSnapshot: (snapshot) => snapshots.push(snapshot),
      reconnect: { minMs: 10, maxMs: 50 },
    });
    streams.push(stream);
    await eventually(() => expect(stream.subscribed).toBe(true));
    hub.publish('orders', 'a', {});
    await eventually(() => expect(received.length).toBe(1));
    stream.rawSocket!.terminate();
    await eventually(() => expect(stream.subscribed).toBe(false));
    for (let n = 0; n < 50; n += 1) hub.publish('orders', `o${n}`, { n });
    await eventually(() => expect(snapshots.length).toBe(1));
    expect(snapshots[0]!.reason).toContain('older than the replay buffer');
    expect(Object.keys(snapshots[0]!.data).sort()).toEqual(['orders', 'pnl']);
    expect(stream.lastSeq).toBe(hub.lastSeq);
  });

  it('keeps no events of a topic before its first subscription: a resume point before it gets a snapshot, later ones a replay', async () => {
    const { client, port } = await serve();
    const hub = harness!.app.troupe.hub;
    const unseen = hub.publish('orders', 'early', { n: 0 }); // nobody subscribed to orders yet
    const first = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    await eventually(() => expect(first.messages[0]).toMatchObject({ type: 'welcome' }));
    first.socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders'], resumeFrom: unseen - 1 }));
    await eventually(() => expect(first.messages.some((message) => message.type === 'snapshot')).toBe(true));
    const snapshot = first.messages.find((message) => message.type === 'snapshot')!;
    expect(snapshot.reason).toContain('older than the replay buffer');
    expect(first.messages.some((message) => message.type === 'event')).toBe(false);

    // from the first subscription on, events are kept (their payloads as strings: the byte count of a multibyte one is its UTF-8 length)
    const from = hub.lastSeq;
    const kept = [hub.publish('orders', 'a', { n: 1, note: '₹ 1,00,000 — ünïcode' }), hub.publish('orders', 'b', { n: 2 })];
    await eventually(() => expect(first.messages.filter((message) => message.type === 'event').map((message) => message.seq)).toEqual(kept));
    first.socket.terminate();
    hub.publish('orders', 'c', { n: 3 }); // while nobody is connected: kept for the next resume
    const second = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    await eventually(() => expect(second.messages[0]).toMatchObject({ type: 'welcome' }));
    second.socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders'], resumeFrom: from }));
    await eventually(() => expect(second.messages.filter((message) => message.type === 'event')).toHaveLength(3));
    const replayed = second.messages.filter((message) => message.type === 'event');
    expect(replayed.map((event) => event.data)).toEqual([{ n: 1, note: '₹ 1,00,000 — ünïcode' }, { n: 2 }, { n: 3 }]);
    expect(second.messages.some((message) => message.type === 'snapshot')).toBe(false);
  });

  it('closes a connection that stops answering pings (heartbeat) and keeps live ones', async () => {
    const { client, port, disconnects } = await serve({ heartbeatMs: 50 });
    const dead = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`, { autoPong: false });
    const live = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    let closed = false;
    dead.socket.on('close', () => (closed = true));
    await eventually(() => expect(closed).toBe(true), { timeoutMs: 5_000 });
    expect(disconnects).toContain('heartbeat-timeout');
    expect(live.socket.readyState).toBe(WebSocket.OPEN);
    expect(harness!.app.troupe.hub.clients).toBe(1);
  });

  it('conflates, then disconnects a client that does not read, without slowing publishers or other clients', async () => {
    const { client, port, disconnects } = await serve({ softBufferBytes: 16 * 1024, maxQueuedPerClient: 200, maxCongestedMs: 60_000 });
    const hub = harness!.app.troupe.hub;
    const slow = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    slow.socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders', 'positions'] }));
    const fastLatest = new Map<string, number>();
    const fast = client.stream({ topics: ['positions'], onEvent: (event) => fastLatest.set(event.key, (event.data as { n: number }).n) });
    streams.push(fast);
    await eventually(() => expect(slow.messages.some((message) => message.type === 'subscribed')).toBe(true));
    await eventually(() => expect(fast.subscribed).toBe(true));
    (slow.socket as unknown as { _socket: Socket })._socket.pause(); // stops reading: the server's buffer grows

    const payload = 'x'.repeat(8 * 1024);
    const started = performance.now();
    // the same few keys over and over: conflated (latest wins) while congested
    for (let n = 0; n < 2_000; n += 1) hub.publish('positions', `k${n % 10}`, { n, payload });
    const conflated = (await harness!.runtime.metrics.registry.getSingleMetricAsString('troupe_ws_conflated_total')).match(/ (\d+)$/m);
    expect(Number(conflated?.[1] ?? 0)).toBeGreaterThan(100);
    expect(disconnects).toEqual([]);
    // many distinct keys: the queue passes its bound and the client is dropped with a reason
    for (let n = 0; n < 1_000; n += 1) hub.publish('orders', `o${n}`, { n, payload });
    const elapsedMs = performance.now() - started;
    expect(disconnects.some((reason) => reason.startsWith('slow-consumer'))).toBe(true);
    expect(elapsedMs).toBeLessThan(2_000);
    // a client that reads keeps up: it may be conflated in a burst, but ends with the latest of every key and stays connected
    await eventually(() => expect([...fastLatest.entries()].sort()).toEqual(Array.from({ length: 10 }, (_, k) => [`k${k}`, 1_990 + k]).sort()), {
      timeoutMs: 10_000,
    });
    expect(disconnects).toHaveLength(1);
    expect(fast.connections).toBe(1);
  });

  it('a client that does not read and asks for snapshots over and over gets the latest one once it reads, not one per request', async () => {
    const { client, port, disconnects } = await serve({
      softBufferBytes: 16 * 1024,
      maxCongestedMs: 60_000,
      messagesPerSecond: 1_000_000,
      messageBurst: 1_000_000,
    });
    const hub = harness!.app.troupe.hub;
    const metric = async (name: string): Promise<number> =>
      Number((await harness!.runtime.metrics.registry.getSingleMetricAsString(name)).match(/ (\d+)$/m)?.[1] ?? 0);
    const slow = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    slow.socket.send(JSON.stringify({ type: 'subscribe', topics: ['positions'] }));
    await eventually(() => expect(slow.messages.some((message) => message.type === 'subscribed')).toBe(true));
    slow.socket.pause();
    // fill the socket (kernel buffers first) until the hub sees it congested
    const payload = 'x'.repeat(8 * 1024);
    for (let n = 0; n < 2_000; n += 1) hub.publish('positions', 'k', { n, payload });
    const received = await metric('troupe_ws_messages_received_total');
    for (let n = 0; n < 300; n += 1) {
      slow.socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders', 'pnl'], snapshot: true }));
      slow.socket.send(JSON.stringify({ type: 'unsubscribe', topics: ['orders', 'pnl'] }));
    }
    await eventually(async () => expect(await metric('troupe_ws_messages_received_total')).toBe(received + 600), { timeoutMs: 10_000 });
    slow.socket.resume();
    slow.socket.send(JSON.stringify({ type: 'ping' })); // its pong comes after everything queued before it
    await eventually(() => expect(slow.messages.some((message) => message.type === 'pong')).toBe(true), { timeoutMs: 10_000 });
    const snapshots = slow.messages.filter((message) => message.type === 'snapshot');
    expect(snapshots.length).toBeGreaterThanOrEqual(1);
    expect(snapshots.length).toBeLessThanOrEqual(2);
    expect(Object.keys(snapshots.at(-1)!.data as object).sort()).toEqual(['orders', 'pnl']);
    expect(disconnects).toEqual([]);
  });

  it('closes a client with 4008 once the bytes buffered for it (socket and queue) pass its budget', async () => {
    const { client, port, disconnects } = await serve({ softBufferBytes: 16 * 1024, maxBufferedBytes: 512 * 1024, maxCongestedMs: 60_000 });
    const hub = harness!.app.troupe.hub;
    const slow = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    let closed: { code: number; reason: string } | undefined;
    slow.socket.on('close', (code: number, reason: Buffer) => (closed = { code, reason: reason.toString('utf8') }));
    slow.socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders'] }));
    await eventually(() => expect(slow.messages.some((message) => message.type === 'subscribed')).toBe(true));
    slow.socket.pause();
    // distinct keys: nothing to conflate; 2,000 updates are within the queue's length bound, not within 512 KB
    const payload = 'x'.repeat(8 * 1024);
    for (let n = 0; n < 2_000; n += 1) hub.publish('orders', `o${n}`, { n, payload });
    expect(disconnects).toEqual([`slow-consumer: more than ${512 * 1024} bytes buffered`]);
    slow.socket.resume();
    await eventually(() => expect(closed?.code).toBe(4008), { timeoutMs: 10_000 });
    expect(closed?.reason).toContain('bytes buffered');
  });

  it('rate-limits what a client sends: an error answer over the limit, then a close with 4029', async () => {
    const { client, port, disconnects } = await serve({ messagesPerSecond: 10, messageBurst: 20, maxRefusedMessages: 5 });
    const chatty = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    let closed: { code: number; reason: string } | undefined;
    chatty.socket.on('close', (code: number, reason: Buffer) => (closed = { code, reason: reason.toString('utf8') }));
    for (let n = 0; n < 40; n += 1) chatty.socket.send(JSON.stringify({ type: 'ping' }));
    await eventually(() => expect(closed?.code).toBe(4029), { timeoutMs: 5_000 });
    expect(closed?.reason).toMatch(/^rate-limited/);
    const pongs = chatty.messages.filter((message) => message.type === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(30); // the bucket refills at 10/s: a few more at most
    expect(chatty.messages.filter((message) => message.type === 'error' && message.code === 'rate-limited')).toHaveLength(5);
    expect(disconnects.some((reason) => reason.startsWith('rate-limited'))).toBe(true);
    const refused = (await harness!.runtime.metrics.registry.getSingleMetricAsString('troupe_ws_rate_limited_total')).match(/ (\d+)$/m);
    expect(Number(refused?.[1])).toBe(6);
    // another connection has its own budget
    const other = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`);
    other.socket.send(JSON.stringify({ type: 'ping' }));
    await eventually(() => expect(other.messages.some((message) => message.type === 'pong')).toBe(true));
  });

  it('messages from a client are no proof of life: one that never answers pings is closed even while it chatters', async () => {
    const { client, port, disconnects } = await serve({ heartbeatMs: 50, messagesPerSecond: 1_000_000, messageBurst: 1_000_000 });
    const chatter = await open(`ws://127.0.0.1:${port}/api/v1/stream?token=${client.token}`, { autoPong: false });
    let closed = false;
    chatter.socket.on('close', () => (closed = true));
    const timer = setInterval(() => chatter.socket.readyState === WebSocket.OPEN && chatter.socket.send(JSON.stringify({ type: 'ping' })), 5);
    try {
      await eventually(() => expect(closed).toBe(true), { timeoutMs: 5_000 });
    } finally {
      clearInterval(timer);
    }
    expect(disconnects).toContain('heartbeat-timeout');
  });
});
