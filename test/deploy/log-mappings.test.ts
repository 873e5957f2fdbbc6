import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { allLogFields } from '../../src/observability/log-fields.js';
import { createLogger } from '../../src/observability/logger.js';
import { login, startHarness, type Harness } from '../gateway/harness.js';

/**
 * Real log lines from the real logger through real code paths (orders placed and filled, a risk
 * rejection, an actor crash with a stack, gateway requests), checked field by field against
 * deploy/elasticsearch/index-template.json; and the ILM policy and the Filebeat input that go with it.
 */

interface Mapping {
  readonly type?: string;
  readonly dynamic?: string | boolean;
  readonly properties?: Readonly<Record<string, Mapping>>;
}
interface IndexTemplate {
  readonly index_patterns: readonly string[];
  readonly data_stream?: object;
  readonly template: { readonly settings: Readonly<Record<string, unknown>>; readonly mappings: Mapping };
}
interface IlmPolicy {
  readonly policy: { readonly phases: Readonly<Record<string, { readonly min_age?: string; readonly actions: Readonly<Record<string, Readonly<Record<string, unknown>>>> }>> };
}

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const template = JSON.parse(read('deploy/elasticsearch/index-template.json')) as IndexTemplate;
const policy = JSON.parse(read('deploy/elasticsearch/ilm-policy.json')) as IlmPolicy;
const filebeatText = read('deploy/filebeat/filebeat.yml');

/** The mapping of a dotted field, walking `properties` (undefined: not mapped). */
function mappingOf(path: readonly string[], node: Mapping = template.template.mappings): Mapping | undefined {
  let current: Mapping | undefined = node;
  for (const part of path) {
    current = current?.properties?.[part];
    if (current === undefined) return undefined;
  }
  return current;
}

/** Problems of one value against one mapped type, decided here (not by the code under test). */
function typeProblem(type: string, value: unknown): string | undefined {
  const values = Array.isArray(value) ? value : [value];
  for (const item of values) {
    switch (type) {
      case 'keyword':
      case 'match_only_text':
      case 'text':
        if (typeof item !== 'string') return `a ${type} needs a string, got ${JSON.stringify(item)}`;
        break;
      case 'long':
        if (typeof item !== 'number' || !Number.isInteger(item) || Math.abs(item) > 2 ** 63) return `a long needs an integer, got ${JSON.stringify(item)}`;
        break;
      case 'boolean':
        if (typeof item !== 'boolean') return `a boolean needs true or false, got ${JSON.stringify(item)}`;
        break;
      case 'date':
        // strict_date_optional_time: the ISO form pino writes, and it must name a real instant
        if (typeof item !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(item) || Number.isNaN(new Date(item).getTime())) return `a date needs an ISO 8601 instant, got ${JSON.stringify(item)}`;
        break;
      case 'ip':
        if (typeof item !== 'string' || isIP(item) === 0) return `an ip needs an IPv4 or IPv6 address, got ${JSON.stringify(item)}`;
        break;
      case 'flattened':
        if (typeof item !== 'object' || item === null) return `a flattened field needs an object, got ${JSON.stringify(item)}`;
        break;
      default:
        return `unexpected mapping type ${type}`;
    }
  }
  return undefined;
}

/**
 * Every leaf of a log line against the template, the way Elasticsearch reads it: a dotted key is
 * a path of objects; a value under a `flattened` field is taken whole; an object value under an
 * object mapping is walked.
 */
function lineProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const visit = (path: string[], value: unknown): void => {
    // the deepest mapped prefix decides: a flattened field takes everything under it
    for (let i = 1; i <= path.length; i += 1) {
      const prefix = mappingOf(path.slice(0, i));
      if (prefix?.type === 'flattened') {
        const rest = path.slice(i);
        let whole: unknown = value;
        for (const key of [...rest].reverse()) whole = { [key]: whole };
        const problem = typeProblem('flattened', rest.length === 0 ? value : whole);
        if (problem) problems.push(`${path.join('.')}: ${problem}`);
        return;
      }
    }
    const mapping = mappingOf(path);
    if (mapping === undefined) {
      problems.push(`${path.join('.')}: not in the index template`);
      return;
    }
    if (mapping.type === undefined) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) problems.push(`${path.join('.')}: an object is mapped, got ${JSON.stringify(value)}`);
      else for (const [key, inner] of Object.entries(value)) visit([...path, ...key.split('.')], inner);
      return;
    }
    const problem = typeProblem(mapping.type, value);
    if (problem) problems.push(`${path.join('.')}: ${problem}`);
  };
  for (const [key, value] of Object.entries(line)) visit(key.split('.'), value);
  return problems;
}

