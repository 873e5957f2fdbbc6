/**
 * The `AuthStore` port: users, refresh tokens and API keys. The gateway only talks to this
 * interface. Implementations: `InMemoryAuthStore` (`src/gateway/auth/in-memory-auth-store.ts`, unit tests and
 * embedding) and `PostgresAuthStore` (`src/persistence/auth-store.ts`, tables `users`,
 * `refresh_tokens`, `api_keys`; what `npm start` uses). Secrets are never stored: passwords
 * as scrypt hashes, refresh tokens and API keys as SHA-256 digests of high-entropy random
 * values. TOTP secrets are the exception (a verifier needs them): the `AuthService` hands the
 * store only sealed values (AES-256-GCM, `src/config/secret-box.ts`), so the store never sees one in clear.
 */

/** Gateway roles, from least to most privileged. */
export type Role = 'viewer' | 'trader' | 'admin';

/** Every role, least privileged first. */
export const ROLES: readonly Role[] = ['viewer', 'trader', 'admin'];

/** True when `have` grants at least what `need` grants. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** A user as the store keeps it (password as a scrypt hash). */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  readonly passwordHash: string;
  readonly createdAtMs: number;
  readonly disabled: boolean;
  /** TOTP secret as stored: sealed by the `AuthService` (`v1.…`; older rows: base32 in clear). Pending until {@link totpEnabled}; undefined when never enrolled. */
  readonly totpSecret: string | undefined;
  /** Whether login needs a TOTP code. */
  readonly totpEnabled: boolean;
  /**
   * Generation of the user's access tokens (carried in them as `ver`): bumped by logout, logout
   * everywhere, a password change or reset, disabling and enabling; a token of an older one is refused.
   */
  readonly tokenVersion: number;
}

/** A user's standing on one portfolio: owner, trader (acts) or viewer (reads). */
export type MemberRole = 'owner' | 'trader' | 'viewer';

/** One row of `portfolio_members`. */
export interface PortfolioMember {
  readonly portfolioId: string;
  readonly userId: string;
  readonly role: MemberRole;
}

/** What a user may do on a portfolio. */
export type PortfolioRight = 'read' | 'act';

/** Whether a member of this standing has a right (owners and traders act; everyone reads). */
export function memberGrants(role: MemberRole, right: PortfolioRight): boolean {
  return right === 'read' || role !== 'viewer';
}

/** What authenticating an access token needs to know of its user, in one lookup. */
export interface UserAuthState {
  readonly disabled: boolean;
  readonly tokenVersion: number;
  readonly role: Role;
}

/** A refresh token record; the token itself is only ever in the client's hands. */
export interface RefreshTokenRecord {
  readonly id: string;
  readonly userId: string;
  /** Tokens rotated from one login share a family; reuse of a rotated one revokes the family. */
  readonly familyId: string;
  readonly tokenHash: string;
  readonly expiresAtMs: number;
  readonly revokedAtMs: number | undefined;
  /** Set when the token was exchanged for a new one. */
  readonly replacedBy: string | undefined;
}

/** An API key as the store keeps it (only the SHA-256 of its secret). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly ownerUserId: string;
  readonly role: Role;
  readonly keyHash: string;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number | undefined;
  readonly revokedAtMs: number | undefined;
  /** Requests per minute for this key; `null`: the limit is lifted (admins only, e.g. benchmarks). Absent: the role's limit. */
  readonly rateLimitPerMinute: number | null | undefined;
}

/**
 * Persistence of users, refresh tokens and API keys. Methods are async because the
 * PostgreSQL implementation is; the in-memory one resolves at once. Lookups by hash are
 * exact-match (the hash of a random secret), never a scan.
 */
export interface AuthStore {
  createUser(user: User): Promise<void>;
  userByName(username: string): Promise<User | undefined>;
  userById(id: string): Promise<User | undefined>;
  listUsers(): Promise<readonly User[]>;
  countUsers(): Promise<number>;
  /**
   * Sets (or clears, with `secret` undefined) a user's TOTP secret and whether it is required at
   * login. A different secret forgets the last used step; the same one keeps it.
   */
  setTotp(userId: string, secret: string | undefined, enabled: boolean): Promise<void>;
  /**
   * Records that the TOTP code of time step `step` was used by the user; false when that step
   * (or a later one) was already used, so one code cannot log in twice. Atomic.
   */
  claimTotpStep(userId: string, step: number): Promise<boolean>;
  /** Disables or enables a user (a disabled user cannot log in, refresh, or use their API keys). */
  setUserDisabled(userId: string, disabled: boolean): Promise<void>;
  /** Replaces a user's password hash (a reset or their own change). */
  setPasswordHash(userId: string, passwordHash: string, atMs: number): Promise<void>;
  /** Bumps the user's {@link User.tokenVersion} (every access token issued before stops working); resolves to the new one, undefined for an unknown user. Atomic. */
  bumpTokenVersion(userId: string): Promise<number | undefined>;
  /** What authenticating an access token needs (undefined: no such user, e.g. deleted). */
  userAuthState(userId: string): Promise<UserAuthState | undefined>;
  /** Deletes a user with their refresh tokens, API keys and memberships; false when there was none. */
  deleteUser(userId: string): Promise<boolean>;

  saveRefreshToken(record: RefreshTokenRecord): Promise<void>;
  refreshTokenByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks one token revoked (and, when given, what replaced it). */
  revokeRefreshToken(id: string, atMs: number, replacedBy?: string): Promise<void>;
  /**
   * Rotation in one atomic step: marks the token `id` used (revoked, replaced by `next`) and saves
   * `next`, only when `id` was still live (not revoked) at that moment. Of any number of parallel
   * calls for one token, exactly one resolves true; the others change nothing and resolve false.
   */
  rotateRefreshToken(id: string, atMs: number, next: RefreshTokenRecord): Promise<boolean>;
  /** Revokes every token of a family (reuse detected, or logout everywhere). */
  revokeRefreshFamily(familyId: string, atMs: number): Promise<void>;
  /** Revokes every live refresh token of a user (every session ends); resolves to how many. */
  revokeUserRefreshTokens(userId: string, atMs: number): Promise<number>;

  saveApiKey(record: ApiKeyRecord): Promise<void>;
  apiKeyById(id: string): Promise<ApiKeyRecord | undefined>;
  /** A key with whether its owner is disabled (a disabled user's keys stop working), in one lookup: what authenticating a request needs. */
  apiKeyForAuth(id: string): Promise<{ readonly key: ApiKeyRecord; readonly ownerDisabled: boolean } | undefined>;
  listApiKeys(ownerUserId?: string): Promise<readonly ApiKeyRecord[]>;
  revokeApiKey(id: string, atMs: number): Promise<void>;
  touchApiKey(id: string, atMs: number): Promise<void>;

  /** Every portfolio the user is a member of (with their standing). */
  membershipsOf(userId: string): Promise<readonly PortfolioMember[]>;
  /** The members of a portfolio. */
  portfolioMembers(portfolioId: string): Promise<readonly PortfolioMember[]>;
  /** Adds a member or changes their standing. */
  setPortfolioMember(member: PortfolioMember): Promise<void>;
  /** Removes a member; false when they were none. */
  removePortfolioMember(portfolioId: string, userId: string): Promise<boolean>;
}
