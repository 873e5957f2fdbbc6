import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyRecord, AuthStore, RefreshTokenRecord, User } from '../../src/persistence/auth-store.types.js';
import { InMemoryAuthStore } from '../../src/gateway/auth/in-memory-auth-store.js';
import { PostgresAuditStore } from '../../src/persistence/audit-store.js';
import { PostgresAuthStore, UserExistsError } from '../../src/persistence/auth-store.js';
import { PgliteDatabase, PostgresDatabase, type Database } from '../../src/persistence/database.js';
import { migrate } from '../../src/persistence/migrate.js';
import { ADMIN, login, startHarness } from '../gateway/harness.js';
import { usePostgres, type PostgresService } from '../support/services.js';

let pgService: PostgresService;
beforeAll(async () => {
  pgService = await usePostgres();
});
afterAll(async () => {
  await pgService.stop();
});

const T0 = 1_760_000_000_123;
const user = (id: string, username: string, overrides: Partial<User> = {}): User => ({
  id,
  username,
  role: 'trader',
  passwordHash: `scrypt$16384$8$1$salt-${id}$hash-${id}`,
  createdAtMs: T0,
  disabled: false,
  totpSecret: undefined,
  totpEnabled: false,
  tokenVersion: 0,
  ...overrides,
});
const refresh = (id: string, userId: string, familyId: string, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord => ({
  id,
  userId,
  familyId,
  tokenHash: `hash-${id}`,
  expiresAtMs: T0 + 3_600_000,
  revokedAtMs: undefined,
  replacedBy: undefined,
  ...overrides,
});
const key = (id: string, ownerUserId: string, rateLimitPerMinute: number | null | undefined): ApiKeyRecord => ({
  id,
  name: `key ${id}`,
  ownerUserId,
  role: 'viewer',
  keyHash: `sha-${id}`,
  createdAtMs: T0 + 5,
  lastUsedAtMs: undefined,
  revokedAtMs: undefined,
  rateLimitPerMinute,
});

type Kind = 'postgres' | 'pglite' | 'in-memory';

/** The AuthStore contract: every implementation behaves the same. */
describe.each(['postgres', 'pglite', 'in-memory'] as const)('AuthStore contract on %s', (kind: Kind) => {
  let db: Database | undefined;
  let store: AuthStore;

  beforeAll(async () => {
    if (kind === 'in-memory') {
      store = new InMemoryAuthStore();
      return;
    }
    db = kind === 'postgres' ? new PostgresDatabase(pgService.url) : await PgliteDatabase.open('memory://auth-store');
    await migrate(db);
    store = new PostgresAuthStore(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('users: create, find by name and id, list, count; names are unique; TOTP secret and steps', async () => {
    expect(await store.countUsers()).toBe(0);
    await store.createUser(user('u1', 'ana', { role: 'admin' }));
    await store.createUser(user('u2', 'raj'));
    expect(await store.userByName('ana')).toEqual(user('u1', 'ana', { role: 'admin' }));
    expect(await store.userById('u2')).toEqual(user('u2', 'raj'));
    expect(await store.userByName('nobody')).toBeUndefined();
    expect((await store.listUsers()).map((u) => u.username).sort()).toEqual(['ana', 'raj']);
    expect(await store.countUsers()).toBe(2);
    await expect(store.createUser(user('u3', 'ana'))).rejects.toThrow(/exists/);
    if (kind !== 'in-memory') await expect(store.createUser(user('u4', 'raj'))).rejects.toBeInstanceOf(UserExistsError);

    await store.setTotp('u2', 'JBSWY3DPEHPK3PXP', false);
    expect(await store.userById('u2')).toMatchObject({ totpSecret: 'JBSWY3DPEHPK3PXP', totpEnabled: false });
    expect(await store.claimTotpStep('u2', 100)).toBe(true);
    await store.setTotp('u2', 'JBSWY3DPEHPK3PXP', true); // same secret: the used step stays used
    expect(await store.userById('u2')).toMatchObject({ totpEnabled: true });
    expect(await store.claimTotpStep('u2', 100)).toBe(false);
    expect(await store.claimTotpStep('u2', 99)).toBe(false);
    expect(await store.claimTotpStep('u2', 101)).toBe(true);
    await store.setTotp('u2', undefined, false);
    expect(await store.userById('u2')).toMatchObject({ totpSecret: undefined, totpEnabled: false });
    await store.setTotp('u2', 'ANOTHERSECRETAAA', true);
    expect(await store.claimTotpStep('u2', 50)).toBe(true); // a new secret starts afresh
  });

  it('refresh tokens: save, find by hash, revoke one (with its replacement), revoke a family', async () => {
    await store.saveRefreshToken(refresh('r1', 'u1', 'f1'));
    await store.saveRefreshToken(refresh('r2', 'u1', 'f1'));
    await store.saveRefreshToken(refresh('r3', 'u1', 'f2'));
    expect(await store.refreshTokenByHash('hash-r1')).toEqual(refresh('r1', 'u1', 'f1'));
    expect(await store.refreshTokenByHash('nope')).toBeUndefined();
    await store.revokeRefreshToken('r1', T0 + 10, 'r2');
    expect(await store.refreshTokenByHash('hash-r1')).toEqual(refresh('r1', 'u1', 'f1', { revokedAtMs: T0 + 10, replacedBy: 'r2' }));
    await store.revokeRefreshToken('r1', T0 + 99); // the first revocation time stays
    expect((await store.refreshTokenByHash('hash-r1'))?.revokedAtMs).toBe(T0 + 10);
    await store.revokeRefreshFamily('f1', T0 + 20);
    expect((await store.refreshTokenByHash('hash-r2'))?.revokedAtMs).toBe(T0 + 20);
    expect((await store.refreshTokenByHash('hash-r1'))?.revokedAtMs).toBe(T0 + 10);
    expect((await store.refreshTokenByHash('hash-r3'))?.revokedAtMs).toBeUndefined();
  });

  it('rotation claims a live token once; token generations bump; members are set, listed, removed; deleting a user takes their rows along', async () => {
    await store.createUser(user('g1', 'gina'));
    await store.saveRefreshToken(refresh('g-r1', 'g1', 'g-fam'));
    const next = refresh('g-r2', 'g1', 'g-fam');
    const claims = await Promise.all([
      store.rotateRefreshToken('g-r1', T0 + 1, next),
      store.rotateRefreshToken('g-r1', T0 + 1, refresh('g-r3', 'g1', 'g-fam')),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.refreshTokenByHash('hash-g-r1')).toMatchObject({ revokedAtMs: T0 + 1 });
    expect((await store.refreshTokenByHash('hash-g-r2')) ?? (await store.refreshTokenByHash('hash-g-r3'))).toMatchObject({
      familyId: 'g-fam',
      revokedAtMs: undefined,
    });
    expect(await store.rotateRefreshToken('g-r1', T0 + 2, refresh('g-r4', 'g1', 'g-fam'))).toBe(false);
    expect(await store.refreshTokenByHash('hash-g-r4')).toBeUndefined();

    expect(await store.userAuthState('g1')).toEqual({ disabled: false, tokenVersion: 0, role: 'trader' });
    expect(await store.bumpTokenVersion('g1')).toBe(1);
    expect(await store.bumpTokenVersion('g1')).toBe(2);
    expect(await store.bumpTokenVersion('nobody')).toBeUndefined();
    expect(await store.userById('g1')).toMatchObject({ tokenVersion: 2 });

    await store.setPortfolioMember({ portfolioId: 'p1', userId: 'g1', role: 'viewer' });
    await store.setPortfolioMember({ portfolioId: 'p1', userId: 'g1', role: 'trader' });
    await store.setPortfolioMember({ portfolioId: 'p2', userId: 'g1', role: 'owner' });
    expect(await store.membershipsOf('g1')).toEqual([
      { portfolioId: 'p1', userId: 'g1', role: 'trader' },
      { portfolioId: 'p2', userId: 'g1', role: 'owner' },
    ]);
    expect(await store.portfolioMembers('p2')).toEqual([{ portfolioId: 'p2', userId: 'g1', role: 'owner' }]);
    expect(await store.removePortfolioMember('p2', 'g1')).toBe(true);
    expect(await store.removePortfolioMember('p2', 'g1')).toBe(false);

    await store.saveApiKey(key('g-k1', 'g1', undefined));
    expect(await store.deleteUser('g1')).toBe(true);
    expect(await store.deleteUser('g1')).toBe(false);
    expect(await store.userAuthState('g1')).toBeUndefined();
    expect(await store.refreshTokenByHash('hash-g-r1')).toBeUndefined();
    expect(await store.apiKeyForAuth('g-k1')).toBeUndefined();
    expect(await store.membershipsOf('g1')).toEqual([]);
  });

  it('API keys: role default, explicit and lifted limits round-trip; list by owner; touch; revoke', async () => {
    await store.saveApiKey(key('k1', 'u1', undefined));
    await store.saveApiKey(key('k2', 'u1', 250));
    await store.saveApiKey(key('k3', 'u2', null));
    expect(await store.apiKeyById('k1')).toEqual(key('k1', 'u1', undefined));
    expect(await store.apiKeyById('k2')).toEqual(key('k2', 'u1', 250));
    expect(await store.apiKeyById('k3')).toEqual(key('k3', 'u2', null));
    expect((await store.listApiKeys('u1')).map((k) => k.id).sort()).toEqual(['k1', 'k2']);
    expect((await store.listApiKeys()).map((k) => k.id).sort()).toEqual(['k1', 'k2', 'k3']);
    await store.touchApiKey('k1', T0 + 1_000);
    expect((await store.apiKeyById('k1'))?.lastUsedAtMs).toBe(T0 + 1_000);
    await store.revokeApiKey('k1', T0 + 2_000);
    await store.revokeApiKey('k1', T0 + 3_000);
    expect((await store.apiKeyById('k1'))?.revokedAtMs).toBe(T0 + 2_000);
    expect(await store.apiKeyById('missing')).toBeUndefined();
  });
});

describe('the gateway on PGlite keeps users, keys, sessions and the audit trail across restarts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'troupe-gateway-pglite-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("a second gateway on the same database logs in, uses the key and refresh token, and sees the first one's audit entries", async () => {
    const open = async () => {
      const db = await PgliteDatabase.open(dataDir);
      await migrate(db);
      return db;
    };
    let db = await open();
    let harness = await startHarness({}, { authStore: new PostgresAuthStore(db), auditStore: new PostgresAuditStore(db) });
    const admin = await login(harness.app);
    await harness.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin.authorization },
      payload: { username: 'tara', password: 'long-enough-pass-123', role: 'trader' },
    });
    const created = await harness.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: admin.authorization },
      payload: { name: 'ci', role: 'viewer' },
    });
    const { key: apiKey } = created.json<{ key: string }>();
    await harness.close();
    await db.close();

    db = await open();
    harness = await startHarness({ adminPassword: 'a different password' }, { authStore: new PostgresAuthStore(db), auditStore: new PostgresAuditStore(db) });
    try {
      // no second bootstrap: the admin keeps the first password
      await login(harness.app, ADMIN.username, ADMIN.password);
      await login(harness.app, 'tara', 'long-enough-pass-123');
      expect((await harness.app.inject({ url: '/api/v1/strategies', headers: { 'x-api-key': apiKey } })).statusCode).toBe(200);
      const rotated = await harness.app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken: admin.refreshToken } });
      expect(rotated.statusCode).toBe(200);
      const audit = (await harness.app.inject({ url: '/api/v1/audit?limit=500', headers: { 'x-api-key': apiKey } })).statusCode;
      expect(audit).toBe(403); // a viewer key
      const fresh = await login(harness.app);
      const entries = (await harness.app.inject({ url: '/api/v1/audit?limit=500', headers: { authorization: fresh.authorization } })).json<{
        items: { action: string; target?: string; ip: string; seq: number }[];
      }>();
      const actions = entries.items.map((entry) => entry.action);
      expect(actions.filter((action) => action === 'user.create')).toHaveLength(2); // bootstrap + tara, once
      expect(actions).toEqual(expect.arrayContaining(['auth.login', 'api-key.create', 'auth.refresh']));
      expect(entries.items.every((entry) => entry.ip !== '')).toBe(true);
      const seqs = entries.items.map((entry) => entry.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
      // cursor pagination over the table
      const firstPage = (await harness.app.inject({ url: '/api/v1/audit?limit=2', headers: { authorization: fresh.authorization } })).json<{
        items: { seq: number }[];
        nextCursor: string;
      }>();
      const secondPage = (
        await harness.app.inject({ url: `/api/v1/audit?limit=2&cursor=${firstPage.nextCursor}`, headers: { authorization: fresh.authorization } })
      ).json<{ items: { seq: number }[] }>();
      expect(secondPage.items[0]!.seq).toBeLessThan(firstPage.items[1]!.seq);
    } finally {
      await harness.close();
      await db.close();
    }
  });
});
