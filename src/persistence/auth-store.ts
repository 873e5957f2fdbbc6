/**
 * The gateway's `AuthStore` on the {@link Database} port (PostgreSQL or PGlite): users
 * (`users`, scrypt hashes, roles, TOTP), refresh tokens (`refresh_tokens`, SHA-256 of the
 * token, rotation and revocation) and API keys (`api_keys`, SHA-256 of the secret, last use).
 * Tables from migrations 001, 002, 004 (`password_changed_at`) and 009 (`token_version`,
 * `portfolio_members`). TOTP secrets arrive sealed
 * (AES-256-GCM by the `AuthService`) and are stored as given. Times are `timestamptz` in the database and epoch
 * milliseconds in the port.
 */
import type { ApiKeyRecord, AuthStore, PortfolioMember, RefreshTokenRecord, Role, User, UserAuthState } from './auth-store.types.js';
import { columnsOf, epochMs, integer, nullable, optionalEpochMs, plain, type Row } from './columns.js';
import type { Queryable } from './database.js';

/** epoch ms parameter → `timestamptz`. */
const ts = (parameter: string): string => `to_timestamp(${parameter}::double precision / 1000)`;

const USER = columnsOf<User>({
  id: plain('id'),
  username: plain('username'),
  role: plain('role'),
  passwordHash: plain('password_hash'),
  createdAtMs: epochMs('created_at'),
  disabled: plain('disabled'),
  totpSecret: nullable('totp_secret'),
  totpEnabled: plain('totp_enabled'),
  tokenVersion: integer('token_version'),
});

const MEMBER = columnsOf<PortfolioMember>({ portfolioId: plain('portfolio_id'), userId: plain('user_id'), role: plain('role') });

const REFRESH_TOKEN = columnsOf<RefreshTokenRecord>({
  id: plain('id'),
  userId: plain('user_id'),
  familyId: plain('family_id'),
  tokenHash: plain('token_hash'),
  expiresAtMs: epochMs('expires_at'),
  revokedAtMs: optionalEpochMs('revoked_at'),
  replacedBy: nullable('replaced_by'),
});

const API_KEY = columnsOf<ApiKeyRecord>({
  id: plain('id'),
  name: plain('name'),
  ownerUserId: plain('owner_user_id'),
  role: plain('role'),
  keyHash: plain('key_hash'),
  createdAtMs: epochMs('created_at'),
  lastUsedAtMs: optionalEpochMs('last_used_at'),
  revokedAtMs: optionalEpochMs('revoked_at'),
  // `null`: lifted; absent: the role's limit
  rateLimitPerMinute: {
    select: 'rate_limit_per_minute, rate_limit_lifted',
    read: (row) => (row['rate_limit_lifted'] ? null : ((row['rate_limit_per_minute'] as number | null) ?? undefined)),
  },
});

/** A user name that is taken (unique violation on `users.username`). */
export class UserExistsError extends Error {
  constructor(readonly username: string) {
    super(`user "${username}" exists`);
    this.name = 'UserExistsError';
  }
}

/** {@link AuthStore} in PostgreSQL/PGlite. Survives restarts; shared by every gateway process on one database. */
export class PostgresAuthStore implements AuthStore {
  private saves = 0;

  constructor(private readonly db: Queryable) {}

