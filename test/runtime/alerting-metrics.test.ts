/**
 * The metrics the alert rules (deploy/prometheus/rules) need beyond the tree's own, each driven
 * through the code path that updates it and read back from the exposition: the kill switch and
 * the day's P&L (risk actor), the market-open gauge (NSE calendar on the market clock), the
 * market-clock time to fill (execution), the host and the data directory's file system.
 * Journal fail-closed and latency, Redis latency, the lease and the disk in the app: e2e/outage;
 * the Kite session: e2e/kite.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createActorSystem, createProbe, eventually, type ActorSystem } from '../../src/actors/core/index.js';
import { clientOrderIdFor, newOrder, type OrderIntent } from '../../src/model/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS } from '../../src/risk/risk-manager.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { instrument, tick } from '../support/builders.js';
import { spawnRisk } from '../support/risk-rig.js';

/** The value of one series (`name{labels}` as exposed) in the exposition, NaN when absent. */
async function sample(metrics: Metrics, series: string): Promise<number> {
  const text = await metrics.text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1));
}

const t0 = Date.parse('2026-05-20T04:00:00Z'); // a Wednesday, 09:30 IST

describe("risk gauges: kill switch, halt, the day's P&L against the loss limit", () => {
  let system: ActorSystem | undefined;
  afterEach(async () => {
    await system?.shutdown();
    system = undefined;
  });

  it('follow the risk actor through a loss, the trip and the reset', async () => {
    system = createActorSystem();
    const metrics = new Metrics({ defaultMetrics: false });
    const { ref, strategy } = spawnRisk(system, { limits: { ...DEFAULT_RISK_MANAGER_LIMITS, maxDailyLossPaise: 1_000_00 }, nowMs: t0, metrics });
    expect(await sample(metrics, 'troupe_risk_kill_switch_engaged')).toBe(0);
    expect(await sample(metrics, 'troupe_trading_halted{reason="kill-switch"}')).toBe(0);
    expect(await sample(metrics, 'troupe_risk_daily_loss_limit_rupees')).toBe(1000);

    // bought 10 at ₹1,500; marked at ₹1,450: 10 × −₹50 = −₹500, half the ₹1,000 limit
    system.tell(ref, { type: 'FillApplied', portfolioId: 'p1', symbol: 'INFY', signedQuantity: 10, pricePaise: 150_000, chargesPaise: 0 });
    system.tell(ref, { type: 'Marks', ticks: [tick({ ltpPaise: 145_000 })] });
    await eventually(async () => expect(await sample(metrics, 'troupe_risk_day_pnl_rupees{portfolio="p1"}')).toBe(-500));
    expect(await sample(metrics, 'troupe_risk_daily_loss_used_ratio{portfolio="p1"}')).toBe(0.5);
    expect(await sample(metrics, 'troupe_risk_kill_switch_engaged')).toBe(0);

    // ₹1,390: −₹1,100, past the limit: the kill switch trips (it pauses the strategy)
    system.tell(ref, { type: 'Marks', ticks: [tick({ ltpPaise: 139_000 })] });
    expect(await strategy.expectMessage()).toEqual({ type: 'Pause' });
    expect(await sample(metrics, 'troupe_risk_kill_switch_engaged')).toBe(1);
    expect(await sample(metrics, 'troupe_trading_halted{reason="kill-switch"}')).toBe(1);
    expect(await sample(metrics, 'troupe_risk_daily_loss_used_ratio{portfolio="p1"}')).toBeCloseTo(1.1, 10);

    // an operator re-arms; the next day the loss starts from zero again
    const armed = createProbe<boolean>(system);
    system.tell(ref, { type: 'ResetKillSwitch', requestedBy: 'ops', replyTo: armed.ref });
    expect(await armed.expectMessage()).toBe(true);
    expect(await sample(metrics, 'troupe_risk_kill_switch_engaged')).toBe(0);
    expect(await sample(metrics, 'troupe_trading_halted{reason="kill-switch"}')).toBe(0);
    system.tell(ref, { type: 'StartDay' });
    await eventually(async () => expect(await sample(metrics, 'troupe_risk_day_pnl_rupees{portfolio="p1"}')).toBe(0));
    expect(await sample(metrics, 'troupe_risk_daily_loss_used_ratio{portfolio="p1"}')).toBe(0);
  });
});

