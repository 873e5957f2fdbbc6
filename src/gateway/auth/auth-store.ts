/**
 * The `AuthStore` port: users, refresh tokens and API keys. The gateway only talks to this
 * interface. {@link InMemoryAuthStore} (`in-memory-auth-store.ts`) is the in-process
 * implementation used until persistence lands; the PostgreSQL implementation (tables
 * `users`, `refresh_tokens`, `api_keys`) arrives with the persistence work and implements
 * the same port. Secrets are never stored: passwords as scrypt hashes, refresh tokens and
 * API keys as SHA-256 digests of high-entropy random values.
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

  saveRefreshToken(record: RefreshTokenRecord): Promise<void>;
  refreshTokenByHash(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks one token revoked (and, when given, what replaced it). */
  revokeRefreshToken(id: string, atMs: number, replacedBy?: string): Promise<void>;
  /** Revokes every token of a family (reuse detected, or logout everywhere). */
  revokeRefreshFamily(familyId: string, atMs: number): Promise<void>;

  saveApiKey(record: ApiKeyRecord): Promise<void>;
  apiKeyById(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(ownerUserId?: string): Promise<readonly ApiKeyRecord[]>;
  revokeApiKey(id: string, atMs: number): Promise<void>;
  touchApiKey(id: string, atMs: number): Promise<void>;
}