  async createUser(user: User): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO users (id, username, password_hash, role, disabled, created_at, updated_at, totp_secret, totp_enabled, token_version)
         VALUES ($1, $2, $3, $4, $5, ${ts('$6')}, ${ts('$6')}, $7, $8, $9)`,
        [user.id, user.username, user.passwordHash, user.role, user.disabled, user.createdAtMs, user.totpSecret ?? null, user.totpEnabled, user.tokenVersion],
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') throw new UserExistsError(user.username);
      throw error;
    }
  }

  async userByName(username: string): Promise<User | undefined> {
    const [row] = await this.db.query<Row>(`SELECT ${USER.list} FROM users WHERE username = $1`, [username]);
    return row ? USER.read(row) : undefined;
  }

  async userById(id: string): Promise<User | undefined> {
    const [row] = await this.db.query<Row>(`SELECT ${USER.list} FROM users WHERE id = $1`, [id]);
    return row ? USER.read(row) : undefined;
  }

  async listUsers(): Promise<readonly User[]> {
    return (await this.db.query<Row>(`SELECT ${USER.list} FROM users ORDER BY created_at, username`)).map(USER.read);
  }

  async countUsers(): Promise<number> {
    const [row] = await this.db.query<{ count: number }>('SELECT count(*)::bigint AS count FROM users');
    return Number(row?.count ?? 0);
  }

  async setTotp(userId: string, secret: string | undefined, enabled: boolean): Promise<void> {
    await this.db.query(
      `UPDATE users SET totp_secret = $2, totp_enabled = $3,
         totp_last_step = CASE WHEN totp_secret IS DISTINCT FROM $2 THEN NULL ELSE totp_last_step END, updated_at = now()
       WHERE id = $1`,
      [userId, secret ?? null, enabled && secret !== undefined],
    );
  }

  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const rows = await this.db.query<{ id: string }>(
      'UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id',
      [userId, step],
    );
    return rows.length === 1;
  }

  async setUserDisabled(userId: string, disabled: boolean): Promise<void> {
    await this.db.query('UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1', [userId, disabled]);
  }

  async setPasswordHash(userId: string, passwordHash: string, atMs: number): Promise<void> {
    await this.db.query(`UPDATE users SET password_hash = $2, password_changed_at = ${ts('$3')}, updated_at = now() WHERE id = $1`, [
      userId,
      passwordHash,
      atMs,
    ]);
  }

  async bumpTokenVersion(userId: string): Promise<number | undefined> {
    const [row] = await this.db.query<{ token_version: number }>(
      'UPDATE users SET token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING token_version',
      [userId],
    );
    return row === undefined ? undefined : Number(row.token_version);
  }

  async userAuthState(userId: string): Promise<UserAuthState | undefined> {
    const [row] = await this.db.query<{ disabled: boolean; token_version: number; role: Role }>(
      'SELECT disabled, token_version, role FROM users WHERE id = $1',
      [userId],
    );
    return row && { disabled: row.disabled, tokenVersion: Number(row.token_version), role: row.role };
  }

  async deleteUser(userId: string): Promise<boolean> {
    // refresh tokens, API keys and memberships go with the user (ON DELETE CASCADE)
    const rows = await this.db.query<{ id: string }>('DELETE FROM users WHERE id = $1 RETURNING id', [userId]);
    return rows.length === 1;
  }

  async revokeUserRefreshTokens(userId: string, atMs: number): Promise<number> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE refresh_tokens SET revoked_at = ${ts('$2')} WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
      [userId, atMs],
    );
    return rows.length;
  }

  async saveRefreshToken(record: RefreshTokenRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, revoked_at, replaced_by)
       VALUES ($1, $2, $3, $4, ${ts('$5')}, ${ts('$6')}, $7)`,
      [record.id, record.userId, record.familyId, record.tokenHash, record.expiresAtMs, record.revokedAtMs ?? null, record.replacedBy ?? null],
    );
    // keep the table bounded by live sessions: expired tokens are useless (a day's grace for reuse detection)
    this.saves += 1;
    if (this.saves % 100 === 0) await this.db.query(`DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day'`);
  }

  async refreshTokenByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const [row] = await this.db.query<Row>(`SELECT ${REFRESH_TOKEN.list} FROM refresh_tokens WHERE token_hash = $1`, [tokenHash]);
    return row ? REFRESH_TOKEN.read(row) : undefined;
  }

  async revokeRefreshToken(id: string, atMs: number, replacedBy?: string): Promise<void> {
    await this.db.query(`UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, ${ts('$2')}), replaced_by = COALESCE($3, replaced_by) WHERE id = $1`, [
      id,
      atMs,
      replacedBy ?? null,
    ]);
  }

  async rotateRefreshToken(id: string, atMs: number, next: RefreshTokenRecord): Promise<boolean> {
    // one statement: the conditional update claims the old token (a parallel claim waits for the
    // row lock, then finds it revoked and claims nothing), and the new token is inserted only
    // from the claimed row, so a lost race leaves no token behind
    const rows = await this.db.query<{ id: string }>(
      `WITH claimed AS (
         UPDATE refresh_tokens SET revoked_at = ${ts('$2')}, replaced_by = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING user_id, family_id
       )
       INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at)
       SELECT $3, claimed.user_id, claimed.family_id, $4, ${ts('$5')} FROM claimed
       RETURNING id`,
      [id, atMs, next.id, next.tokenHash, next.expiresAtMs],
    );
    return rows.length === 1;
  }

  async revokeRefreshFamily(familyId: string, atMs: number): Promise<void> {
    await this.db.query(`UPDATE refresh_tokens SET revoked_at = ${ts('$2')} WHERE family_id = $1 AND revoked_at IS NULL`, [familyId, atMs]);
  }

  async saveApiKey(record: ApiKeyRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO api_keys (id, name, owner_user_id, role, key_hash, created_at, last_used_at, revoked_at, rate_limit_per_minute, rate_limit_lifted)
       VALUES ($1, $2, $3, $4, $5, ${ts('$6')}, ${ts('$7')}, ${ts('$8')}, $9, $10)`,
      [
        record.id,
        record.name,
        record.ownerUserId,
        record.role,
        record.keyHash,
        record.createdAtMs,
        record.lastUsedAtMs ?? null,
        record.revokedAtMs ?? null,
        typeof record.rateLimitPerMinute === 'number' ? record.rateLimitPerMinute : null,
        record.rateLimitPerMinute === null,
      ],
    );
  }

  async apiKeyById(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.query<Row>(`SELECT ${API_KEY.list} FROM api_keys WHERE id = $1`, [id]);
    return row ? API_KEY.read(row) : undefined;
  }

  async apiKeyForAuth(id: string): Promise<{ readonly key: ApiKeyRecord; readonly ownerDisabled: boolean } | undefined> {
    // with the owner's state: a disabled user's keys stop working on every gateway at once
    const [row] = await this.db.query<Row>(
      `SELECT ${API_KEY.list}, (SELECT disabled FROM users WHERE users.id = api_keys.owner_user_id) AS owner_disabled FROM api_keys WHERE id = $1`,
      [id],
    );
    return row ? { key: API_KEY.read(row), ownerDisabled: row['owner_disabled'] !== false } : undefined;
  }

  async listApiKeys(ownerUserId?: string): Promise<readonly ApiKeyRecord[]> {
    const rows =
      ownerUserId === undefined
        ? await this.db.query<Row>(`SELECT ${API_KEY.list} FROM api_keys ORDER BY created_at, id`)
        : await this.db.query<Row>(`SELECT ${API_KEY.list} FROM api_keys WHERE owner_user_id = $1 ORDER BY created_at, id`, [ownerUserId]);
    return rows.map(API_KEY.read);
  }

  async revokeApiKey(id: string, atMs: number): Promise<void> {
    await this.db.query(`UPDATE api_keys SET revoked_at = ${ts('$2')} WHERE id = $1 AND revoked_at IS NULL`, [id, atMs]);
  }

  async touchApiKey(id: string, atMs: number): Promise<void> {
    await this.db.query(`UPDATE api_keys SET last_used_at = ${ts('$2')} WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < ${ts('$2')})`, [id, atMs]);
  }

  async membershipsOf(userId: string): Promise<readonly PortfolioMember[]> {
    return (await this.db.query<Row>(`SELECT ${MEMBER.list} FROM portfolio_members WHERE user_id = $1 ORDER BY portfolio_id`, [userId])).map(MEMBER.read);
  }

  async portfolioMembers(portfolioId: string): Promise<readonly PortfolioMember[]> {
    return (await this.db.query<Row>(`SELECT ${MEMBER.list} FROM portfolio_members WHERE portfolio_id = $1 ORDER BY created_at, user_id`, [portfolioId])).map(
      MEMBER.read,
    );
  }

  async setPortfolioMember(member: PortfolioMember): Promise<void> {
    await this.db.query(
      `INSERT INTO portfolio_members (portfolio_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (portfolio_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
      [member.portfolioId, member.userId, member.role],
    );
  }

  async removePortfolioMember(portfolioId: string, userId: string): Promise<boolean> {
    return (
      (
        await this.db.query<{ user_id: string }>('DELETE FROM portfolio_members WHERE portfolio_id = $1 AND user_id = $2 RETURNING user_id', [
          portfolioId,
          userId,
        ])
      ).length === 1
    );
  }
}
