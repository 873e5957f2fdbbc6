import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import type { PositionChanged } from '../../src/model/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { RuntimeUnavailable } from '../../src/runtime/facade.js';
import { Metrics } from '../../src/observability/metrics.js';
import { registryExposition } from '../../src/observability/metrics-merge.js';
import { serveFacade, type FacadeServer, type HostEnd } from '../../src/runtime/port/facade-server.js';
import { PortRuntimeFacade } from '../../src/runtime/port/port-facade.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { StrategyConfigError } from '../../src/strategies/api.js';
import { instrument, manualIntent, ticksFromPrices } from '../support/builders.js';

const opened: { close(): void | Promise<void> }[] = [];
afterEach(async () => {
  for (const part of opened.splice(0).reverse()) await part.close();
});

interface Started {
  readonly runtime: Runtime;
  readonly clock: ManualClock;
  readonly server: FacadeServer;
  readonly remote: PortRuntimeFacade;
  feed(prices: readonly number[]): Promise<void>;
}

/** A runtime whose facade is served on one end of a real message channel, and the facade on the other end. */
async function start(options: { readonly publishIntervalMs?: number } = {}): Promise<Started> {
  const clock = new ManualClock(Date.parse('2026-05-20T04:00:00Z'));
  const runtime = new Runtime({
    instruments: [instrument('INFY', 100_000, 257), instrument('TCS', 300_000, 513)],
    strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 5 } }],
    portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
    clock,
    riskLimits: { maxOrderQuantity: 100, fatFingerBps: 5000 },
  });
  runtime.start();
  opened.push({ close: () => runtime.stop() });
  const { port1, port2 } = new MessageChannel();
  const server = serveFacade(runtime.facade, port1, options);
  opened.push(server);
  const remote = await PortRuntimeFacade.connect(port2, { metrics: new Metrics() });
  opened.push(remote);
  let lastMs = clock.nowMs();
  return {
    runtime,
    clock,
    server,
    remote,
    async feed(prices) {
      for (const tick of ticksFromPrices('INFY', prices, lastMs + 1000)) {
        clock.advanceTo(tick.exchangeTimeMs);
        lastMs = tick.exchangeTimeMs;
        runtime.offerTicks(tick.symbol, [tick]);
        await runtime.whenIdle();
      }
    },
  };
}