describe('runtime gauges', () => {
  it('market open follows the NSE calendar on the market clock', async () => {
    const clock = new ManualClock(0);
    const runtime = new Runtime({ instruments: [instrument()], strategies: [], portfolio: { portfolioId: 'paper', initialCashPaise: 1_000_000 }, clock });
    const open = (): Promise<number> => sample(runtime.metrics, 'troupe_market_open');
    // the dates and hours below are NSE's published ones (09:15–15:30 IST), not computed by the code under test
    clock.advanceTo(Date.parse('2026-01-23T03:44:00Z')); // Friday 09:14 IST: pre-open
    expect(await open()).toBe(0);
    clock.advanceTo(Date.parse('2026-01-23T03:45:00Z')); // 09:15 IST
    expect(await open()).toBe(1);
    clock.advanceTo(Date.parse('2026-01-23T09:59:00Z')); // 15:29 IST
    expect(await open()).toBe(1);
    clock.advanceTo(Date.parse('2026-01-23T10:00:00Z')); // 15:30 IST: closed
    expect(await open()).toBe(0);
    clock.advanceTo(Date.parse('2026-01-24T05:00:00Z')); // Saturday
    expect(await open()).toBe(0);
    clock.advanceTo(Date.parse('2026-01-26T05:00:00Z')); // Monday, Republic Day: an NSE holiday
    expect(await open()).toBe(0);
    clock.advanceTo(Date.parse('2026-01-27T05:00:00Z')); // Tuesday
    expect(await open()).toBe(1);
  });

  it("times each fill from its order's creation on the market clock", async () => {
    const clock = new ManualClock(t0);
    const runtime = new Runtime({
      instruments: [instrument('INFY', 150_000)],
      strategies: [],
      portfolio: { portfolioId: 'paper', initialCashPaise: 100_000_000 },
      clock,
    });
    runtime.start();
    try {
      runtime.offerTicks('INFY', [tick({ ltpPaise: 150_000, exchangeTimeMs: t0 })]);
      await runtime.whenIdle();
      const intent: OrderIntent = {
        type: 'order-intent',
        intentId: 'manual:0',
        strategyId: 'manual',
        portfolioId: 'paper',
        symbol: 'INFY',
        side: 'BUY',
        quantity: 1,
        orderType: 'MARKET',
        product: 'MIS',
        validity: 'DAY',
        createdAtMs: t0,
      };
      runtime.system.tell(runtime.directory.requireExecution(), { type: 'PlaceOrder', order: newOrder(intent, clientOrderIdFor('manual', 0), t0) });
      await runtime.whenIdle();
      // the next tick, 2.5 s of market time later, fills it
      clock.advanceTo(t0 + 2_500);
      runtime.offerTicks('INFY', [tick({ ltpPaise: 150_100, exchangeTimeMs: t0 + 2_500 })]);
      await eventually(async () => expect(await sample(runtime.metrics, 'troupe_order_time_to_fill_seconds_count')).toBe(1));
      expect(await sample(runtime.metrics, 'troupe_order_time_to_fill_seconds_sum')).toBe(2.5);
      expect(await sample(runtime.metrics, 'troupe_order_time_to_fill_seconds_bucket{le="2"}')).toBe(0);
      expect(await sample(runtime.metrics, 'troupe_order_time_to_fill_seconds_bucket{le="5"}')).toBe(1);
    } finally {
      await runtime.stop();
    }
  });
});

describe('host gauges', () => {
  it("report the host's CPUs, memory and the data directory's file system as the OS does", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-host-metrics-'));
    try {
      const metrics = new Metrics({ defaultMetrics: false });
      expect((await metrics.text()).match(/^troupe_data_dir_available_bytes\{/m)).toBeNull(); // not bound: no sample
      metrics.bindDataDir(dir);
      // oracles: /proc and df, read independently of node:os
      const cpuLines = readFileSync('/proc/stat', 'utf8')
        .split('\n')
        .filter((line) => /^cpu\d+ /.test(line));
      expect(await sample(metrics, 'troupe_host_cpus')).toBe(cpuLines.length);
      const memTotalKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
      expect(await sample(metrics, 'troupe_host_memory_bytes')).toBe(memTotalKb * 1024);
      const available = await sample(metrics, 'troupe_host_memory_available_bytes');
      expect(available).toBeGreaterThan(0);
      expect(available).toBeLessThanOrEqual(memTotalKb * 1024);
      // CPU seconds: what /proc/stat says (USER_HZ = 100 ticks a second), give or take the time between the reads
      const [user, nice, system, idle] = cpuLines
        .map((line) => line.split(/\s+/).slice(1, 5).map(Number))
        .reduce((sum, cpu) => sum.map((value, i) => value + cpu[i]!), [0, 0, 0, 0]);
      expect(Math.abs((await sample(metrics, 'troupe_host_cpu_seconds_total{mode="user"}')) - user! / 100)).toBeLessThan(cpuLines.length * 5);
      expect(Math.abs((await sample(metrics, 'troupe_host_cpu_seconds_total{mode="nice"}')) - nice! / 100)).toBeLessThan(cpuLines.length * 5);
      expect(Math.abs((await sample(metrics, 'troupe_host_cpu_seconds_total{mode="system"}')) - system! / 100)).toBeLessThan(cpuLines.length * 5);
      expect(Math.abs((await sample(metrics, 'troupe_host_cpu_seconds_total{mode="idle"}')) - idle! / 100)).toBeLessThan(cpuLines.length * 5);
      const [dfAvail, dfSize] = execFileSync('df', ['-B1', '--output=avail,size', dir], { encoding: 'utf8' })
        .trim()
        .split('\n')[1]!
        .trim()
        .split(/\s+/)
        .map(Number);
      expect(await sample(metrics, `troupe_data_dir_size_bytes{path="${dir}"}`)).toBe(dfSize);
      // other tests write to the same disk meanwhile
      expect(Math.abs((await sample(metrics, `troupe_data_dir_available_bytes{path="${dir}"}`)) - dfAvail!)).toBeLessThan(256 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
