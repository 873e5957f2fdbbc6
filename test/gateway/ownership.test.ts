import { afterEach, describe, expect, it } from 'vitest';
import { addMember, login, startHarness, type Harness } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type UserRole = 'admin' | 'trader' | 'viewer';
type Standing = 'owner' | 'trader' | 'viewer' | 'none';
type Action =
  | 'portfolio.read'
  | 'orders.list'
  | 'order.read'
  | 'order.place'
  | 'order.cancel'
  | 'strategy.pause'
  | 'strategy.resume'
  | 'strategy.config'
  | 'strategy.create'
  | 'positions.read';

const PASSWORD = 'tangerine-kettle-orbit';
const READS: readonly Action[] = ['portfolio.read', 'orders.list', 'order.read', 'positions.read'];
const ACTS: readonly Action[] = ['order.place', 'order.cancel', 'strategy.pause', 'strategy.resume', 'strategy.config', 'strategy.create'];

/** The rule, written out: admins do everything; others read where they are members and act where they are trading members and traders. */
function expectedAllowed(role: UserRole, standing: Standing, action: Action): boolean {
  if (role === 'admin') return true;
  if (standing === 'none') return false;
  if (READS.includes(action)) return true;
  return role === 'trader' && standing !== 'viewer';
}

const USERS: readonly { readonly username: string; readonly role: UserRole; readonly standing: Standing }[] = [
  { username: 'root', role: 'admin', standing: 'owner' },
  { username: 'ada', role: 'admin', standing: 'none' },
  { username: 'tom', role: 'trader', standing: 'trader' },
  { username: 'tess', role: 'trader', standing: 'owner' },
  { username: 'tim', role: 'trader', standing: 'viewer' },
  { username: 'ted', role: 'trader', standing: 'none' },
  { username: 'val', role: 'viewer', standing: 'viewer' },
  { username: 'vic', role: 'viewer', standing: 'none' },
];