describe('RuntimeFacade across a message port', () => {
  it('mirrors the live readings: after a sync they equal the local facade’s', async () => {
    const { runtime, remote, feed } = await start();
    expect(remote.description).toEqual(runtime.facade.description);
    await feed([100_000, 100_500, 101_000, 99_000, 98_000, 102_000, 104_000]);
    await remote.sync();
    expect(remote.portfolios()).toEqual(runtime.facade.portfolios());
    expect(remote.quotes()).toEqual(runtime.facade.quotes());
    expect(remote.depth('INFY')).toEqual(runtime.facade.depth('INFY'));
    expect(remote.depth('TCS')).toBeUndefined();
    expect(remote.marketNowMs()).toBe(runtime.facade.marketNowMs());
    expect(remote.actors().tree.map((actor) => actor.path)).toEqual(runtime.facade.actors().tree.map((actor) => actor.path));
  });

  it('publishes on its schedule without being asked (conflated: one publish per interval, not per tick)', async () => {
    const { runtime, remote, feed } = await start({ publishIntervalMs: 20 });
    await feed([100_000, 100_100, 100_200]);
    await eventually(() => expect(remote.quotes()).toEqual(runtime.facade.quotes()));
    expect(remote.marketNowMs()).toBe(runtime.facade.marketNowMs());
  });

  it('answers queries as the local facade does, errors included', async () => {
    const { runtime, remote, feed } = await start();
    await feed([100_000]);
    expect(await remote.strategyIds()).toEqual(await runtime.facade.strategyIds());
    expect(await remote.strategySpec('ema')).toEqual(await runtime.facade.strategySpec('ema'));
    expect(await remote.strategySpec('nope')).toBeUndefined();
    expect(await remote.strategyStatus('ema')).toEqual(await runtime.facade.strategyStatus('ema'));
    expect(await remote.riskReport()).toEqual(await runtime.facade.riskReport());
    expect(await remote.orders()).toEqual(await runtime.facade.orders());
    const missing = await remote.strategyStatus('nope').catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(RuntimeUnavailable);
    expect(missing).toMatchObject({ reason: 'not-found', message: 'no strategy "nope"' });
    const bad = await remote.addStrategy({ strategyId: 'bad', kind: 'ema-cross', config: { fastPeriod: -1 } }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(StrategyConfigError);
    expect(bad).toMatchObject({ field: 'fastPeriod' });
  });

  it('carries commands: an order answered once placed (its state already in the mirror), a refusal, cancel, pause, kill switch', async () => {
    const { runtime, remote, feed } = await start();
    await feed([100_000]);
    expect(await remote.submitOrder(manualIntent(1_000, 1), 'manual1')).toMatchObject({ outcome: 'rejected', code: 'max-order-quantity' });
    expect(await remote.submitOrder(manualIntent(5, 2, { orderType: 'LIMIT', limitPricePaise: 98_000 }), 'manual2')).toEqual({
      outcome: 'submitted',
      clientOrderId: 'manual2',
    });
    expect((await remote.orders()).map((order) => order.clientOrderId)).toContain('manual2');
    await remote.cancelOrder('manual2', 'tester');
    await eventually(async () => expect((await remote.orders()).find((order) => order.clientOrderId === 'manual2')?.status).toBe('CANCELLED'));
    expect(await remote.pauseStrategies(['ema', 'nope'])).toEqual(['ema']);
    await eventually(async () => expect((await runtime.facade.strategyStatus('ema')).paused).toBe(true));
    expect(await remote.resumeStrategies(['ema'])).toEqual(['ema']);
    await remote.addStrategy({ strategyId: 'ema2', kind: 'ema-cross', config: { fastPeriod: 3, slowPeriod: 6, quantity: 1 } });
    expect(await runtime.facade.strategyIds()).toContain('ema2');
    // read your own write: the new strategy's actor is in the mirrored tree as the answer arrives
    const strategies = remote.actors().tree.find((actor) => actor.path === '/strategies');
    expect(strategies?.children.map((actor) => actor.path)).toContain('/strategies/ema2');
    await remote.reconfigureStrategy('ema2', { quantity: 2 });
    expect((await runtime.facade.strategySpec('ema2'))?.config).toMatchObject({ quantity: 2 });
    expect(await remote.engageKillSwitch('tester', 'drill')).toBe(true);
    expect(await remote.engageKillSwitch('tester', 'again')).toBe(false);
    expect((await remote.riskReport()).killSwitch).not.toBeNull();
    expect(await remote.releaseKillSwitch('tester')).toBe(true);
    expect(await remote.injectFault('/nowhere')).toBe(false);
  });

  it('forwards the subscribed events in order, each after the read model it changed', async () => {
    const { remote, feed } = await start();
    const seen: string[] = [];
    const atPositionChange: { event: PositionChanged; mirrored: number | undefined }[] = [];
    remote.onEvent('OrderSubmitted', (event) => seen.push(`submitted ${event.order.clientOrderId}`));
    remote.onEvent('OrderFilled', (event) => seen.push(`filled ${event.order.clientOrderId}`));
    remote.onEvent('PositionChanged', (event) => {
      const position = remote.portfolios()[0]?.state.positions[`${event.position.symbol}:${event.position.product}`];
      atPositionChange.push({ event, mirrored: position?.netQuantity });
    });
    await remote.sync(); // the subscriptions are in place
    await feed([100_000]);
    expect(await remote.submitOrder(manualIntent(5, 3), 'manual3')).toMatchObject({ outcome: 'submitted' });
    await feed([100_100]);
    await eventually(() => expect(seen).toEqual(['submitted manual3', 'filled manual3']));
    await eventually(() => expect(atPositionChange.length).toBeGreaterThan(0));
    for (const { event, mirrored } of atPositionChange) expect(mirrored).toBe(event.position.netQuantity);
  });

  it('answers RuntimeUnavailable once the runtime’s end is gone, and to a runtime that does not answer in time', async () => {
    const { server, remote } = await start();
    expect(await remote.strategyIds()).toEqual(['ema']);
    server.close();
    await eventually(async () => expect(await remote.strategyIds().catch((error: unknown) => error)).toBeInstanceOf(RuntimeUnavailable));
    await expect(remote.orders()).rejects.toMatchObject({ reason: 'not-ready' });

    // a runtime's end that says hello and then nothing
    const { port1, port2 } = new MessageChannel();
    opened.push({ close: () => port1.close() });
    const silent = PortRuntimeFacade.connect(port2, { metrics: new Metrics(), requestTimeoutMs: 50 });
    port1.postMessage({
      kind: 'hello',
      description: { instruments: [], portfolioIds: ['paper'], riskLimits: { maxOrderQuantity: 1, maxGrossExposurePaise: 1 } },
    });
    const facade = await silent;
    opened.push(facade);
    await expect(facade.orders()).rejects.toMatchObject({ name: 'RuntimeUnavailable', reason: 'not-ready' });
  });

  it('carries the host readings and requests besides the facade: feed, stores, the pause switch, fences, metrics, the generated admin', async () => {
    const { runtime } = await start();
    let paused = false;
    const lastTick: { wallMs?: number } = {};
    let journal: 'ok' | 'down' = 'ok';
    const fences = [{ name: 'portfolio:paper', token: 7 }];
    const admins: string[] = [];
    const host: HostEnd = {
      feedState: () => ({
        connected: true,
        lastTickAgeMs: lastTick.wallMs === undefined ? undefined : Date.now() - lastTick.wallMs,
        followsExchangeHours: false,
      }),
      persistenceState: () => ({ journal, redis: 'not configured' }),
      feedControl: { paused: () => paused, setPaused: (value) => (paused = value) },
      fences: () => fences,
      metricsText: () => runtime.metrics.registry.metrics(),
      metricsJson: () => registryExposition(runtime.metrics).json(),
      onGeneratedAdmin: (username, password) => admins.push(`${username}:${password}`),
    };
    const { port1, port2 } = new MessageChannel();
    const server = serveFacade(runtime.facade, port1, { host });
    opened.push(server);
    const remote = await PortRuntimeFacade.connect(port2, { metrics: new Metrics() });
    opened.push(remote);
    const remoteHost = remote.host;
    if (remoteHost === undefined) throw new Error('the runtime’s end serves host readings: the remote facade must have them');
    // in the mirror once connected
    expect(remoteHost.feedState()).toEqual({ connected: true, lastTickAgeMs: undefined, followsExchangeHours: false });
    expect(remoteHost.persistenceState()).toEqual({ journal: 'ok', redis: 'not configured' });
    expect(remoteHost.fences()).toEqual(fences);
    expect(remoteHost.feedControl?.paused()).toBe(false);

    // readings follow the host's: the last tick as an age, the journal's health, new fences
    lastTick.wallMs = Date.now() - 5_000;
    journal = 'down';
    fences.push({ name: 'strategy:ema', token: 3 });
    await remote.sync();
    expect(remoteHost.persistenceState().journal).toBe('down');
    expect(remoteHost.fences()).toEqual([
      { name: 'portfolio:paper', token: 7 },
      { name: 'strategy:ema', token: 3 },
    ]);
    expect(remoteHost.feedState().lastTickAgeMs).toBeGreaterThanOrEqual(5_000);

    // the pause switch: read back at once, switched on the host's side
    remoteHost.feedControl?.setPaused(true);
    expect(remoteHost.feedControl?.paused()).toBe(true);
    await remote.sync();
    expect(paused).toBe(true);
    expect(remoteHost.feedControl?.paused()).toBe(true);

    // requests: the host's registry text, the generated admin
    expect(await remoteHost.metricsText()).toContain('troupe_');
    const families = await remoteHost.metricsJson();
    expect(families.find((family) => family.name === 'troupe_ticks_total')?.type).toBe('counter');
    expect(remoteHost.ml).toBeUndefined();
    await remoteHost.reportGeneratedAdmin('admin', 'a-generated-password');
    expect(admins).toEqual(['admin:a-generated-password']);

    // without host readings (the gateway suite's port mode) the remote facade has none
    const { remote: plain } = await start();
    expect(plain.host).toBeUndefined();
  });

  it('drops a message that does not decode, on either end, and says so', async () => {
    const problems: string[] = [];
    const { port1, port2 } = new MessageChannel();
    opened.push({ close: () => port1.close() });
    const connecting = PortRuntimeFacade.connect(port2, { metrics: new Metrics(), onBadMessage: (problem) => problems.push(problem) });
    port1.postMessage({
      kind: 'hello',
      description: { instruments: [], portfolioIds: ['paper'], riskLimits: { maxOrderQuantity: 1, maxGrossExposurePaise: 1 } },
    });
    const facade = await connecting;
    opened.push(facade);
    port1.postMessage({ kind: 'publish', seq: 1, model: { marketNowMs: 'soon' }, events: [] });
    port1.postMessage({ kind: 'publish', seq: 2, model: { marketNowMs: 5 }, events: [] });
    await eventually(() => expect(facade.version).toBe(2));
    expect(facade.marketNowMs()).toBe(5);
    expect(problems).toEqual(['/model/marketNowMs must be number']);

    const runtimeSide = await start();
    const serverProblems: string[] = [];
    const channel = new MessageChannel();
    opened.push(serveFacade(runtimeSide.runtime.facade, channel.port1, { onBadMessage: (problem) => serverProblems.push(problem) }));
    opened.push({ close: () => channel.port2.close() });
    channel.port2.postMessage({ kind: 'request', id: 1, method: 'submitOrder', args: [{ type: 'order-intent' }, 'x'] });
    await eventually(() =>
      expect(serverProblems).toEqual([
        '/args/0 must have required properties intentId, strategyId, portfolioId, symbol, side, quantity, orderType, product, validity, createdAtMs',
      ]),
    );
  });
});

const WORKER_BOOT = `import('tsx/esm/api').then(({ register }) => { register(); return import(require('node:worker_threads').workerData.entry); })`;

describe('RuntimeFacade across a worker thread', () => {
  it('a worker thread mirrors the runtime, queries it and places an order through it', async () => {
    const { runtime, feed } = await start();
    await feed([100_000, 100_500]);
    const { port1, port2 } = new MessageChannel();
    opened.push(serveFacade(runtime.facade, port1));
    // the TypeScript entry through tsx's loader, registered inside the worker before the entry loads
    const worker = new Worker(WORKER_BOOT, {
      eval: true,
      workerData: { port: port2, entry: new URL('./support/port-facade-worker.ts', import.meta.url).href },
      transferList: [port2],
    });
    opened.push({ close: () => worker.terminate().then(() => undefined) });
    const answers: unknown[] = [];
    worker.on('message', (message: unknown) => answers.push(message));
    await eventually(() => expect(answers).toEqual(['ready']), { timeoutMs: 20_000 });
    worker.postMessage('readings');
    await eventually(() => expect(answers).toHaveLength(2), { timeoutMs: 10_000 });
    expect(answers[1]).toEqual({
      portfolios: runtime.facade.portfolios(),
      quotes: runtime.facade.quotes(),
      marketNowMs: runtime.facade.marketNowMs(),
      strategyIds: ['ema'],
    });
    worker.postMessage('order');
    await eventually(() => expect(answers).toHaveLength(3), { timeoutMs: 10_000 });
    expect(answers[2]).toEqual({ submission: { outcome: 'submitted', clientOrderId: 'worker1' }, heard: ['submitted worker1'] });
    expect((await runtime.facade.orders()).map((order) => order.clientOrderId)).toContain('worker1');
  });
});