const lines: Record<string, unknown>[] = [];
let harness: Harness;

beforeAll(async () => {
  const log = createLogger('debug', { write: (chunk: string) => void lines.push(...chunk.split('\n').filter(Boolean).map((text) => JSON.parse(text) as Record<string, unknown>)) });
  harness = await startHarness({ accessLog: true }, { logger: log }, { logger: log });
  const { app, feed } = harness;
  // the strategy trades INFY (orders placed and filled); a person orders TCS through the API,
  // once within the limits and once far beyond them (a risk rejection); an admin crashes an actor
  await feed('INFY', [100_000, 99_000, 98_000, 97_000, 96_000, 95_000, 100_000, 106_000, 112_000]);
  await feed('TCS', [100_000, 100_100]);
  const { authorization } = await login(app);
  expect((await app.inject({ method: 'POST', url: '/api/v1/orders', headers: { authorization }, payload: { symbol: 'TCS', side: 'BUY', quantity: 3 } })).statusCode).toBeLessThan(300);
  await app.inject({ method: 'POST', url: '/api/v1/orders', headers: { authorization }, payload: { symbol: 'TCS', side: 'BUY', quantity: 5_000_000 } });
  await feed('TCS', [100_200, 100_300]);
  expect((await app.inject({ method: 'POST', url: '/api/v1/actors/fault?path=/market/TCS', headers: { authorization } })).statusCode).toBe(202);
  await app.inject({ url: '/api/v1/nothing-here?token=secret' });
  await harness.runtime.whenIdle();
}, 60_000);

afterAll(async () => {
  await harness?.close();
});

const find = (message: string, where: (line: Record<string, unknown>) => boolean = () => true): Record<string, unknown> | undefined => lines.find((line) => line.message === message && where(line));

describe('log lines against the Elasticsearch index template', () => {
  it('every field of every line is mapped with a compatible type', () => {
    expect(lines.length).toBeGreaterThanOrEqual(10);
    const problems = lines.flatMap((line) => lineProblems(line).map((problem) => `${String(line.message)}: ${problem}`));
    expect(problems).toEqual([]);
  });

  it('the lines are in ECS names, with the ids of orders, fills, rejections, errors and requests', () => {
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(expect.arrayContaining(['@timestamp', 'log.level', 'message', 'ecs.version', 'service.name', 'service.version', 'process.pid', 'host.hostname', 'event.dataset']));
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(line['log.level']);
      expect(line).not.toHaveProperty('msg');
      expect(line).not.toHaveProperty('level');
    }
    const placed = find('order placed', (line) => line['troupe.strategy_id'] === 'ema');
    expect(placed).toMatchObject({ 'event.dataset': 'troupe.orders', 'troupe.symbol': 'INFY', 'troupe.portfolio_id': 'paper', 'troupe.side': 'BUY' });
    expect(placed?.['trace.id']).toBe(placed?.['troupe.intent_id']);
    expect(placed?.['troupe.client_order_id']).toMatch(/^T[0-9A-Z]{19}$/);
    // the fill of that order carries the same trace
    const filled = find('order filled', (line) => line['troupe.client_order_id'] === placed?.['troupe.client_order_id']);
    expect(filled).toMatchObject({ 'trace.id': placed?.['trace.id'], 'event.dataset': 'troupe.orders' });
    expect(filled?.['troupe.fill_id']).toEqual(expect.any(String));
    expect(filled?.['troupe.price_paise']).toEqual(expect.any(Number));
    const manual = find('order placed', (line) => line['troupe.symbol'] === 'TCS');
    expect(manual?.['troupe.intent_id']).toMatch(/^manual:/);
    const rejected = find('intent rejected by risk');
    expect(rejected).toMatchObject({ 'event.dataset': 'troupe.orders', 'troupe.symbol': 'TCS', 'troupe.quantity': 5_000_000, 'troupe.code': expect.any(String) as string, 'troupe.reason': expect.any(String) as string });
    expect(rejected?.['trace.id']).toBe(rejected?.['troupe.intent_id']);
    const crashed = find('actor failed');
    expect(crashed).toMatchObject({ 'log.level': 'error', 'troupe.actor': '/market/TCS', 'error.type': expect.any(String) as string });
    expect(crashed?.['error.stack_trace']).toMatch(/\n\s+at /);
    // one trace id per request, on the request's own lines; the query string is not logged
    const access = lines.filter((line) => line['event.dataset'] === 'troupe.access');
    expect(access.length).toBeGreaterThanOrEqual(5);
    const traces = access.map((line) => line['trace.id']);
    for (const trace of traces) expect(trace).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(traces).size).toBe(traces.length);
    expect(access.find((line) => line['url.path'] === '/api/v1/nothing-here')).toMatchObject({ 'http.request.method': 'GET', 'http.response.status_code': 404, 'event.duration': expect.any(Number) as number, 'log.level': 'info' });
    expect(JSON.stringify(lines)).not.toContain('token=secret');
  });

  it('the check itself finds an unmapped field and a type that does not fit', () => {
    expect(lineProblems({ '@timestamp': '2026-05-20T04:00:00.000Z', 'troupe.context.anything': { deep: [1, 'a'] }, 'log.level': 'info' })).toEqual([]);
    expect(lineProblems({ 'troupe.surprise': 'x', 'troupe.quantity': 1.5, '@timestamp': 'yesterday', 'client.ip': 'nowhere', trace: { id: 7 } })).toEqual([
      'troupe.surprise: not in the index template',
      'troupe.quantity: a long needs an integer, got 1.5',
      '@timestamp: a date needs an ISO 8601 instant, got "yesterday"',
      'client.ip: an ip needs an IPv4 or IPv6 address, got "nowhere"',
      'trace.id: a keyword needs a string, got 7',
    ]);
  });

  it('maps every field the logger can write, with the type the logger writes', () => {
    for (const [name, type] of allLogFields()) expect(mappingOf(name.split('.'))?.type, name).toBe(type);
    // troupe.* is strict: the logger writes nothing there that is not mapped
    expect(mappingOf(['troupe'])?.dynamic).toBe('strict');
    expect(mappingOf(['troupe', 'context'])?.type).toBe('flattened');
  });
});

