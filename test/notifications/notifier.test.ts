import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { loadConfig } from '../../src/config/config.js';
import type { DomainEvent, Fill, Order } from '../../src/model/index.js';
import { Notifier, notifierFromConfig, type Channel, type Notification } from '../../src/notifications/index.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { instrument, ticksFromPrices } from '../support/builders.js';
import { startHttpFake, type HttpFake } from '../support/notification-fakes.js';

const AT = Date.parse('2026-05-20T04:00:00Z');
const note = (kind: Notification['kind'], severity: Notification['severity'], key: string): Notification => ({
  kind,
  severity,
  title: `${kind} ${key}`,
  text: '',
  atMs: AT,
  key,
  fields: {},
});

function recorder(): Channel & { readonly got: Notification[] } {
  const got: Notification[] = [];
  return {
    name: 'recorder',
    got,
    send(notification) {
      got.push(notification);
      return Promise.resolve();
    },
  };
}

describe('routing and the rate limit', () => {
  it('sends only the kinds and severities a channel asked for', async () => {
    const channel = recorder();
    const notifier = new Notifier({
      routes: [{ channel, kinds: new Set(['halt', 'risk']), minSeverity: 'warning', rate: { count: 100, perMs: 60_000 } }],
      log: silentLogger(),
    });
    notifier.notify(note('fill', 'info', 'f'));
    notifier.notify(note('risk', 'info', 'r-info'));
    notifier.notify(note('risk', 'warning', 'r-warn'));
    notifier.notify(note('halt', 'critical', 'h'));
    notifier.notify(note('restart', 'warning', 'a'));
    await notifier.flush();
    expect(channel.got.map((n) => n.key)).toEqual(['r-warn', 'h']);
  });

  it('holds back what is over the rate, then sends one digest with the counts per kind; halts are never held back', async () => {
    let now = 0;
    const channel = recorder();
    const notifier = new Notifier({
      routes: [{ channel, kinds: new Set(['fill', 'risk', 'halt']), minSeverity: 'info', rate: { count: 3, perMs: 100 } }],
      log: silentLogger(),
      now: () => now,
    });
    for (let i = 0; i < 8; i += 1) notifier.notify(note('fill', 'info', `f${i}`));
    notifier.notify(note('risk', 'warning', 'r'));
    notifier.notify(note('halt', 'critical', 'h'));
    // the same halt again (every order the dead journal refuses says so) is held back; another goes
    notifier.notify(note('halt', 'critical', 'h'));
    notifier.notify(note('halt', 'critical', 'h2'));
    await eventually(() => expect(channel.got.map((n) => n.key)).toEqual(['f0', 'f1', 'f2', 'h', 'h2']));
    expect(notifier.stats()[0]).toMatchObject({ heldBack: 7 });
    // time passes on the notifier's clock: the digest goes when a token is back
    now = 40;
    await eventually(() => expect(channel.got).toHaveLength(6), { timeoutMs: 5_000 });
    const summary = channel.got[5]!;
    expect(summary.title).toBe('7 more notifications held back by the rate limit');
    expect(summary.text).toContain('fill ×5, risk ×1, halt ×1');
    expect(summary.fields).toMatchObject({ digest: true, total: 7, suppressed_fill: 5, suppressed_risk: 1, suppressed_halt: 1 });
    await notifier.stop();
  });
});