describe('portfolio ownership: role × membership × action, through the HTTP API', () => {
  it('admins act on every portfolio; traders only on theirs; viewers read only theirs; every denial is a 403 forbidden and audited', async () => {
    harness = await startHarness();
    const { app, runtime } = harness;
    await harness.feed('SBIN', [100_000, 100_000]);
    const root = await login(app);
    const tokens = new Map<string, string>([['root', root.authorization]]);
    for (const user of USERS.filter((candidate) => candidate.username !== 'root')) {
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/users',
        headers: { authorization: root.authorization },
        payload: { username: user.username, password: PASSWORD, role: user.role },
      });
      expect(created.statusCode).toBe(201);
      if (user.standing !== 'none') await addMember(app, root.authorization, 'paper', created.json<{ id: string }>().id, user.standing);
      tokens.set(user.username, (await login(app, user.username, PASSWORD)).authorization);
    }
    // the default admin owns the default portfolio
    const members = (await app.inject({ url: '/api/v1/portfolios/paper/members', headers: { authorization: root.authorization } })).json<{
      items: { username: string; role: string }[];
    }>();
    expect(members.items).toEqual(expect.arrayContaining([{ portfolioId: 'paper', userId: expect.any(String) as unknown, username: 'root', role: 'owner' }]));

    /** An open order of the portfolio, placed by the owner, for a read or a cancel to aim at. */
    const openOrder = async (): Promise<string> => {
      const placed = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: { authorization: root.authorization },
        payload: { symbol: 'SBIN', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPricePaise: 90_000 },
      });
      expect(placed.statusCode).toBe(201);
      await runtime.whenIdle();
      return placed.json<{ clientOrderId: string }>().clientOrderId;
    };
    const someOrder = await openOrder();

    /** Performs an action; resolves to whether it was allowed, and the status when refused. */
    const perform = async (username: string, action: Action): Promise<{ allowed: boolean; status: number; body: string }> => {
      const headers = { authorization: tokens.get(username)! };
      const run = async (): Promise<{ statusCode: number; body: string; json: () => unknown }> => {
        switch (action) {
          case 'portfolio.read':
            return app.inject({ url: '/api/v1/portfolios/paper', headers });
          case 'positions.read':
            return app.inject({ url: '/api/v1/positions', headers });
          case 'orders.list':
            return app.inject({ url: '/api/v1/orders', headers });
          case 'order.read':
            return app.inject({ url: `/api/v1/orders/${someOrder}`, headers });
          case 'order.place':
            return app.inject({
              method: 'POST',
              url: '/api/v1/orders',
              headers,
              payload: { symbol: 'SBIN', side: 'BUY', quantity: 1, orderType: 'LIMIT', limitPricePaise: 90_000 },
            });
          case 'order.cancel':
            return app.inject({ method: 'DELETE', url: `/api/v1/orders/${await openOrder()}`, headers });
          case 'strategy.pause':
            return app.inject({ method: 'POST', url: '/api/v1/strategies/ema/pause', headers });
          case 'strategy.resume':
            return app.inject({ method: 'POST', url: '/api/v1/strategies/ema/resume', headers });
          case 'strategy.config':
            return app.inject({ method: 'PATCH', url: '/api/v1/strategies/ema', headers, payload: { config: { quantity: 4 } } });
          case 'strategy.create':
            return app.inject({
              method: 'POST',
              url: '/api/v1/strategies',
              headers,
              payload: { strategyId: `s-${username}`, kind: 'ema-cross', config: { fastPeriod: 2, slowPeriod: 4, quantity: 1, symbols: ['INFY'] } },
            });
        }
      };
      const answer = await run();
      // lists are filtered, not refused: allowed means the portfolio's data is in them
      if (action === 'orders.list') return { allowed: (answer.json() as { items: unknown[] }).items.length > 0, status: answer.statusCode, body: answer.body };
      if (action === 'positions.read')
        return { allowed: (answer.json() as { portfolios: unknown[] }).portfolios.length > 0, status: answer.statusCode, body: answer.body };
      return { allowed: answer.statusCode >= 200 && answer.statusCode < 300, status: answer.statusCode, body: answer.body };
    };

    let denials = 0;
    const table: string[] = [];
    for (const user of USERS) {
      for (const action of [...READS, ...ACTS]) {
        const expected = expectedAllowed(user.role, user.standing, action);
        const outcome = await perform(user.username, action);
        table.push(`${user.role}/${user.standing} ${action}: ${outcome.allowed ? 'allowed' : 'refused'}`);
        expect(outcome.allowed, `${user.username} (${user.role}, ${user.standing}) ${action}: ${outcome.status} ${outcome.body}`).toBe(expected);
        if (!expected && outcome.status !== 200) {
          expect(outcome.status, `${user.username} ${action}`).toBe(403);
          expect(JSON.parse(outcome.body)).toMatchObject({ error: { code: 'forbidden' } });
          denials += 1;
        }
      }
    }
    expect(table).toHaveLength(USERS.length * (READS.length + ACTS.length));

    // every refusal is in the audit log, as denied, with who asked
    const audit = (await app.inject({ url: '/api/v1/audit?limit=500', headers: { authorization: root.authorization } })).json<{
      items: { action: string; outcome: string; actor: string }[];
    }>();
    const denied = audit.items.filter((entry) => entry.outcome === 'denied');
    expect(denied).toHaveLength(denials);
    expect(new Set(denied.map((entry) => entry.actor))).toEqual(new Set(['user:ted', 'user:tim', 'user:val', 'user:vic']));

    // membership comes and goes through the admin API only
    const ted = (await app.inject({ url: '/api/v1/users', headers: { authorization: root.authorization } }))
      .json<{ items: { id: string; username: string }[] }>()
      .items.find((user) => user.username === 'ted')!;
    expect(
      (
        await app.inject({
          method: 'PUT',
          url: `/api/v1/portfolios/paper/members/${ted.id}`,
          headers: { authorization: tokens.get('tess')! },
          payload: { role: 'trader' },
        })
      ).statusCode,
    ).toBe(403);
    await addMember(app, root.authorization, 'paper', ted.id, 'trader');
    expect((await perform('ted', 'strategy.pause')).allowed).toBe(true);
    expect(
      (await app.inject({ method: 'DELETE', url: `/api/v1/portfolios/paper/members/${ted.id}`, headers: { authorization: root.authorization } })).statusCode,
    ).toBe(204);
    expect((await perform('ted', 'strategy.pause')).allowed).toBe(false);
  });
});