describe('the lifecycle and the shipper', () => {
  const days = (age: string | undefined): number => {
    const match = /^(\d+)(d|h|m|s|ms)$/.exec(age ?? '');
    if (!match) throw new Error(`not an Elasticsearch time value: ${String(age)}`);
    const perDay = { d: 1, h: 24, m: 24 * 60, s: 86_400, ms: 86_400_000 }[match[2] as 'd' | 'h' | 'm' | 's' | 'ms'];
    return Number(match[1]) / perDay;
  };

  it('the ILM policy rolls over in the hot phase and deletes 90 days later; the template uses it', () => {
    const { phases } = policy.policy;
    expect(Object.keys(phases).sort()).toEqual(['delete', 'hot']);
    expect(phases.hot?.actions.rollover).toMatchObject({ max_age: expect.any(String) as string, max_primary_shard_size: expect.any(String) as string });
    expect(days(phases.delete?.min_age)).toBe(90);
    expect(phases.delete?.actions).toEqual({ delete: {} });
    expect(template.template.settings['index.lifecycle.name']).toBe('troupe-logs');
    expect(template.data_stream).toEqual({});
    // the load commands put the policy under the name the template refers to
    expect(filebeatText).toContain('_ilm/policy/troupe-logs" -H \'content-type: application/json\' -d @deploy/elasticsearch/ilm-policy.json');
    expect(filebeatText).toContain('_index_template/troupe-logs" -H \'content-type: application/json\' -d @deploy/elasticsearch/index-template.json');
  });

  it('Filebeat reads the rotated files as ndjson into the template\'s data stream', () => {
    const config = parseYaml(filebeatText) as {
      'filebeat.inputs': { type: string; id: string; paths: string[]; parsers: { ndjson?: Record<string, unknown> }[] }[];
      'output.elasticsearch': { index: string };
      'setup.template.enabled': boolean;
      'setup.ilm.enabled': boolean;
    };
    const [input] = config['filebeat.inputs'];
    expect(input).toMatchObject({ type: 'filestream', id: 'troupe-log' });
    expect(input?.parsers).toContainEqual({ ndjson: { target: '', overwrite_keys: true, expand_keys: true, add_error_key: true, message_key: 'message' } });
    // the glob takes pino-roll's numbered files and leaves the current.log link out (no line twice)
    const glob = input!.paths[0]!.replace(/^\$\{TROUPE_LOG_DIR:([^}]+)\}/, '$1');
    const pattern = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    expect(pattern.test('/var/log/troupe/troupe.1.log')).toBe(true);
    expect(pattern.test('/var/log/troupe/troupe.12.log')).toBe(true);
    expect(pattern.test('/var/log/troupe/current.log')).toBe(false);
    const index = config['output.elasticsearch'].index;
    const patterns = template.index_patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
    expect(patterns.some((p) => p.test(index))).toBe(true);
    expect(config['setup.template.enabled']).toBe(false);
    expect(config['setup.ilm.enabled']).toBe(false);
  });
});