describe('from the runtime to a webhook and a Telegram chat', () => {
  let receiver: HttpFake | undefined;
  let telegram: HttpFake | undefined;
  let runtime: Runtime | undefined;
  afterEach(async () => {
    await runtime?.stop();
    await receiver?.close();
    await telegram?.close();
  });

  it('every fill reaches the webhook; the daily-loss kill switch reaches Telegram as a halt; outcomes are in the metrics', async () => {
    receiver = await startHttpFake(() => ({ status: 200 }));
    telegram = await startHttpFake(() => ({ status: 200, body: { ok: true, result: {} } }));
    const config = loadConfig({
      TROUPE_NOTIFY_WEBHOOK_URL: `${receiver.url}/hook`,
      TROUPE_NOTIFY_WEBHOOK_EVENTS: 'fill,halt',
      TROUPE_NOTIFY_WEBHOOK_PER_MINUTE: '600',
      TROUPE_NOTIFY_TELEGRAM_BOT_TOKEN: '42:XYZ',
      TROUPE_NOTIFY_TELEGRAM_CHAT_ID: '-100',
      TROUPE_NOTIFY_TELEGRAM_API: telegram.url,
      TROUPE_NOTIFY_TELEGRAM_EVENTS: 'halt',
    });
    const metrics = new Metrics({ defaultMetrics: false });
    const notifier = notifierFromConfig(config.notifications, { log: silentLogger(), registry: metrics.registry });
    expect(notifier).toBeDefined();
    const clock = new ManualClock(AT);
    runtime = new Runtime({
      instruments: [instrument('INFY', 100_000, 257)],
      strategies: [{ strategyId: 'ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 200 } }],
      portfolio: { portfolioId: 'paper', initialCashPaise: 10_00_000_00 },
      clock,
      metrics,
      riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000, maxDailyLossPaise: 2_000_00 },
    });
    // the test's own record of what happened, from the bus
    const fills: { fill: Fill; order: Order }[] = [];
    const halts: DomainEvent[] = [];
    runtime.bus.on('OrderFilled', (event) => fills.push(event));
    runtime.bus.on('RiskAlert', (event) => event.code === 'kill-switch' && event.severity === 'critical' && halts.push(event));
    notifier!.attach(runtime.bus);
    runtime.start();
    // down, then up (the cross buys 200), then a fall: a day's loss beyond ₹2,000 trips the kill switch
    const prices = [1000, 990, 980, 970, 1000, 1040, 1080, 1120, 1110, 1090, 1060, 1020, 990, 960, 940, 920].map((rupees) => rupees * 100);
    for (const tick of ticksFromPrices('INFY', prices, AT)) {
      clock.advanceTo(tick.exchangeTimeMs);
      runtime.offerTicks('INFY', [tick]);
      await runtime.whenIdle();
    }
    expect(fills.length).toBeGreaterThan(0);
    expect(halts).toHaveLength(1);
    await notifier!.flush();

    const posted = receiver.requests.map((request) => JSON.parse(request.body) as { kind: string; fields: Record<string, unknown> });
    const fillPosts = posted.filter((body) => body.kind === 'fill');
    expect(fillPosts.map((body) => [body.fields['clientOrderId'], body.fields['quantity'], body.fields['pricePaise']])).toEqual(
      fills.map(({ fill }) => [fill.clientOrderId, fill.quantity, fill.pricePaise]),
    );
    expect(posted.filter((body) => body.kind === 'halt')).toHaveLength(1);

    expect(telegram.requests).toHaveLength(1);
    const message = JSON.parse(telegram.requests[0]!.body) as { text: string; chat_id: string };
    expect(message.chat_id).toBe('-100');
    expect(message.text).toContain('Trading halted: kill-switch');

    const text = await metrics.registry.metrics();
    expect(text).toContain(`troupe_notifications_total{channel="webhook",kind="fill",outcome="sent"} ${fills.length}`);
    expect(text).toContain('troupe_notifications_total{channel="telegram",kind="halt",outcome="sent"} 1');
    await notifier!.stop();
  });
});

describe('configuration', () => {
  it('is off without addresses and names the variable of a bad value', () => {
    expect(loadConfig({}).notifications).toEqual({});
    expect(notifierFromConfig({}, { log: silentLogger() })).toBeUndefined();
    expect(() => loadConfig({ TROUPE_NOTIFY_WEBHOOK_URL: 'ftp://x' })).toThrow('TROUPE_NOTIFY_WEBHOOK_URL must use http: or https:');
    expect(() => loadConfig({ TROUPE_NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:1/h', TROUPE_NOTIFY_WEBHOOK_EVENTS: 'fills' })).toThrow(
      /TROUPE_NOTIFY_WEBHOOK_EVENTS must list some of fill, rejection, halt.*unknown: fills/,
    );
    expect(() => loadConfig({ TROUPE_NOTIFY_TELEGRAM_BOT_TOKEN: 't' })).toThrow('TROUPE_NOTIFY_TELEGRAM_CHAT_ID is needed too');
    expect(() => loadConfig({ TROUPE_NOTIFY_SMTP_URL: 'smtp://127.0.0.1:25', TROUPE_NOTIFY_EMAIL_FROM: 'a@b' })).toThrow('TROUPE_NOTIFY_EMAIL_TO');
    expect(() =>
      loadConfig({
        TROUPE_NOTIFY_SMTP_URL: 'smtp://127.0.0.1:25',
        TROUPE_NOTIFY_EMAIL_FROM: 'a@b',
        TROUPE_NOTIFY_EMAIL_TO: 'c@d',
        TROUPE_NOTIFY_EMAIL_PER_MINUTE: '0',
      }),
    ).toThrow('TROUPE_NOTIFY_EMAIL_PER_MINUTE must be an integer from 1 to 600');
    const email = loadConfig({ TROUPE_NOTIFY_SMTP_URL: 'smtps://u:p@mail.example:465', TROUPE_NOTIFY_EMAIL_FROM: 'a@b', TROUPE_NOTIFY_EMAIL_TO: 'c@d, e@f' })
      .notifications.email;
    expect(email).toMatchObject({ to: ['c@d', 'e@f'], minSeverity: 'warning', perMinute: 6, kinds: ['halt', 'square-off', 'risk', 'compliance'] });
  });
});
