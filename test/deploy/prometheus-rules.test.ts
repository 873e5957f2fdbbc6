/**
 * deploy/prometheus: the configuration passes `promtool check config`, the alert rules pass
 * `promtool check rules` and their unit tests (`promtool test rules`), every alert carries the
 * labels and annotations Alertmanager and the on-call need (severity, summary, description, a
 * runbook that exists), every alert has a test case where it fires and one where it stays
 * quiet, and every metric a rule reads is one a running Troupe exports on /metrics.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startupExposition } from '../gateway/harness.js';
import { prometheusBinary, promtool } from '../support/prometheus-tools.js';

const run = promisify(execFile);
const DIR = 'deploy/prometheus';
const RULES = join(DIR, 'rules');
const TESTS = join(DIR, 'tests');

interface AlertRule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}
interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly AlertRule[] }[];
}
interface RuleTestFile {
  readonly rule_files: readonly string[];
  readonly tests: readonly { readonly alert_rule_test?: readonly { readonly alertname: string; readonly exp_alerts?: readonly unknown[] | null }[] }[];
}

const yamlFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.endsWith('.yml')).sort().map((name) => join(dir, name));
const ruleFiles = yamlFiles(RULES);
const testFiles = yamlFiles(TESTS);
const rulesOf = (file: string): AlertRule[] => (parse(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((group) => group.rules);
const alerts = ruleFiles.flatMap((file) => rulesOf(file).filter((rule) => rule.alert !== undefined).map((rule) => ({ file, rule, name: rule.alert! })));

let bin: string;
beforeAll(() => {
  bin = promtool();
});

/** Runs promtool; resolves with its output, rejects with it (and the exit code) on failure. */
async function promtoolRun(args: readonly string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(bin, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; code?: number };
    throw new Error(`promtool ${args.join(' ')} failed (exit ${failed.code}):\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

describe('deploy/prometheus with promtool', () => {
  let layout: string;
  beforeAll(() => {
    // the layout of /etc/prometheus in a deployment: the config, rules/, and the metrics token file it reads
    layout = mkdtempSync(join(tmpdir(), 'troupe-prometheus-'));
    cpSync(DIR, layout, { recursive: true });
    mkdirSync(join(layout, 'secrets'));
    writeFileSync(join(layout, 'secrets', 'troupe-metrics-token'), 'a-metrics-token\n', { mode: 0o600 });
  });
  afterAll(() => rmSync(layout, { recursive: true, force: true }));

  it('prometheus.yml passes `promtool check config` (scrape every 15 s, rules, Alertmanager)', async () => {
    const output = await promtoolRun(['check', 'config', join(layout, 'prometheus.yml')]);
    expect(output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
    const config = parse(readFileSync(join(DIR, 'prometheus.yml'), 'utf8')) as {
      global: { scrape_interval: string };
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; metrics_path?: string; authorization?: { type: string; credentials_file: string }; static_configs: { targets: string[] }[] }[];
    };
    expect(config.global.scrape_interval).toBe('15s');
    expect(config.rule_files).toEqual(['rules/*.yml']);
    expect(config.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['alertmanager:9093']);
    const troupe = config.scrape_configs.find((job) => job.job_name === 'troupe');
    expect(troupe).toMatchObject({ metrics_path: '/metrics', authorization: { type: 'Bearer', credentials_file: 'secrets/troupe-metrics-token' } });
  });

  it('the server flags keep 30 days and are flags this Prometheus knows', async () => {
    const flags = readFileSync(join(DIR, 'prometheus.args'), 'utf8').split('\n').filter((line) => line.trim() !== '');
    expect(flags).toContain('--storage.tsdb.retention.time=30d');
    const help = await run(prometheusBinary(), ['--help'], { encoding: 'utf8' }).then(
      ({ stdout, stderr }) => `${stdout}${stderr}`,
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    for (const flag of flags) expect(help, `prometheus --help lists ${flag}`).toContain(flag.split('=')[0]!);
  });

  it('the rules pass `promtool check rules` and every unit test passes `promtool test rules`', async () => {
    const [check, ...tests] = await Promise.all([promtoolRun(['check', 'rules', ...ruleFiles]), ...testFiles.map((file) => promtoolRun(['test', 'rules', file]))]);
    expect(check).not.toMatch(/FAILED/);
    for (const output of tests) expect(output).toMatch(/SUCCESS/);
  });
});

describe('the alert rules', () => {
  it('are 50 or more, one group per file, with unique names', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(50);
    for (const file of ruleFiles) expect((parse(readFileSync(file, 'utf8')) as RuleFile).groups).toHaveLength(1);
    const names = alerts.map((alert) => alert.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  it('each carry a severity, a summary, a description and a runbook that exists', () => {
    for (const { name, rule } of alerts) {
      expect(['critical', 'warning', 'info'], `${name} severity`).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, `${name} summary`).toBeTruthy();
      expect(rule.annotations?.description, `${name} description`).toBeTruthy();
      expect(rule.annotations?.runbook_url, `${name} runbook_url`).toBe(`docs/runbooks/${name}.md`);
      const runbook = readFileSync(`docs/runbooks/${name}.md`, 'utf8');
      expect(runbook.startsWith(`# ${name}\n`), `${name}: the runbook's title`).toBe(true);
      for (const section of ['## What it means', '## How to check', '## What to do']) expect(runbook, `${name}: ${section}`).toContain(section);
    }
  });

  it('each have a test case that fires them and one where they stay quiet', () => {
    const covered = new Set<string>();
    const fires = new Set<string>();
    const quiet = new Set<string>();
    for (const file of testFiles) {
      const spec = parse(readFileSync(file, 'utf8')) as RuleTestFile;
      for (const ruleFile of spec.rule_files) covered.add(join(TESTS, ruleFile));
      for (const test of spec.tests) {
        for (const { alertname, exp_alerts } of test.alert_rule_test ?? []) (exp_alerts && exp_alerts.length > 0 ? fires : quiet).add(alertname);
      }
    }
    expect(ruleFiles.filter((file) => !covered.has(file)), 'rule files without a test file').toEqual([]);
    expect(alerts.map((alert) => alert.name).filter((name) => !fires.has(name)), 'alerts never fired by a test').toEqual([]);
    expect(alerts.map((alert) => alert.name).filter((name) => !quiet.has(name)), 'alerts never tested quiet').toEqual([]);
  });

  it('read only metrics a running Troupe exports on /metrics', async () => {
    // the gateway over a runtime, as `npm start` builds them (default process metrics included)
    const text = await startupExposition();
    const families = new Map<string, string>();
    for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(match[1]!, match[2]!);
    expect(families.size).toBeGreaterThan(50);
    const exported = (name: string): boolean => {
      if (families.has(name)) return true;
      const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
      return base !== undefined && ['histogram', 'summary'].includes(families.get(base) ?? '');
    };
    // made by Prometheus itself for every target, not by Troupe
    const fromPrometheus = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    const missing: string[] = [];
    for (const { name, rule } of alerts) {
      for (const metric of metricNames(rule.expr)) if (!fromPrometheus.has(metric) && !exported(metric)) missing.push(`${name}: ${metric}`);
    }
    expect(missing).toEqual([]);
    // the extraction itself finds what it should (histograms, selectors, `on`/`by` clauses left out)
    expect(metricNames('histogram_quantile(0.99, sum by (job, le) (rate(a_bucket{x="y"}[5m]))) > 1 and on (job) b == 1 or vector(0) unless c offset 5m')).toEqual(['a_bucket', 'b', 'c']);
  });
});

const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** Metric names in a PromQL expression: identifiers that are not functions, keywords, label names or durations. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // range and subquery windows
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+\S+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, identifier, call] = match;
    if (call !== undefined || PROMQL_KEYWORDS.has(identifier!.toLowerCase())) continue;
    const before = stripped[match.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // exponent or unit of a number (1e9, 5m)
    names.add(identifier!);
  }
  return [...names];
}
