import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { readRepoFile, REPO_ROOT, RULES_DIR, ServerProcess, startAlertmanager, WebhookReceiver, withWebhookReceivers } from '../support/alertmanager-tools.js';
import { prometheusBinary } from '../support/prometheus-tools.js';

/**
 * The alerting chain end to end, every part real: Troupe (`src/main.ts`, paper trading on the
 * synthetic market, embedded store) ← Prometheus (scraping every second, the shipped rules
 * `deploy/prometheus/rules/*.yml`, evaluated every second) → Alertmanager (the shipped routing
 * tree and inhibitions; only the receivers' integrations are swapped for a webhook here, one
 * URL per receiver name) → a local webhook. An admin pauses the feed through the API; the
 * shipped TroupeFeedStalled (no tick for 30 s) must reach the PagerDuty receiver within 60 s.
 */
const ADMIN = { ADMIN_USER: 'ops', ADMIN_PASSWORD: 'alerting-e2e-password' };
const DEADLINE_MS = 60_000;

let troupe: ChildProcess | undefined;
let troupeUrl = '';
let troupeDir = '';
let prometheus: ServerProcess | undefined;
let alertmanager: ServerProcess | undefined;
let webhook: WebhookReceiver | undefined;
const timings: Record<string, number> = {};
const t0 = Date.now();
const mark = (what: string): void => {
  timings[what] = Date.now() - t0;
  process.stdout.write(`alerting e2e: ${what} at +${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
};

async function startTroupe(): Promise<void> {
  troupeDir = mkdtempSync(join(tmpdir(), 'troupe-alerting-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', TROUPE_DATA_DIR: troupeDir, TROUPE_SYMBOLS: '5', ...ADMIN },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  troupe = child;
  const stderr: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        // the process log is ECS JSON: `message`, `server.port`
        const entry = JSON.parse(line) as { message?: string; 'server.port'?: number };
        if (entry.message?.startsWith('Troupe is trading') && entry['server.port']) resolve(entry['server.port']);
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`troupe exited with ${code}: ${stderr.join('')}`)));
  });
  troupeUrl = `http://127.0.0.1:${port}`;
}

async function startPrometheus(alertmanagerUrl: string): Promise<ServerProcess> {
  return ServerProcess.start(
    'prometheus',
    prometheusBinary(),
    (port, dir) => {
      // every shipped rule file (feed.yml and the others), as production loads them
      const config = [
        'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
        `rule_files: ['${join(RULES_DIR, '*.yml')}']`,
        `alerting: { alertmanagers: [ { static_configs: [ { targets: ['${new URL(alertmanagerUrl).host}'] } ] } ] }`,
        `scrape_configs: [ { job_name: troupe, static_configs: [ { targets: ['${new URL(troupeUrl).host}'] } ] } ]`,
      ].join('\n');
      writeFileSync(join(dir, 'prometheus.yml'), config);
      return [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ];
    },
    '/-/ready',
  );
}

async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await response.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  expect(body.status).toBe('success');
  return body.data.result;
}

