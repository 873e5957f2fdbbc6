import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { announceHalts } from '../../src/gateway/gateway.js';
import { haltBoard } from '../../src/gateway/halts.js';
import { istTimeMs } from '../../src/model/time.js';
import { login, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

interface HaltsBody {
  halted: boolean;
  halts: { kind: string; severity: string; sinceMs: number | null; reason: string; action: string; release: { method: string; path: string } | null }[];
}

describe('GET /api/v1/halts', () => {
  it('is empty while trading; the daily-loss kill switch shows with its release call, and on every strategy', async () => {
    harness = await startHarness(
      {},
      {},
      { riskLimits: { maxOrdersPerSecond: 1000, maxOrdersPerSecondPerStrategy: 1000, fatFingerBps: 5000, maxDailyLossPaise: 1_000_00 } },
    );
    const { authorization } = await login(harness.app);
    const halts = async (): Promise<HaltsBody> => (await harness!.app.inject({ url: '/api/v1/halts', headers: { authorization } })).json<HaltsBody>();
    expect(await halts()).toEqual({ halted: false, halts: [] });
    // down, up (the cross buys 5 INFY), then a gap down to ₹700: a loss over ₹1,000 trips the kill switch
    await harness.feed(
      'INFY',
      [1000, 990, 980, 970, 1000, 1040, 1080, 1120, 700, 690].map((rupees) => rupees * 100),
    );
    const body = await halts();
    expect(body.halted).toBe(true);
    expect(body.halts).toHaveLength(1);
    expect(body.halts[0]).toMatchObject({ kind: 'kill-switch', severity: 'critical', release: { method: 'POST', path: '/api/v1/risk/kill-switch/reset' } });
    expect(body.halts[0]!.reason).toMatch(/^Daily-loss kill switch: .*lost/);
    const strategy = (await harness.app.inject({ url: '/api/v1/strategies/ema', headers: { authorization } })).json<{
      state: string;
      haltedBy: { kind: string } | null;
    }>();
    expect(strategy.haltedBy?.kind).toBe('kill-switch');
    // a viewer may read it; without credentials it is refused
    expect((await harness.app.inject({ url: '/api/v1/halts' })).statusCode).toBe(401);
  });

  it('shows the journal failing closed, a silent feed and an expired broker session until it is renewed', async () => {
    let journal: 'ok' | 'down' = 'down';
    harness = await startHarness(
      {},
      { persistenceState: () => ({ journal, redis: 'not configured' }), feedState: () => ({ connected: true, lastTickAgeMs: 45_000 }) },
    );
    const { authorization } = await login(harness.app);
    const halts = async (): Promise<HaltsBody> => (await harness!.app.inject({ url: '/api/v1/halts', headers: { authorization } })).json<HaltsBody>();
    let body = await halts();
    expect(body.halted).toBe(true);
    expect(body.halts.map((halt) => [halt.kind, halt.severity])).toEqual([
      ['journal', 'critical'],
      ['feed', 'warning'],
    ]);
    expect(body.halts[1]!.reason).toBe('No market data for 45 s while the market is open: strategies act on stale prices.');
    journal = 'ok';
    const atMs = harness.clock.nowMs();
    harness.runtime.bus.publish({ type: 'RiskAlert', severity: 'critical', code: 'broker-session-expired', message: 'TokenException: session expired', atMs });
    body = await halts();
    expect(body.halts.map((halt) => halt.kind)).toEqual(['broker-session', 'feed']);
    expect(body.halts[0]).toMatchObject({ sinceMs: atMs, release: null });
    harness.runtime.bus.publish({ type: 'RiskAlert', severity: 'info', code: 'broker-session-renewed', message: 'renewed', atMs: atMs + 1 });
    body = await halts();
    expect(body).toMatchObject({ halted: false, halts: [{ kind: 'feed' }] });
  });
});

describe('the kill switch by hand', () => {
  it('POST /api/v1/kill-switch halts in the risk manager: every order is refused (manual ones too) until an admin resets it', async () => {
    harness = await startHarness();
    const { authorization } = await login(harness.app);
    await harness.feed(
      'INFY',
      [1000, 1001].map((rupees) => rupees * 100),
    );
    const engage = await harness.app.inject({
      method: 'POST',
      url: '/api/v1/kill-switch',
      headers: { authorization },
      payload: { reason: 'news: exchange outage' },
    });
    expect(engage.statusCode).toBe(200);
    expect(engage.json()).toEqual({ engaged: true, paused: ['ema'] });
    const body = (await harness.app.inject({ url: '/api/v1/halts', headers: { authorization } })).json<HaltsBody>();
    expect(body.halted).toBe(true);
    expect(body.halts[0]).toMatchObject({ kind: 'kill-switch', reason: expect.stringContaining('engaged by user:root: news: exchange outage') as unknown });
    const order = await harness.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { authorization },
      payload: { symbol: 'INFY', side: 'BUY', quantity: 1 },
    });
    expect(order.statusCode).toBe(422);
    expect(order.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'risk-rejected',
      message: expect.stringContaining('kill') as unknown,
    });
    // a second engage keeps the first reason
    expect((await harness.app.inject({ method: 'POST', url: '/api/v1/kill-switch', headers: { authorization } })).json()).toMatchObject({ engaged: false });
    expect((await harness.app.inject({ method: 'POST', url: '/api/v1/risk/kill-switch/reset', headers: { authorization } })).json()).toEqual({ reset: true });
    expect((await harness.app.inject({ url: '/api/v1/halts', headers: { authorization } })).json()).toEqual({ halted: false, halts: [] });
  });
});

describe('a silent exchange feed', () => {
  it('is a halt only while the NSE market is open (calendar and session hours)', async () => {
    harness = await startHarness();
    let now = istTimeMs('2026-05-20', 10, 0); // a Wednesday, in session
    const board = haltBoard(harness.runtime.facade, {
      feedState: () => ({ connected: true, lastTickAgeMs: 60_000, followsExchangeHours: true }),
      persistenceState: () => ({ journal: 'ok' }),
      nowMs: () => now,
    });
    expect((await board.current()).map((halt) => halt.kind)).toEqual(['feed']);
    now = istTimeMs('2026-05-20', 16, 0); // after the close
    expect(await board.current()).toEqual([]);
    now = istTimeMs('2026-05-23', 10, 0); // a Saturday
    expect(await board.current()).toEqual([]);
    now = istTimeMs('2026-10-02', 10, 0); // a Friday, Gandhi Jayanti: an NSE holiday
    expect(await board.current()).toEqual([]);
    board.close();
  });
});

describe('at start-up', () => {
  it('says at warn that trading is HALTED instead of "trading" when a halt is in force', async () => {
    harness = await startHarness({}, { persistenceState: () => ({ journal: 'down', redis: 'not configured' }) });
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    expect(await announceHalts(harness.app, log, 'Troupe started (port 1)')).toBe(true);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [
        40,
        'The order journal (database) is unavailable: new orders are refused until it is back (fail closed). Check the database (System page, /api/v1/health); trading resumes by itself when the journal is back.',
      ],
      [40, 'Troupe started (port 1) but trading is HALTED (journal): no order goes out until released'],
    ]);
  });
});
