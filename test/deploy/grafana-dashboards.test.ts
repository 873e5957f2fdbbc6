/**
 * The provisioned Grafana dashboards (deploy/grafana): every dashboard is sound Grafana JSON
 * (unique panel ids, a grid without overlaps, the provisioned datasource everywhere), and every
 * panel query evaluates against a real Prometheus scraping two real Troupes every second — one
 * paper trading on the synthetic market, one trading through Kite against the simulator (the
 * feed metrics exist only there) — and a real Alertmanager that Prometheus sends its alerts to
 * and scrapes (the Alertmanager row), with each template variable resolved from Prometheus. A
 * query error or a metric name Prometheus does not know fails the test.
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import { eventually } from '../../src/actors/core/index.js';
import { startTroupe, type Running } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { KiteSimulator } from '../../src/sim/index.js';
import { startAlertmanager, type ServerProcess } from '../support/alertmanager-tools.js';
import { startPrometheus, type PrometheusServer } from '../support/prometheus-server.js';
import { promqlMetricNames } from '../support/promql-metric-names.js';
import { usePostgres, useRedis, type PostgresService, type RedisService } from '../support/services.js';
import { API_KEY, API_SECRET, startSimulator } from '../sim/support.js';

const GRAFANA = join(import.meta.dirname, '../../deploy/grafana');
const DASHBOARDS = join(GRAFANA, 'dashboards');

// ------------------------------------------------------------------ the files
interface Target {
  readonly refId?: string;
  readonly expr?: string;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
}
interface GridPos {
  readonly h: number;
  readonly w: number;
  readonly x: number;
  readonly y: number;
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly description?: string;
  readonly gridPos?: GridPos;
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  readonly targets?: readonly Target[];
  readonly fieldConfig?: { readonly defaults?: { readonly unit?: string } };
  readonly panels?: readonly Panel[];
}
interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
  readonly definition?: string;
  readonly regex?: string;
  readonly allValue?: string;
  readonly includeAll?: boolean;
  readonly datasource?: { readonly uid?: string };
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly tags: readonly string[];
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

const dashboards: ReadonlyArray<{ readonly file: string; readonly dashboard: Dashboard }> = readdirSync(DASHBOARDS)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard }));

const datasourceProvisioning = parse(readFileSync(join(GRAFANA, 'provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string; url: string }> };
const dashboardProvisioning = parse(readFileSync(join(GRAFANA, 'provisioning/dashboards/troupe.yml'), 'utf8')) as { providers: Array<{ type: string; options: { path: string } }> };
const DATASOURCE_UID = datasourceProvisioning.datasources[0]!.uid;

/** Every panel, rows' nested panels included. */
const allPanels = (panels: readonly Panel[]): Panel[] => panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
const queryPanels = (dashboard: Dashboard): Panel[] => allPanels(dashboard.panels).filter((panel) => panel.type !== 'row');
const variableQuery = (variable: Variable): string => (typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? variable.definition ?? ''));

/** Grafana's built-in variables, at values a 1 s scrape interval and a short run can answer. */
const BUILT_INS: Readonly<Record<string, string>> = { __rate_interval: '1m', __interval: '15s', __range: '5m', __range_s: '300', __interval_ms: '15000' };

/** Replaces `$name`, `${name}` and `[[name]]`; an unknown variable is an error (`$1` inside a replacement string is left alone). */
function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  const all = { ...BUILT_INS, ...values };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$([A-Za-z_]\w*)/g, (match, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare!;
    const value = all[name];
    if (value === undefined) throw new Error(`unknown template variable ${match} in: ${expr}`);
    return value;
  });
}

/**
 * A value as Grafana interpolates a multi-value or "All" variable into a Prometheus query:
 * regex-escaped, the backslashes doubled for the PromQL string (Grafana's prometheusSpecialRegexEscape).
 */
const escapeRegex = (value: string): string => value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');