async function firingInPrometheus(alertname: string): Promise<boolean> {
  const body = (await (await fetch(`${prometheus!.url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
  return body.data.alerts.some((alert) => alert.labels.alertname === alertname && alert.state === 'firing');
}

async function adminToken(): Promise<string> {
  const response = await fetch(`${troupeUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.ADMIN_USER, password: ADMIN.ADMIN_PASSWORD }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

async function setFeedPaused(token: string, paused: boolean): Promise<{ paused: boolean; pausable: boolean }> {
  const response = await fetch(`${troupeUrl}/api/v1/market/feed`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ paused }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { paused: boolean; pausable: boolean };
}

beforeAll(async () => {
  webhook = await WebhookReceiver.start();
  // the shipped routing tree, grouping, timings and inhibitions; each receiver's integrations become `${webhook}/<receiver name>`
  [alertmanager] = await Promise.all([
    startAlertmanager(withWebhookReceivers(readRepoFile('deploy', 'alertmanager', 'alertmanager.yml'), webhook.url)),
    startTroupe(),
  ]);
  mark('Troupe and Alertmanager up');
  prometheus = await startPrometheus(alertmanager.url);
  mark('Prometheus up');
}, 180_000);

afterAll(async () => {
  if (troupe && troupe.exitCode === null && troupe.signalCode === null) {
    const exited = once(troupe, 'exit');
    troupe.kill('SIGTERM');
    const timer = setTimeout(() => troupe?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await prometheus?.stop();
  await alertmanager?.stop();
  await webhook?.close();
  if (troupeDir) rmSync(troupeDir, { recursive: true, force: true });
  process.stdout.write(`alerting e2e timings (ms since the file started): ${JSON.stringify(timings)}\n`);
}, 60_000);

describe('alerting end to end', () => {
  it('pages the PagerDuty receiver within 60 s of the feed stopping, and goes quiet when it resumes', async () => {
    // Prometheus sees a ticking, open market and no stalled-feed alert
    await eventually(
      async () => {
        expect(await query('troupe_market_open')).toMatchObject([{ value: [expect.any(Number), '1'] }]);
        const age = await query('time() - max(troupe_symbol_last_tick_timestamp_seconds)');
        expect(Number(age[0]?.value[1])).toBeLessThan(5);
        expect(await query('count(troupe_symbol_last_tick_timestamp_seconds)')).toMatchObject([{ value: [expect.any(Number), '5'] }]);
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(await firingInPrometheus('TroupeFeedStalled')).toBe(false);
    mark('scraped: market open, ticking');

    const token = await adminToken();
    expect(await setFeedPaused(token, true)).toMatchObject({ paused: true, pausable: true });
    const pausedAt = Date.now();
    mark('feed paused');

    let firingAt: number | undefined;
    const notification = await eventually(
      async () => {
        if (firingAt === undefined && (await firingInPrometheus('TroupeFeedStalled'))) {
          firingAt = Date.now();
          mark('TroupeFeedStalled firing in Prometheus');
        }
        const found = webhook!.notifications.find(
          (entry) => entry.body.status === 'firing' && entry.body.alerts.some((alert) => alert.labels.alertname === 'TroupeFeedStalled'),
        );
        expect(found, 'no TroupeFeedStalled notification yet').toBeDefined();
        return found!;
      },
      { timeoutMs: DEADLINE_MS, intervalMs: 250 },
    );
    mark('TroupeFeedStalled at the webhook');
    const pageMs = notification.receivedAtMs - pausedAt;
    process.stdout.write(
      `alerting e2e: pause → firing in Prometheus ${firingAt === undefined ? '?' : ((firingAt - pausedAt) / 1000).toFixed(1)} s, pause → webhook ${(pageMs / 1000).toFixed(1)} s (deadline ${DEADLINE_MS / 1000} s)\n`,
    );
    expect(pageMs).toBeLessThan(DEADLINE_MS);
    // routed by severity=critical to the PagerDuty receiver (its webhook path and the payload's receiver name)
    expect(notification.path).toBe('/pagerduty');
    expect(notification.body.receiver).toBe('pagerduty');
    const alert = notification.body.alerts.find((entry) => entry.labels.alertname === 'TroupeFeedStalled')!;
    expect(alert.labels).toMatchObject({ severity: 'critical', job: 'troupe', instance: new URL(troupeUrl).host });
    expect(alert.annotations.runbook_url).toBe('docs/runbooks/TroupeFeedStalled.md');
    expect(alert.annotations.summary).toMatch(/^Market data stalled on 127\.0\.0\.1:\d+: no tick for [\d.]+s$/);
    // nothing of it went to the other receivers
    expect(
      webhook!.notifications.filter((entry) => entry.path !== '/pagerduty' && entry.body.alerts.some((a) => a.labels.alertname === 'TroupeFeedStalled')),
    ).toEqual([]);

    // the pause is audited under the admin's name
    const audit = (await (await fetch(`${troupeUrl}/api/v1/audit?action=market.feed.pause`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      items: { actor: string; outcome: string }[];
    };
    expect(audit.items).toMatchObject([{ actor: `user:${ADMIN.ADMIN_USER}`, outcome: 'ok' }]);

    // resume: ticks flow again and Prometheus stops firing
    expect(await setFeedPaused(token, false)).toMatchObject({ paused: false });
    await eventually(async () => expect(await firingInPrometheus('TroupeFeedStalled')).toBe(false), { timeoutMs: 15_000, intervalMs: 250 });
    mark('feed resumed, TroupeFeedStalled resolved in Prometheus');
  }, 150_000);
});
