import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Metrics } from '../../src/observability/metrics.js';
import { REPO_ROOT, run } from '../support/alertmanager-tools.js';
import { promtool as promtoolBinary } from '../support/prometheus-tools.js';

/** The feed alerts (deploy/prometheus/rules/feed.yml) with promtool: syntax, unit tests, and what they refer to. */
interface Rule {
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface RuleTest {
  readonly alert_rule_test?: readonly { readonly alertname: string; readonly exp_alerts: readonly unknown[] }[];
}

const RULES = 'deploy/prometheus/rules/feed.yml';
const TESTS = 'deploy/prometheus/tests/feed.test.yml';
const rules = (parse(readFileSync(join(REPO_ROOT, RULES), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const alerts = rules.filter((rule): rule is Rule & { alert: string } => rule.alert !== undefined);

let promtool: string;
beforeAll(() => {
  promtool = promtoolBinary();
});

describe('feed alert rules', () => {
  it('pass `promtool check rules`', () => {
    const check = run(promtool, ['check', 'rules', RULES]);
    expect(check.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(check.status, check.output).toBe(0);
  });

  it('pass their `promtool test rules` cases', () => {
    const result = run(promtool, ['test', 'rules', TESTS]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });

  it('have a case that fires each alert and one where it stays quiet', () => {
    const cases = (parse(readFileSync(join(REPO_ROOT, TESTS), 'utf8')) as { tests: RuleTest[] }).tests.flatMap((test) => test.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      const mine = cases.filter((entry) => entry.alertname === alert);
      expect(mine.some((entry) => entry.exp_alerts.length > 0), `${alert} never fires in ${TESTS}`).toBe(true);
      expect(mine.some((entry) => entry.exp_alerts.length === 0), `${alert} has no quiet case in ${TESTS}`).toBe(true);
    }
  });

  it('carry a severity the routing knows, a summary, a description and a runbook that exists', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const rule of alerts) {
      expect(['critical', 'warning', 'info'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      expect(rule.annotations?.runbook_url, rule.alert).toBe(`docs/runbooks/${rule.alert}.md`);
      const runbook = join(REPO_ROOT, rule.annotations!.runbook_url!);
      expect(existsSync(runbook), `${runbook} is missing`).toBe(true);
      const text = readFileSync(runbook, 'utf8');
      expect(text.startsWith(`# ${rule.alert}\n`), `${rule.alert}: the runbook's title`).toBe(true);
      for (const section of ['## What it means', '## How to check', '## What to do']) expect(text, `${rule.alert}: ${section}`).toContain(section);
    }
  });

  it('only name metrics that Troupe exports', async () => {
    // the registry's families, with the series names a histogram or summary adds
    const families = (await new Metrics().registry.getMetricsAsJSON()).flatMap((metric) => [metric.name, `${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`]);
    const named = new Set(rules.flatMap((rule) => rule.expr.match(/\btroupe_[a-z0-9_]+/g) ?? []));
    expect(named.size).toBeGreaterThan(0);
    for (const name of named) expect(families, `${name} (in ${RULES}) is not a Troupe metric`).toContain(name);
  });
});