describe('the dashboard files', () => {
  it('are the seed\'s five dashboards, provisioned from files with a Prometheus datasource of a fixed uid', () => {
    expect(dashboards.map(({ dashboard }) => dashboard.title).sort()).toEqual(
      ['Troupe / Alert Management', 'Troupe / Business Analytics', 'Troupe / Performance', 'Troupe / System Health', 'Troupe / Trading Activity'].sort(),
    );
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length);
    expect(datasourceProvisioning.datasources).toEqual([expect.objectContaining({ uid: 'troupe-prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    expect(dashboardProvisioning.providers.map((provider) => provider.type)).toEqual(['file']);
    expect(dashboardProvisioning.providers[0]!.options.path).toMatch(/^\//);
  });

  for (const { file, dashboard } of dashboards) {
    it(`${file}: unique panel ids, a grid without overlaps, the provisioned datasource, a unit and a query on every panel`, () => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
      expect(dashboard.uid).toMatch(/^troupe-[a-z-]+$/);
      expect(dashboard.tags).toContain('troupe');
      const panels = allPanels(dashboard.panels);
      const ids = panels.map((panel) => panel.id);
      expect(ids.every((id) => Number.isInteger(id) && id > 0), 'panel ids are positive integers').toBe(true);
      expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
      const problems: string[] = [];
      for (const panel of panels) {
        const where = `panel ${panel.id} "${panel.title}"`;
        const grid = panel.gridPos;
        if (!grid || ![grid.h, grid.w, grid.x, grid.y].every((n) => Number.isInteger(n) && n >= 0) || grid.w < 1 || grid.h < 1 || grid.x + grid.w > 24) {
          problems.push(`${where}: gridPos missing or off the 24-column grid: ${JSON.stringify(grid)}`);
          continue;
        }
        if (panel.type === 'row') continue;
        if (!panel.title || !panel.description) problems.push(`${where}: needs a title and a description`);
        if (panel.datasource?.uid !== DATASOURCE_UID) problems.push(`${where}: datasource ${JSON.stringify(panel.datasource)} is not the provisioned ${DATASOURCE_UID}`);
        if (!panel.fieldConfig?.defaults?.unit) problems.push(`${where}: no unit`);
        const targets = panel.targets ?? [];
        if (targets.length === 0) problems.push(`${where}: no targets`);
        if (new Set(targets.map((target) => target.refId)).size !== targets.length) problems.push(`${where}: refIds repeat`);
        for (const target of targets) {
          if (!target.expr?.trim()) problems.push(`${where} target ${target.refId}: no expr`);
          if (target.datasource?.uid !== DATASOURCE_UID) problems.push(`${where} target ${target.refId}: datasource is not ${DATASOURCE_UID}`);
        }
      }
      // no two panels share a cell
      const placed = panels.filter((panel) => panel.gridPos);
      for (let a = 0; a < placed.length; a += 1) {
        for (let b = a + 1; b < placed.length; b += 1) {
          const p = placed[a]!.gridPos!;
          const q = placed[b]!.gridPos!;
          if (p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h) problems.push(`panels ${placed[a]!.id} and ${placed[b]!.id} overlap`);
        }
      }
      // variables: query variables read the provisioned datasource; every $name used is defined
      const names = new Set(dashboard.templating.list.map((variable) => variable.name));
      for (const variable of dashboard.templating.list) {
        if (variable.type === 'query' && variable.datasource?.uid !== DATASOURCE_UID) problems.push(`variable ${variable.name}: datasource is not ${DATASOURCE_UID}`);
      }
      const values = Object.fromEntries([...names].map((name) => [name, '.*']));
      for (const panel of panels) {
        for (const target of panel.targets ?? []) {
          try {
            substitute(target.expr ?? '', values);
          } catch (error) {
            problems.push(`panel ${panel.id}: ${(error as Error).message}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });
  }
});

// ------------------------------------------------------------------ the live check
/**
 * Metrics whose series appear only after events this test does not cause cheaply (a malformed
 * tick, a tick for an unknown symbol; on an NSE holiday, a Kite order): Troupe must still declare
 * them (`# HELP`/`# TYPE`, seen in Prometheus's `/api/v1/metadata`), and queries on them must evaluate.
 */
const declaredOnly = new Set(['troupe_ticks_rejected_total', 'troupe_ticks_dropped_total']);

const ADMIN = { username: 'ops', password: 'grafana-dashboards-password' };
let postgres: PostgresService;
let redis: RedisService;
let kiteDatabase: { url: string; drop(): Promise<void> };
let sim: KiteSimulator;
let paper: Running;
let kite: Running;
let prometheus: PrometheusServer;
let alertmanager: ServerProcess;
const dataDirs: string[] = [];

/** A second database on the suite's PostgreSQL server, for the Kite-mode Troupe (its own leases and journal). */
async function secondDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `troupe_grafana_kite_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const second = new URL(url);
  second.pathname = `/${name}`;
  return {
    url: second.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-grafana-'));
  dataDirs.push(dir);
  return dir;
};

/**
 * Requests that make the API, auth, risk, order and stream metrics of a running Troupe carry
 * series. Resolves whether risk accepted the small order: a Kite-mode Troupe runs on the wall
 * clock, and on an NSE trading holiday risk refuses every order (`market-holiday`).
 */
async function makeTraffic(troupe: Running): Promise<boolean> {
  const base = `http://127.0.0.1:${troupe.port}`;
  const post = (url: string, body: unknown, authorization?: string): Promise<Response> =>
    fetch(`${base}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
  const login = await post('/api/v1/auth/login', ADMIN);
  expect(login.status).toBe(200);
  const token = ((await login.json()) as { accessToken: string }).accessToken;
  const authorization = `Bearer ${token}`;
  expect((await post('/api/v1/auth/login', { username: 'ghost', password: 'not-the-password' })).status).toBe(401);
  expect((await fetch(`${base}/api/v1/positions`, { headers: { authorization } })).status).toBe(200);
  expect((await fetch(`${base}/api/v1/nothing-here`)).status).toBe(404);
  // an order far over the value limit: risk refuses it (a rejection and a RiskAlert)
  const symbol = [...troupe.runtime.instruments.keys()][0]!;
  const refused = await post('/api/v1/orders', { symbol, side: 'BUY', quantity: 10_000_000 }, authorization);
  expect(refused.status).toBeGreaterThanOrEqual(400);
  // and one it accepts (in Kite mode: a Kite order, its postbacks and polls); CNC, which has no intraday cut-off
  const small = await post('/api/v1/orders', { symbol, side: 'BUY', quantity: 1, product: 'CNC' }, authorization);
  const accepted = small.status === 201;
  if (!accepted) expect({ status: small.status, body: await small.text() }).toEqual({ status: 422, body: expect.stringContaining('market-holiday') as unknown });
  // a strategy that trades on every tick (the demo trades closed minute bars, far below the order-rate
  // limits): its bursts are what risk paces, so the pacing panels have data
  if (troupe.mode === 'paper') {
    const created = await post('/api/v1/strategies', { strategyId: 'busy-ema', kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 3, quantity: 1, source: 'ticks' } }, authorization);
    expect(created.status, await created.clone().text()).toBe(201);
  }
  // a stream client: subscribe, get an event, leave
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/v1/stream?token=${token}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders', 'positions', 'pnl', `quotes:${symbol}`] })));
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'event') resolve();
    });
    socket.once('error', reject);
  });
  socket.close();
  await new Promise((resolve) => socket.once('close', resolve));
  return accepted;
}

describe('every panel query against Prometheus scraping running Troupes', () => {
  beforeAll(async () => {
    // an Alertmanager that keeps what Prometheus sends (one receiver with no integration); an alert
    // counts as active once its group is flushed, after group_wait (default 30 s)
    const alertmanagerConfig = 'route:\n  receiver: keep\n  group_wait: 1s\nreceivers:\n  - name: keep\n';
    [postgres, redis, sim, alertmanager] = await Promise.all([usePostgres(), useRedis(), startSimulator({ ticksPerSecond: 20, heartbeatIntervalMs: 100 }), startAlertmanager(alertmanagerConfig)]);
    const alertmanagerHost = new URL(alertmanager.url).host;
    kiteDatabase = await secondDatabase(postgres.url);
    const common = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password, };
    [paper, kite] = await Promise.all([
      startTroupe(loadConfig({ ...common, DATABASE_URL: postgres.url, REDIS_URL: redis.url, TROUPE_REDIS_KEY_PREFIX: redis.keyPrefix, TROUPE_DATA_DIR: dataDir(), TROUPE_SYMBOLS: '4', TROUPE_MARKET_SPEED: '60' }), silentLogger()),
      startTroupe(
        loadConfig({ ...common, TROUPE_BROKER: 'kite', DATABASE_URL: kiteDatabase.url, TROUPE_DATA_DIR: dataDir(), TROUPE_SYMBOLS: '3', KITE_API_KEY: API_KEY, KITE_API_SECRET: API_SECRET, KITE_REQUEST_TOKEN: sim.admin.createRequestToken(), KITE_ROOT: sim.url, KITE_TICKER_URL: sim.wsUrl, KITE_POLL_MS: '500' }),
        silentLogger(),
      ),
    ]);
    // Prometheus starts while the Troupes trade and take the requests
    const prometheusStarted = startPrometheus({
      jobs: [
        { job: 'troupe', targets: [`127.0.0.1:${paper.port}`, `127.0.0.1:${kite.port}`] },
        { job: 'alertmanager', targets: [alertmanagerHost] },
      ],
      scrapeSelf: true,
      alertmanagers: [alertmanagerHost],
      intervalSec: 1,
      // one alert firing and one pending, so that ALERTS and ALERTS_FOR_STATE exist
      ruleFiles: [
        {
          groups: [
            {
              name: 'grafana-dashboard-test',
              rules: [
                { alert: 'DashboardTestFiring', expr: 'troupe_dead_letters >= 0', labels: { severity: 'info' }, annotations: { summary: 'always fires' } },
                { alert: 'DashboardTestPending', expr: 'troupe_dead_letters >= 0', for: '1h', labels: { severity: 'warning' }, annotations: { summary: 'always pending' } },
              ],
            },
          ],
        },
      ],
    });
    void prometheusStarted.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
    try {
      const [paperAccepted, kiteAccepted] = await Promise.all([makeTraffic(paper), makeTraffic(kite)]);
      expect(paperAccepted, 'the paper market runs on its own trading-day clock').toBe(true);
      // on an NSE holiday (wall clock) the Kite-mode Troupe sends no order, so no broker update can exist
      if (!kiteAccepted) declaredOnly.add('troupe_broker_order_updates_total');
      // orders and fills flow on the paper market (risk paces some of them); the Kite feed is up
      await eventually(async () => {
        expect(await paper.runtime.metrics.text()).toMatch(/^troupe_fills_total [1-9]/m);
        expect(await paper.runtime.metrics.text()).toMatch(/^troupe_risk_paced_intents_total\{kind="(entry|exit)"\} [1-9]/m);
        const kiteText = await kite.runtime.metrics.text();
        expect(kiteText).toMatch(/^troupe_feed_connected\{feed="kite"\} 1$/m);
        if (!declaredOnly.has('troupe_broker_order_updates_total')) expect(kiteText).toMatch(/^troupe_broker_order_updates_total\{source="(postback|poll)"\} [1-9]/m);
      }, { timeoutMs: 30_000, intervalMs: 50 });
    } finally {
      prometheus = await prometheusStarted;
    }
    // two scrapes after the traffic: every series has two samples for rate()
    await Promise.all([prometheus.waitForScrapes('troupe', 2), prometheus.waitForScrapes('prometheus', 2), prometheus.waitForScrapes('alertmanager', 2)]);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await Promise.all([paper?.stop('test over'), kite?.stop('test over')]);
    await sim?.close();
    await kiteDatabase?.drop();
    await Promise.all([postgres?.stop(), redis?.stop()]);
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('every variable has values, every query evaluates, every metric it names exists', async () => {
    const known = new Set(await prometheus.metricNames());
    const declared = new Set(await prometheus.declaredMetrics());
    const errors: string[] = [];
    const unknown = new Set<string>();
    let queries = 0;
    let withData = 0;
    for (const { file, dashboard } of dashboards) {
      // each variable: the "All" value, and the first value Prometheus has for it
      const all: Record<string, string> = {};
      const first: Record<string, string> = {};
      for (const variable of dashboard.templating.list) {
        let values: string[];
        if (variable.type === 'custom') {
          values = variableQuery(variable).split(',').map((value) => value.trim());
        } else {
          const query = substitute(variableQuery(variable), all);
          const match = /^label_values\((?:(.*),\s*)?([A-Za-z_]\w*)\)$/.exec(query.trim());
          if (!match) throw new Error(`${file}: variable ${variable.name}: only label_values(…) queries are checked here: ${query}`);
          for (const name of match[1] === undefined ? [] : promqlMetricNames(match[1])) if (!known.has(name)) unknown.add(`${name} (${file}, variable ${variable.name})`);
          values = [...(await prometheus.labelValues(match[2]!, match[1]))];
          const regex = /^\/(.*)\/([a-z]*)$/.exec(variable.regex ?? '');
          if (regex) {
            const pattern = new RegExp(regex[1]!, regex[2]);
            values = values.flatMap((value) => {
              const hit = pattern.exec(value);
              return hit ? [hit[1] ?? hit[0]] : [];
            });
          }
        }
        expect(values.length, `${file}: variable ${variable.name} has no values`).toBeGreaterThan(0);
        all[variable.name] = variable.includeAll === true ? (variable.allValue ?? '.*') : escapeRegex(values[0]!);
        first[variable.name] = escapeRegex(values[0]!);
      }
      const evaluations = queryPanels(dashboard).flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) =>
          [all, first].map((values) => async () => {
            const expr = substitute(target.expr!, values);
            queries += 1;
            try {
              const answer = await prometheus.query(expr);
              if (Array.isArray(answer.result) && answer.result.length > 0) withData += 1;
            } catch (error) {
              errors.push(`${file} panel ${panel.id} "${panel.title}" ${target.refId}: ${(error as Error).message}\n  ${expr}`);
            }
            for (const name of promqlMetricNames(expr)) {
              if (known.has(name)) continue;
              if (declaredOnly.has(name) && declared.has(name)) continue;
              unknown.add(`${name} (${file} panel ${panel.id} "${panel.title}")`);
            }
          }),
        ),
      );
      // a few queries at a time, as a dashboard's panels load
      for (let start = 0; start < evaluations.length; start += 8) await Promise.all(evaluations.slice(start, start + 8).map((evaluate) => evaluate()));
    }
    // both lists at once, so that one run shows every problem
    expect({ queryErrors: errors, unknownMetrics: [...unknown] }).toEqual({ queryErrors: [], unknownMetrics: [] });
    // most panels show data in a run this short (the rest: restarts, 5xx, alerts that did not happen)
    expect(withData / queries).toBeGreaterThan(0.75);
  }, 90_000); // about 260 queries: 2 s on a quiet machine, 20 s on a crowded one

  it('the headline panels show the running Troupes', async () => {
    const value = async (expr: string): Promise<number> => {
      const answer = await prometheus.query(substitute(expr, { job: 'troupe', instance: '.*', portfolio: '.*', strategy: '.*', symbol: '.*', severity: '.*' }));
      const sample = Array.isArray(answer.result) ? (answer.result[0] as { value?: [number, string] } | undefined) : undefined;
      return Number(sample?.value?.[1] ?? Number.NaN);
    };
    const targetOf = (uid: string, title: string): string => {
      const dashboard = dashboards.find((entry) => entry.dashboard.uid === uid)!.dashboard;
      const panel = queryPanels(dashboard).find((entry) => entry.title === title);
      if (!panel) throw new Error(`${uid} has no panel "${title}"`);
      return panel.targets![0]!.expr!;
    };
    expect(await value(targetOf('troupe-trading-activity', 'Fills'))).toBeGreaterThan(0);
    expect(await value(targetOf('troupe-system-health', 'Targets up'))).toBe(2);
    expect(await value(targetOf('troupe-system-health', 'Journal (PostgreSQL)'))).toBe(1);
    expect(await value(targetOf('troupe-business-analytics', 'Equity'))).toBeGreaterThan(0);
    expect(await value(targetOf('troupe-alert-management', 'Firing'))).toBeGreaterThanOrEqual(1);
    expect(await value(targetOf('troupe-alert-management', 'Pending'))).toBeGreaterThanOrEqual(1);
    // the always-firing alert reaches Alertmanager, and its count reaches Prometheus on a later scrape
    await eventually(async () => expect(await value(targetOf('troupe-alert-management', 'Alertmanager active alerts'))).toBeGreaterThanOrEqual(1), { timeoutMs: 30_000, intervalMs: 200 });
  });
});
