import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventually } from '../../src/actors/core/index.js';
import { ALERTMANAGER_CONFIG, readRepoFile, run, startAlertmanager, withWebhookReceivers, type ServerProcess } from '../support/alertmanager-tools.js';
import { amtool as amtoolBinary } from '../support/prometheus-tools.js';

/**
 * The shipped Alertmanager config (deploy/alertmanager/alertmanager.yml): amtool's checks,
 * the routing tree per severity, and the inhibition rules and silences on a real Alertmanager.
 */
let amtool: string;
beforeAll(() => {
  amtool = amtoolBinary();
});

describe('alertmanager.yml', () => {
  it('passes `amtool check-config`', () => {
    const check = run(amtool, ['check-config', ALERTMANAGER_CONFIG]);
    expect(check.status, check.output).toBe(0);
    expect(check.output).toContain('SUCCESS');
  });

  it('inhibits only alerts that exist: every alert name in the inhibition rules is one of deploy/prometheus/rules/*.yml', () => {
    const rulesDir = join('deploy', 'prometheus', 'rules');
    const defined = new Set<string>();
    for (const file of readdirSync(rulesDir).filter((name) => name.endsWith('.yml'))) {
      const groups = (parse(readRepoFile(rulesDir, file)) as { groups: { rules: { alert?: string }[] }[] }).groups;
      for (const rule of groups.flatMap((group) => group.rules)) if (rule.alert) defined.add(rule.alert);
    }
    const config = parse(readRepoFile('deploy', 'alertmanager', 'alertmanager.yml')) as { inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[] };
    const named = new Set<string>();
    for (const rule of config.inhibit_rules) {
      for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
        const match = /^alertname(=~|=)"(.*)"$/.exec(matcher);
        if (match) for (const name of match[1] === '=~' ? match[2]!.split('|') : [match[2]!]) named.add(name);
      }
    }
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((name) => !defined.has(name))).toEqual([]);
  });

  // the expected receiver of each label set, as docs/operations/alertmanager.md promises it
  const routes: readonly [labels: string[], receiver: string][] = [
    [['severity=critical', 'alertname=TroupeFeedStalled', 'instance=troupe:8080'], 'pagerduty'],
    [['severity=critical', 'alertname=TroupeKillSwitchEngaged', 'portfolio=paper'], 'pagerduty'],
    [['severity=warning', 'alertname=TroupeSymbolFeedStalled', 'symbol=INFY'], 'slack'],
    [['severity=warning', 'alertname=TroupeTickRateDrop'], 'slack'],
    [['severity=info', 'alertname=TroupeFeedGap', 'feed=kite'], 'email'],
    // no severity, or one the tree does not know: Slack rather than nowhere
    [['alertname=Anything'], 'slack'],
    [['severity=page', 'alertname=Anything'], 'slack'],
  ];
  it.each(routes)('routes %j to %s (`amtool config routes test`)', (labels, receiver) => {
    const result = run(amtool, ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`, `--verify.receivers=${receiver}`, ...labels]);
    expect(result.status, result.output).toBe(0);
    expect(result.output.split('\n')[0]).toBe(receiver);
  });

  it('has the tree the operations guide describes (`amtool config routes show`)', () => {
    const show = run(amtool, ['config', 'routes', 'show', `--config.file=${ALERTMANAGER_CONFIG}`]);
    expect(show.status, show.output).toBe(0);
    const tree = show.output.split('\n').filter((line) => line.includes('receiver:')).map((line) => line.replace(/^[\s│├└─.]+/, '').replace(/\s+/g, ' '));
    expect(tree).toEqual(['default-route receiver: slack', '{severity="critical"} receiver: pagerduty', '{severity="warning"} receiver: slack', '{severity="info"} receiver: email']);
  });
});

interface AlertStatus {
  readonly labels: Record<string, string>;
  readonly status: { readonly state: string; readonly inhibitedBy: readonly string[]; readonly silencedBy: readonly string[] };
}

describe('alertmanager.yml on a real Alertmanager', () => {
  let alertmanager: ServerProcess;
  beforeAll(async () => {
    // the shipped tree and inhibition rules; the receivers point at a port nobody listens on (notifications are not under test here)
    alertmanager = await startAlertmanager(withWebhookReceivers(readRepoFile('deploy', 'alertmanager', 'alertmanager.yml'), 'http://127.0.0.1:9'));
  }, 60_000);
  afterAll(async () => {
    await alertmanager?.stop();
  });

  const post = async (alerts: readonly Record<string, string>[]): Promise<void> => {
    const response = await fetch(`${alertmanager.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((labels) => ({ labels, annotations: { summary: 'test' }, startsAt: new Date().toISOString() }))),
    });
    expect(response.status).toBe(200);
  };
  const statusOf = async (labels: Record<string, string>): Promise<AlertStatus['status'] | undefined> => {
    const all = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as AlertStatus[];
    return all.find((alert) => Object.entries(labels).every(([name, value]) => alert.labels[name] === value) && Object.keys(alert.labels).length === Object.keys(labels).length)?.status;
  };

  // [source, target, whether the target is muted]: the target is another process (instance) where `equal: [instance]` must keep it loud
  const cases: readonly [string, Record<string, string>, Record<string, string>, boolean][] = [
    ['PostgreSQL down mutes the journal failing closed (any process)', { alertname: 'TroupePostgresDown', severity: 'critical', instance: 'db:5432' }, { alertname: 'TroupeJournalFailClosed', severity: 'critical', instance: 'pg-a' }, true],
    ['PostgreSQL down mutes the reject spike that follows', { alertname: 'TroupePostgresDown', severity: 'critical', instance: 'db:5432' }, { alertname: 'TroupeRiskRejectSpike', severity: 'warning', instance: 'pg-b' }, true],
    ['PostgreSQL down mutes a halt for the journal', { alertname: 'TroupePostgresDown', severity: 'critical', instance: 'db:5432' }, { alertname: 'TroupeTradingHaltedLong', severity: 'critical', instance: 'pg-c', reason: 'journal' }, true],
    ['the journal failing closed mutes broker rejects on its process', { alertname: 'TroupeJournalFailClosed', severity: 'critical', instance: 'jr-a' }, { alertname: 'TroupeBrokerRejectRatioHigh', severity: 'warning', instance: 'jr-a' }, true],
    ['… and its halt', { alertname: 'TroupeJournalFailClosed', severity: 'critical', instance: 'jr-a' }, { alertname: 'TroupeTradingHaltedLong', severity: 'critical', instance: 'jr-a', reason: 'journal' }, true],
    ['… but not a halt for another reason', { alertname: 'TroupeJournalFailClosed', severity: 'critical', instance: 'jr-a' }, { alertname: 'TroupeTradingHaltedLong', severity: 'critical', instance: 'jr-a', reason: 'broker-session' }, false],
    ['the kill switch mutes its halt', { alertname: 'TroupeKillSwitchEngaged', severity: 'critical', instance: 'ks-a', portfolio: 'paper' }, { alertname: 'TroupeTradingHaltedLong', severity: 'critical', instance: 'ks-a', reason: 'kill-switch' }, true],
    ['a refused Kite session mutes the feed alerts it causes', { alertname: 'TroupeBrokerSessionRefused', severity: 'critical', instance: 'kt-a' }, { alertname: 'TroupeFeedDisconnected', severity: 'critical', instance: 'kt-a', feed: 'kite' }, true],
    ['… and its halt', { alertname: 'TroupeKiteSessionExpired', severity: 'critical', instance: 'kt-b' }, { alertname: 'TroupeTradingHaltedLong', severity: 'critical', instance: 'kt-b', reason: 'broker-session' }, true],
    ['the kill switch mutes the reject spike on its process', { alertname: 'TroupeKillSwitchEngaged', severity: 'critical', instance: 'ks-a', portfolio: 'paper' }, { alertname: 'TroupeRiskRejectSpike', severity: 'warning', instance: 'ks-a' }, true],
    ['… but not on another process', { alertname: 'TroupeKillSwitchEngaged', severity: 'critical', instance: 'ks-b', portfolio: 'paper' }, { alertname: 'TroupeRiskRejectSpike', severity: 'warning', instance: 'ks-c' }, false],
    ['the whole feed stalled mutes a symbol\'s stall', { alertname: 'TroupeFeedStalled', severity: 'critical', instance: 'fs-a' }, { alertname: 'TroupeSymbolFeedStalled', severity: 'warning', instance: 'fs-a', symbol: 'INFY' }, true],
    ['… and the tick-rate drop', { alertname: 'TroupeFeedStalled', severity: 'critical', instance: 'fs-a' }, { alertname: 'TroupeTickRateDrop', severity: 'warning', instance: 'fs-a' }, true],
    ['… but not on another process', { alertname: 'TroupeFeedStalled', severity: 'critical', instance: 'fs-b' }, { alertname: 'TroupeSymbolFeedStalled', severity: 'warning', instance: 'fs-c', symbol: 'TCS' }, false],
    ['a symbol\'s stall does not mute the whole feed\'s', { alertname: 'TroupeSymbolFeedStalled', severity: 'warning', instance: 'fs-d', symbol: 'TCS' }, { alertname: 'TroupeFeedStalled', severity: 'critical', instance: 'fs-d' }, false],
    ['a disconnected broker feed mutes the stall it causes', { alertname: 'TroupeFeedDisconnected', severity: 'critical', instance: 'fd-a', feed: 'kite' }, { alertname: 'TroupeFeedStalled', severity: 'critical', instance: 'fd-a' }, true],
  ];
  const expectMuting = async (batch: typeof cases): Promise<void> => {
    await post(batch.flatMap(([, source, target]) => [source, target]));
    await eventually(
      async () => {
        for (const [what, , target, muted] of batch) {
          const status = await statusOf(target);
          expect(status, what).toBeDefined();
          expect(status!.inhibitedBy.length > 0, what).toBe(muted);
          expect(status!.state, what).toBe(muted ? 'suppressed' : 'active');
        }
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  };
  it('mutes exactly the consequences its inhibition rules name', async () => {
    // PostgreSQL down mutes its consequences on every process: checked last, once the per-process cases are settled
    await expectMuting(cases.filter(([, source]) => source.alertname !== 'TroupePostgresDown'));
    await expectMuting(cases.filter(([, source]) => source.alertname === 'TroupePostgresDown'));
  });

  it('groups one notification per alert name and symbol', async () => {
    await post([
      { alertname: 'TroupeSymbolFeedStalled', severity: 'warning', instance: 'group-a', symbol: 'WIPRO' },
      { alertname: 'TroupeSymbolFeedStalled', severity: 'warning', instance: 'group-b', symbol: 'WIPRO' },
      { alertname: 'TroupeSymbolFeedStalled', severity: 'warning', instance: 'group-a', symbol: 'HDFCBANK' },
    ]);
    await eventually(
      async () => {
        const groups = (await (await fetch(`${alertmanager.url}/api/v2/alerts/groups`)).json()) as { labels: Record<string, string>; receiver: { name: string }; alerts: { labels: Record<string, string> }[] }[];
        const mine = groups.filter((group) => group.alerts.some((alert) => alert.labels.instance?.startsWith('group-')));
        const summary = mine.map((group) => ({ labels: group.labels, receiver: group.receiver.name, alerts: group.alerts.length })).sort((a, b) => (a.labels.symbol ?? '').localeCompare(b.labels.symbol ?? ''));
        expect(summary).toEqual([
          { labels: { alertname: 'TroupeSymbolFeedStalled', symbol: 'HDFCBANK' }, receiver: 'slack', alerts: 1 },
          { labels: { alertname: 'TroupeSymbolFeedStalled', symbol: 'WIPRO' }, receiver: 'slack', alerts: 2 },
        ]);
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
  });

  it('silences with amtool (add, query, expire)', async () => {
    const target = { alertname: 'TroupeFeedGap', severity: 'info', instance: 'silence-a', feed: 'kite' };
    await post([target]);
    const url = `--alertmanager.url=${alertmanager.url}`;
    const added = run(amtool, ['silence', 'add', url, '--author=ops', '--comment=Kite maintenance window', '--duration=2h', 'alertname=TroupeFeedGap', 'instance=silence-a']);
    expect(added.status, added.output).toBe(0);
    const id = added.output.split('\n').at(-1)!.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(async () => expect((await statusOf(target))?.silencedBy).toEqual([id]), { timeoutMs: 15_000, intervalMs: 100 });
    const query = run(amtool, ['silence', 'query', url, '--quiet', 'alertname=TroupeFeedGap']);
    expect(query.output.split('\n')).toContain(id);
    const expired = run(amtool, ['silence', 'expire', url, id]);
    expect(expired.status, expired.output).toBe(0);
    await eventually(async () => expect((await statusOf(target))?.silencedBy).toEqual([]), { timeoutMs: 15_000, intervalMs: 100 });
  });
});
