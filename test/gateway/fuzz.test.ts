import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login, startHarness, type Harness } from './harness.js';

let harness: Harness;
let authorization: string;
beforeAll(async () => {
  harness = await startHarness();
  authorization = (await login(harness.app)).authorization;
  await harness.feed('INFY', [100_000, 100_500]);
});
afterAll(async () => {
  await harness.close();
});

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 80 });
const anyText = fc.oneof(printable, fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }));
const segment = fc.oneof(
  fc.constantFrom('INFY', 'ema', 'paper', 'NOPE', '%00', '..', '%E0%A4%A', 'T0ZDZCWY000000000000', ''),
  printable.map(encodeURIComponent),
);
const path = fc.oneof(
  fc.constantFrom(
    '/api/v1/orders',
    '/api/v1/positions',
    '/api/v1/trades',
    '/api/v1/portfolios',
    '/api/v1/strategies',
    '/api/v1/instruments',
    '/api/v1/metrics',
    '/api/v1/actors',
    '/api/v1/audit',
    '/api/v1/api-keys',
    '/api/v1/users',
    '/api/v1/auth/refresh',
    '/api/v1/auth/logout',
    '/api/v1/auth/password',
    '/api/v1/auth/totp/enroll',
    '/api/v1/auth/totp/confirm',
    '/api/v1/strategy-kinds',
    '/api/v1/kill-switch',
    '/api/v1/health',
    '/api/v1/health/live',
    '/api/v1/health/ready',
    '/metrics',
    '/',
  ),
  segment.map((id) => `/api/v1/orders/${id}`),
  fc
    .tuple(segment, fc.constantFrom('pause', 'resume', 'stop', 'start', ''))
    .map(([id, action]) => `/api/v1/strategies/${id}${action === '' ? '' : `/${action}`}`),
  fc.tuple(segment, fc.constantFrom('disable', 'enable', 'password')).map(([id, action]) => `/api/v1/users/${id}/${action}`),
  segment.map((id) => `/api/v1/portfolios/${id}`),
  segment.map((id) => `/api/v1/instruments/${id}`),
  fc.constant('/api/v1/auth/login'),
  printable.map((text) => `/api/v1/${encodeURIComponent(text)}`),
);
const query = fc.oneof(
  fc.constant(''),
  fc
    .dictionary(
      fc.constantFrom('symbol', 'status', 'strategy', 'limit', 'cursor', 'path', 'action', 'actor', 'token', 'x'),
      fc.oneof(printable, fc.integer().map(String), fc.constantFrom('-1', '0', '1e9', 'NaN', '[]', 'eyJ4IjoxfQ')),
    )
    .map((entries) => `?${new URLSearchParams(entries).toString()}`),
  printable.map((text) => `?${text}`),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        symbol: fc.oneof(fc.constantFrom('INFY', 'TCS', 'NOPE', ''), anyText),
        side: fc.oneof(fc.constantFrom('BUY', 'SELL'), anyText),
        quantity: fc.oneof(fc.integer({ min: -10, max: 20 }), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER), anyText),
        orderType: fc.constantFrom('MARKET', 'LIMIT', 'SL', 'SL-M', 'X'),
        limitPricePaise: fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.double()),
        triggerPricePaise: fc.integer({ min: -5, max: 200_000 }),
        refreshToken: anyText,
        name: anyText,
        role: fc.constantFrom('viewer', 'trader', 'admin', 'root'),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  anyText,
);
const headers = fc.record(
  {
    authorization: fc.oneof(
      fc.constant('use-valid'),
      printable,
      printable.map((text) => `Bearer ${text}`),
    ),
    'x-api-key': fc.oneof(
      printable,
      printable.map((text) => `trp_${text}_${text}`),
    ),
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      '',
    ),
    accept: printable,
  },
  { requiredKeys: [] },
);

describe('gateway fuzz: malformed bodies, headers and query strings', () => {
  it('never answers 5xx and never crashes', async () => {
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'),
        path,
        query,
        headers,
        body,
        async (method, url, qs, rawHeaders, payload) => {
          const sent: Record<string, string> = {};
          for (const [name, value] of Object.entries(rawHeaders))
            if (value !== undefined) sent[name] = name === 'authorization' && value === 'use-valid' ? authorization : value;
          requests += 1;
          const response = await harness.app.inject({
            method,
            url: `${url}${qs}`,
            headers: sent,
            ...(payload === undefined || method === 'GET' || method === 'HEAD' ? {} : { payload }),
          });
          if (response.statusCode >= 500 && !(response.statusCode === 503 && url === '/api/v1/health')) {
            throw new Error(`${method} ${url}${qs} → ${response.statusCode} ${response.body}`);
          }
          if (response.statusCode >= 400 && method !== 'HEAD' && response.headers['content-type']?.toString().includes('json')) {
            const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code).toBe('string');
            expect(typeof parsed.error?.message).toBe('string');
          }
        },
      ),
      { numRuns: 3_000 },
    );
    expect(requests).toBeGreaterThanOrEqual(3_000);
    expect((await harness.app.inject({ url: '/api/v1/health' })).statusCode).toBeLessThan(600);
    expect((await harness.app.inject({ url: '/api/v1/positions', headers: { authorization } })).statusCode).toBe(200);
  }, 60_000);
});
