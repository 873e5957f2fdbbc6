import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type {
  ApiKeyRecord,
  AuthStore,
  MemberRole,
  PortfolioMember,
  PortfolioRight,
  RefreshTokenRecord,
  Role,
  User,
  UserAuthState,
} from '../../persistence/auth-store.types.js';
import { memberGrants, roleAtLeast } from '../../persistence/auth-store.types.js';
import { passwordProblem } from './password-policy.js';
import { hashPassword, randomSecret, sha256, verifyPassword } from './passwords.js';
import { SecretBox } from '../../config/secret-box.js';
import { generateTotpSecret, otpauthUri, verifyTotp } from './totp.js';

/** Who is calling, once authenticated. */
export interface Principal {
  readonly kind: 'user' | 'api-key';
  /** User id, or the key's owner. */
  readonly userId: string;
  /** `user:<name>` or `key:<name>`: how the audit log names them. */
  readonly name: string;
  readonly role: Role;
  /** Rate-limit bucket: `key:<id>` or `user:<id>`. */
  readonly rateKey: string;
  /** The API key's id, when authenticated by one. */
  readonly apiKeyId?: string;
  /** Requests per minute for this principal: `null` lifted, undefined the role's limit. */
  readonly rateLimitPerMinute: number | null | undefined;
}

/** Signs and verifies access tokens (the gateway gives @fastify/jwt's). */
export interface AccessTokenSigner {
  sign(payload: AccessClaims): string;
  /** The claims of a token whose signature (and `exp`, when present) checked out. */
  verify(token: string): AccessClaims & { readonly exp?: unknown };
}

/** Claims of an access token (the signer adds `iat` and `exp`). */
export interface AccessClaims {
  readonly sub: string;
  readonly name: string;
  readonly role: Role;
  /** The user's token generation when it was issued ({@link User.tokenVersion}). */
  readonly ver: number;
}

/** What login and refresh answer. */
export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresInSec: number;
  readonly role: Role;
}

/** Why an auth operation failed (the routes map these to 401/403). */
export class AuthError extends Error {
  constructor(
    readonly code: 'invalid-credentials' | 'totp-required' | 'invalid-token' | 'forbidden' | 'conflict' | 'weak-password',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

const API_KEY_PREFIX = 'trp';
/** How long a looked-up API key is trusted without asking the store again. */
export const API_KEY_CACHE_MS = 1_000;
/** Keys cached at most (the cache starts afresh beyond). */
const API_KEY_CACHE_SIZE = 10_000;
/** Live API keys a user may have at once, unless configured otherwise. */
export const DEFAULT_MAX_API_KEYS_PER_USER = 20;

/**
 * Authentication over an {@link AuthStore}: password login, refresh rotation with reuse
 * detection, logout revocation, API keys (shown once, stored as SHA-256, scoped to a role,
 * revocable, last use recorded), optional TOTP second factor (RFC 6238).
 */
export class AuthService {
  private readonly touched = new Map<string, number>();
  /**
   * API keys looked up in the last {@link API_KEY_CACHE_MS} (authenticating a request must not
   * cost a database round trip each time). Revoking a key or disabling its owner here takes
   * effect at once; done by another gateway process, within that time.
   */
  private readonly keyCache = new Map<string, CachedApiKey>();
  /**
   * Whole API keys that passed the hash check, with the cache entry they were checked against:
   * a key polled many times a second is hashed once per entry (once per {@link API_KEY_CACHE_MS}),
   * not once per request. Such a key counts only while its entry is still the one in
   * {@link keyCache}, so revoking it, disabling its owner or refetching its record (which all
   * replace or drop that entry) ends the shortcut at once. Only verified keys are kept, so
   * guessing fills nothing, and a guess is still checked by its SHA-256 in constant time: the
   * map lookup compares whole strings only when their string hashes already match.
   */
  private readonly verifiedKeys = new Map<string, CachedApiKey>();
  /** Users disabled through this service or found disabled at {@link prepare}: their API keys stop working at once. */
  private readonly disabledUsers = new Set<string>();
  /**
   * Each user's token generation, disabled flag and role as looked up in the last
   * {@link API_KEY_CACHE_MS} (null: no such user): an access token is checked against it on every
   * request without a database round trip. Changes made through this service update it at once;
   * made by another gateway process, they count within that time.
   */
  private readonly userStates = new Map<string, CachedUserState>();
  /** Lookups of a user's state in flight. */
  private readonly userStateFetches = new Map<string, Promise<UserAuthState | null>>();
  /** Memberships looked up in the last {@link API_KEY_CACHE_MS}, per user. */
  private readonly membershipCache = new Map<string, { readonly fetchedAtMs: number; readonly byPortfolio: ReadonlyMap<string, MemberRole> }>();
  /** API-key creations in progress per owner, one at a time (the per-user cap is counted, then the key saved). */
  private readonly keyCreation = new Map<string, Promise<unknown>>();
  private readonly box: SecretBox;

  constructor(
    readonly store: AuthStore,
    private readonly signer: AccessTokenSigner,
    private readonly options: {
      readonly refreshTokenTtlSec: number;
      readonly accessTokenTtlSec: number;
      readonly nowMs?: () => number;
      /** Seals TOTP secrets before they reach the store. Default: a random key per process (fine for an in-memory store only). */
      readonly secretBox?: SecretBox;
      /** Live API keys a user may have at once (default {@link DEFAULT_MAX_API_KEYS_PER_USER}). */
      readonly maxApiKeysPerUser?: number;
    },
  ) {
    this.box = options.secretBox ?? SecretBox.ephemeral();
  }

  /** The TOTP secret in clear (sealed values are bound to the user id; older rows may hold it in clear). */
  private totpSecretOf(user: User): string | undefined {
    const stored = user.totpSecret;
    if (stored === undefined) return undefined;
    return SecretBox.isSealed(stored) ? this.box.open(stored, totpContext(user.id)) : stored;
  }

  /**
   * Start-up chores: remembers which users are disabled (their access tokens are refused at once)
   * and seals TOTP secrets stored in clear by an earlier version. Resolves to how many were sealed.
   */
  async prepare(): Promise<number> {
    let sealed = 0;
    for (const user of await this.store.listUsers()) {
      if (user.disabled) this.disabledUsers.add(user.id);
      if (user.totpSecret !== undefined && !SecretBox.isSealed(user.totpSecret)) {
        await this.store.setTotp(user.id, this.box.seal(user.totpSecret, totpContext(user.id)), user.totpEnabled);
        sealed += 1;
      }
    }
    return sealed;
  }

  private now(): number {
    return this.options.nowMs?.() ?? Date.now();
  }

  /**
   * Creates the first admin when there are no users: with the given password, or a random
   * one that is returned (for the caller to print once). Returns undefined when users exist.
   */
  async bootstrapAdmin(
    username: string,
    password: string | undefined,
  ): Promise<{ readonly user: User; readonly generatedPassword: string | undefined } | undefined> {
    if ((await this.store.countUsers()) > 0) return undefined;
    const generated = password === undefined ? randomSecret(18) : undefined;
    const user = await this.createUser(username, password ?? generated ?? '', 'admin');
    return { user, generatedPassword: generated };
  }

  /** Creates a user; a password {@link passwordProblem} refuses is a `weak-password` {@link AuthError}. */
  async createUser(username: string, password: string, role: Role): Promise<User> {
    checkPassword(password);
    const user: User = {
      id: randomUUID(),
      username,
      role,
      passwordHash: await hashPassword(password),
      createdAtMs: this.now(),
      disabled: false,
      totpSecret: undefined,
      totpEnabled: false,
      tokenVersion: 0,
    };
    await this.store.createUser(user);
    return user;
  }

  /** Deletes a user (their sessions, keys and memberships go too); their access tokens and API keys stop working at once. */
  async deleteUser(userId: string): Promise<boolean> {
    const deleted = await this.store.deleteUser(userId);
    this.forgetUser(userId);
    this.userStates.set(userId, { state: null, fetchedAtMs: this.now() });
    return deleted;
  }

  /** Drops what is cached of a user's keys and memberships (their state is refetched or set by the caller). */
  private forgetUser(userId: string): void {
    for (const [id, entry] of this.keyCache) if (entry.key.ownerUserId === userId) this.keyCache.delete(id);
    this.membershipCache.delete(userId);
  }

  /** Bumps the user's token generation: every access token issued to them before stops working (here at once). */
  private async endAccessTokens(userId: string): Promise<void> {
    await this.store.bumpTokenVersion(userId);
    const state = await this.store.userAuthState(userId);
    this.userStates.set(userId, { state: state ?? null, fetchedAtMs: this.now() });
  }

  /**
   * Password login. A user with TOTP enabled also needs `totpCode` (the current code of their
   * authenticator app): without it the answer is `totp-required` (said only after the password
   * matched); a wrong or reused code is `invalid-credentials`.
   */
  async login(username: string, password: string, totpCode?: string): Promise<{ readonly user: User; readonly tokens: TokenPair }> {
    const user = await this.store.userByName(username);
    // verify against a dummy hash when the user does not exist, so timing does not tell
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok || user.disabled) throw new AuthError('invalid-credentials', 'wrong user name or password');
    const secret = user.totpEnabled ? this.totpSecretOf(user) : undefined;
    if (secret !== undefined) {
      if (totpCode === undefined)
        throw new AuthError('totp-required', 'this account has two-factor login: send the current code of your authenticator app as totpCode');
      await this.checkTotp(user, secret, totpCode);
    }
    return { user, tokens: await this.issue(user, randomUUID()) };
  }

  /** Verifies a code and claims its time step (a code works once). */
  private async checkTotp(user: User, secret: string, code: string): Promise<void> {
    const step = verifyTotp(secret, code, this.now());
    if (step === undefined || !(await this.store.claimTotpStep(user.id, step))) {
      throw new AuthError('invalid-credentials', 'wrong or already used two-factor code');
    }
  }

  /**
   * Starts TOTP enrolment: a new secret, stored pending (login does not need codes until
   * {@link confirmTotp}). Returns the secret and the otpauth URI once. Refused while enabled.
   */
  async enrollTotp(userId: string): Promise<{ readonly secret: string; readonly otpauthUri: string }> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'the user no longer exists');
    if (user.totpEnabled) throw new AuthError('conflict', 'two-factor login is already enabled; disable it first (POST /api/v1/auth/totp/disable)');
    const secret = generateTotpSecret();
    await this.store.setTotp(user.id, this.box.seal(secret, totpContext(user.id)), false);
    return { secret, otpauthUri: otpauthUri(secret, user.username) };
  }

  /** Enables TOTP once the user shows a code from the pending secret. */
  async confirmTotp(userId: string, code: string): Promise<User> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'the user no longer exists');
    if (user.totpEnabled) throw new AuthError('conflict', 'two-factor login is already enabled');
    const secret = this.totpSecretOf(user);
    if (user.totpSecret === undefined || secret === undefined) throw new AuthError('conflict', 'start with POST /api/v1/auth/totp/enroll');
    await this.checkTotp(user, secret, code);
    await this.store.setTotp(user.id, user.totpSecret, true);
    return user;
  }

  /** Disables TOTP; needs a current code (so a stolen access token alone cannot). */
  async disableTotp(userId: string, code: string): Promise<User> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'the user no longer exists');
    const secret = user.totpEnabled ? this.totpSecretOf(user) : undefined;
    if (secret === undefined) throw new AuthError('conflict', 'two-factor login is not enabled');
    await this.checkTotp(user, secret, code);
    await this.store.setTotp(user.id, undefined, false);
    return user;
  }

  /**
   * Disables a user: no login, no refresh (every refresh token is revoked), their API keys and
   * access tokens stop working. Enabling lets them log in again (the revoked tokens stay revoked).
   * Resolves to the user as it was and how many refresh tokens were revoked.
   */
  async setDisabled(userId: string, disabled: boolean): Promise<{ readonly user: User; readonly revokedSessions: number }> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'no such user');
    await this.store.setUserDisabled(userId, disabled);
    if (disabled) this.disabledUsers.add(userId);
    else this.disabledUsers.delete(userId);
    this.forgetUser(userId);
    // a new generation either way: tokens from before a disable stay dead after the enable
    await this.endAccessTokens(userId);
    const revokedSessions = disabled ? await this.store.revokeUserRefreshTokens(userId, this.now()) : 0;
    return { user: { ...user, disabled }, revokedSessions };
  }

  /** An admin sets a new password: every session of the user ends (refresh tokens revoked). */
  async resetPassword(userId: string, password: string): Promise<{ readonly user: User; readonly revokedSessions: number }> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'no such user');
    checkPassword(password);
    await this.store.setPasswordHash(userId, await hashPassword(password), this.now());
    await this.endAccessTokens(userId);
    return { user, revokedSessions: await this.store.revokeUserRefreshTokens(userId, this.now()) };
  }

  /**
   * A user changes their own password (the current one is required: `invalid-credentials`
   * otherwise). Every other session ends; the answer is a fresh token pair for this one.
   */
  async changePassword(userId: string, currentPassword: string, newPassword: string): Promise<{ readonly user: User; readonly tokens: TokenPair }> {
    const user = await this.store.userById(userId);
    if (!user || user.disabled) throw new AuthError('invalid-token', 'the user no longer exists or is disabled');
    if (!(await verifyPassword(currentPassword, user.passwordHash))) throw new AuthError('invalid-credentials', 'the current password is wrong');
    checkPassword(newPassword);
    await this.store.setPasswordHash(userId, await hashPassword(newPassword), this.now());
    await this.store.revokeUserRefreshTokens(userId, this.now());
    await this.endAccessTokens(userId);
    const fresh = await this.store.userById(userId);
    return { user, tokens: await this.issue(fresh ?? user, randomUUID()) };
  }

  private newRefreshToken(user: User, familyId: string): { readonly token: string; readonly record: RefreshTokenRecord } {
    const token = randomSecret(32);
    return {
      token,
      record: {
        id: randomUUID(),
        userId: user.id,
        familyId,
        tokenHash: sha256(token),
        expiresAtMs: this.now() + this.options.refreshTokenTtlSec * 1000,
        revokedAtMs: undefined,
        replacedBy: undefined,
      },
    };
  }

  private pair(user: User, refreshToken: string): TokenPair {
    return {
      accessToken: this.signer.sign({ sub: user.id, name: user.username, role: user.role, ver: user.tokenVersion }),
      refreshToken,
      tokenType: 'Bearer',
      expiresInSec: this.options.accessTokenTtlSec,
      role: user.role,
    };
  }

  private async issue(user: User, familyId: string): Promise<TokenPair> {
    const { token, record } = this.newRefreshToken(user, familyId);
    await this.store.saveRefreshToken(record);
    return this.pair(user, token);
  }

  /**
   * Exchanges a refresh token for a new pair. The old one is used up in one atomic step with the
   * new one's creation ({@link AuthStore.rotateRefreshToken}): of parallel redemptions exactly one
   * wins. Presenting a used one (the loser of such a race, or a stolen copy) revokes its whole
   * family, the winner's new token included.
   */
  async refresh(refreshToken: string): Promise<{ readonly user: User; readonly tokens: TokenPair }> {
    const record = await this.store.refreshTokenByHash(sha256(refreshToken));
    const now = this.now();
    if (!record) throw new AuthError('invalid-token', 'unknown refresh token');
    if (record.revokedAtMs !== undefined) {
      if (record.replacedBy !== undefined) await this.store.revokeRefreshFamily(record.familyId, now);
      throw new AuthError('invalid-token', 'the refresh token was revoked or already used');
    }
    if (record.expiresAtMs <= now) throw new AuthError('invalid-token', 'the refresh token expired');
    const user = await this.store.userById(record.userId);
    if (!user || user.disabled) throw new AuthError('invalid-token', 'the user no longer exists');
    const next = this.newRefreshToken(user, record.familyId);
    if (!(await this.store.rotateRefreshToken(record.id, now, next.record))) {
      // another redemption used it first: a reuse, so the family ends
      await this.store.revokeRefreshFamily(record.familyId, now);
      throw new AuthError('invalid-token', 'the refresh token was revoked or already used');
    }
    return { user, tokens: this.pair(user, next.token) };
  }

  /**
   * Revokes the refresh token (and its family): the session ends, and so does every access token
   * of the user (their other sessions get new ones with their refresh tokens). Unknown tokens are ignored.
   */
  async logout(refreshToken: string): Promise<User | undefined> {
    const record = await this.store.refreshTokenByHash(sha256(refreshToken));
    if (!record) return undefined;
    await this.store.revokeRefreshFamily(record.familyId, this.now());
    await this.endAccessTokens(record.userId);
    return this.store.userById(record.userId);
  }

  /** Logout everywhere: every refresh token and access token of the user stops working. Resolves to how many sessions ended. */
  async logoutAll(userId: string): Promise<number> {
    const revoked = await this.store.revokeUserRefreshTokens(userId, this.now());
    await this.endAccessTokens(userId);
    return revoked;
  }

  /**
   * Checks an access token's signature and claims (no I/O): it must expire (`exp`, which the
   * signer checked) and carry a subject and a token generation. Throws `invalid-token`.
   */
  verifyAccessToken(token: string): AccessClaims {
    let claims: AccessClaims & { readonly exp?: unknown };
    try {
      claims = this.signer.verify(token);
    } catch {
      throw new AuthError('invalid-token', 'the access token is invalid or expired');
    }
    if (typeof claims.exp !== 'number') throw new AuthError('invalid-token', 'the access token has no expiry (exp)');
    if (typeof claims.sub !== 'string' || typeof claims.name !== 'string' || !Number.isSafeInteger(claims.ver))
      throw new AuthError('invalid-token', 'the access token lacks its subject or token generation');
    return claims;
  }

  /**
   * The principal of verified claims when the user's state is cached (fetched less than
   * {@link API_KEY_CACHE_MS} ago); undefined: ask {@link principalFromClaims}. Throws
   * `invalid-token` when the user is gone or disabled, or the token's generation is not theirs now.
   */
  principalFromClaimsCached(claims: AccessClaims): Principal | undefined {
    const cached = this.userStates.get(claims.sub);
    if (cached === undefined || !isFreshAt(cached.fetchedAtMs, this.now())) return undefined;
    return userPrincipal(claims, cached.state);
  }

  /** {@link principalFromClaimsCached}, looking the user's state up when it is not cached. */
  async principalFromClaims(claims: AccessClaims): Promise<Principal> {
    const cached = this.principalFromClaimsCached(claims);
    if (cached !== undefined) return cached;
    // one lookup per user at a time: the requests that find the entry stale together share it
    let pending = this.userStateFetches.get(claims.sub);
    if (pending === undefined) {
      const fetchedAtMs = this.now();
      pending = this.store.userAuthState(claims.sub).then(
        (found) => {
          this.userStateFetches.delete(claims.sub);
          const state = found ?? null;
          // a change made here meanwhile (a logout, a disable) set a newer entry: keep that one
          const current = this.userStates.get(claims.sub);
          if (current !== undefined && current.fetchedAtMs >= fetchedAtMs) return state;
          if (this.userStates.size >= API_KEY_CACHE_SIZE) this.userStates.clear();
          this.userStates.set(claims.sub, { state, fetchedAtMs });
          return state;
        },
        (error: unknown) => {
          this.userStateFetches.delete(claims.sub);
          throw error;
        },
      );
      this.userStateFetches.set(claims.sub, pending);
    }
    return userPrincipal(claims, await pending);
  }

  /** Verifies an access token (Bearer) and its user's state. */
  async principalFromAccessToken(token: string): Promise<Principal> {
    return this.principalFromClaims(this.verifyAccessToken(token));
  }

  /**
   * Verifies an API key (`trp_<id>_<secret>`) when that needs no I/O: its record was fetched
   * less than {@link API_KEY_CACHE_MS} ago and its last use was recorded less than a second
   * ago. Undefined: ask {@link principalFromApiKey}. Throws {@link AuthError} as that does.
   * This is the hot path of every API-key request: no promise, and for a key already verified
   * against the cached record no parsing and no hash either.
   */
  principalFromApiKeyCached(key: string): Principal | undefined {
    const now = this.now();
    const verified = this.verifiedKeys.get(key);
    if (verified !== undefined && this.keyCache.get(verified.key.id) === verified) return this.isUsable(verified, now) ? this.checkStatus(verified) : undefined;
    const { id, secret } = parseApiKey(key);
    const found = this.keyCache.get(id);
    if (found === undefined || !this.isUsable(found, now)) return undefined;
    return this.checkKey(found, key, secret);
  }

  /** Verifies an API key (`trp_<id>_<secret>`) and records its use. */
  async principalFromApiKey(key: string): Promise<Principal> {
    const { id, secret } = parseApiKey(key);
    const now = this.now();
    let found = this.keyCache.get(id);
    if (found === undefined || !isFresh(found, now)) {
      const fresh = await this.store.apiKeyForAuth(id);
      if (this.keyCache.size >= API_KEY_CACHE_SIZE) this.keyCache.clear();
      found = fresh && cacheEntry(fresh.key, fresh.ownerDisabled, now);
      if (found) this.keyCache.set(id, found);
      else this.keyCache.delete(id);
    }
    if (!found) throw new AuthError('invalid-token', 'unknown API key');
    const principal = this.checkKey(found, key, secret);
    // record last use at most once a second per key (keeps the hot path cheap)
    if ((this.touched.get(id) ?? 0) + 1000 <= now) {
      this.touched.set(id, now);
      await this.store.touchApiKey(id, now);
    }
    return principal;
  }

  /** Whether a cached entry may answer without I/O: fresh, and its key's last use recorded within the second. */
  private isUsable(found: CachedApiKey, now: number): boolean {
    return isFresh(found, now) && (this.touched.get(found.key.id) ?? 0) + 1000 > now;
  }

  /** Checks the secret against the entry's hash (remembering the whole key once it matched), then the key's status. */
  private checkKey(found: CachedApiKey, key: string, secret: string): Principal {
    const digest = createHash('sha256').update(secret).digest();
    if (found.hash.length !== digest.length || !timingSafeEqual(found.hash, digest)) throw new AuthError('invalid-token', 'unknown API key');
    if (this.verifiedKeys.size >= API_KEY_CACHE_SIZE) this.verifiedKeys.clear();
    this.verifiedKeys.set(key, found);
    return this.checkStatus(found);
  }

  /** The principal of a key whose secret matched, unless it was revoked or its owner disabled. */
  private checkStatus(found: CachedApiKey): Principal {
    const record = found.key;
    if (record.revokedAtMs !== undefined) throw new AuthError('invalid-token', 'the API key was revoked');
    if (found.ownerDisabled || this.disabledUsers.has(record.ownerUserId)) throw new AuthError('invalid-token', "the API key's owner is disabled");
    return found.principal;
  }

  /** Revokes an API key (at once on this gateway; other gateway processes notice within {@link API_KEY_CACHE_MS}). */
  async revokeApiKey(id: string): Promise<void> {
    await this.store.revokeApiKey(id, this.now());
    this.keyCache.delete(id);
  }

  /**
   * Creates an API key for `owner` with a role no higher than the owner's. Only admins may
   * lift the rate limit (`rateLimitPerMinute: null`). Returns the key once; only its hash is kept.
   */
  async createApiKey(
    owner: Principal,
    request: { readonly name: string; readonly role: Role; readonly rateLimitPerMinute?: number | null },
  ): Promise<{ readonly record: ApiKeyRecord; readonly key: string }> {
    if (!roleAtLeast(owner.role, request.role)) throw new AuthError('forbidden', `a ${owner.role} cannot create a ${request.role} key`);
    if (request.rateLimitPerMinute !== undefined && owner.role !== 'admin') throw new AuthError('forbidden', "only an admin may set a key's rate limit");
    // one creation at a time per owner, so parallel requests cannot pass the cap together
    const previous = this.keyCreation.get(owner.userId) ?? Promise.resolve();
    const created = previous.then(
      () => this.createApiKeyNow(owner, request),
      () => this.createApiKeyNow(owner, request),
    );
    this.keyCreation.set(owner.userId, created);
    try {
      return await created;
    } finally {
      if (this.keyCreation.get(owner.userId) === created) this.keyCreation.delete(owner.userId);
    }
  }

  private async createApiKeyNow(
    owner: Principal,
    request: { readonly name: string; readonly role: Role; readonly rateLimitPerMinute?: number | null },
  ): Promise<{ readonly record: ApiKeyRecord; readonly key: string }> {
    const max = this.options.maxApiKeysPerUser ?? DEFAULT_MAX_API_KEYS_PER_USER;
    const live = (await this.store.listApiKeys(owner.userId)).filter((key) => key.revokedAtMs === undefined).length;
    if (live >= max) throw new AuthError('conflict', `${owner.name} already has ${live} live API keys (at most ${max}); revoke one first`);
    const id = randomSecret(9).replace(/[-_]/g, 'x');
    const secret = randomSecret(24).replace(/_/g, '-');
    const record: ApiKeyRecord = {
      id,
      name: request.name,
      ownerUserId: owner.userId,
      role: request.role,
      keyHash: sha256(secret),
      createdAtMs: this.now(),
      lastUsedAtMs: undefined,
      revokedAtMs: undefined,
      rateLimitPerMinute: request.rateLimitPerMinute,
    };
    await this.store.saveApiKey(record);
    return { record, key: `${API_KEY_PREFIX}_${id}_${secret}` };
  }

  /** The portfolios a user belongs to, with their standing (cached for {@link API_KEY_CACHE_MS}). */
  async memberships(userId: string): Promise<ReadonlyMap<string, MemberRole>> {
    const now = this.now();
    const cached = this.membershipCache.get(userId);
    if (cached !== undefined && isFreshAt(cached.fetchedAtMs, now)) return cached.byPortfolio;
    const byPortfolio = new Map((await this.store.membershipsOf(userId)).map((member) => [member.portfolioId, member.role] as const));
    if (this.membershipCache.size >= API_KEY_CACHE_SIZE) this.membershipCache.clear();
    this.membershipCache.set(userId, { fetchedAtMs: now, byPortfolio });
    return byPortfolio;
  }

  /**
   * Whether a caller may read or act on a portfolio: admins on every one; others only where they
   * are members, acting only as traders (their role) who are owners or trader members.
   */
  async mayOnPortfolio(principal: Principal, portfolioId: string, right: PortfolioRight): Promise<boolean> {
    if (principal.role === 'admin') return true;
    if (right === 'act' && !roleAtLeast(principal.role, 'trader')) return false;
    const standing = (await this.memberships(principal.userId)).get(portfolioId);
    return standing !== undefined && memberGrants(standing, right);
  }

  /** Adds a member to a portfolio or changes their standing (at once on this gateway). */
  async setPortfolioMember(member: PortfolioMember): Promise<void> {
    await this.store.setPortfolioMember(member);
    this.membershipCache.delete(member.userId);
  }

  /** Removes a member from a portfolio; false when they were none. */
  async removePortfolioMember(portfolioId: string, userId: string): Promise<boolean> {
    const removed = await this.store.removePortfolioMember(portfolioId, userId);
    this.membershipCache.delete(userId);
    return removed;
  }
}

/** A user's auth state as cached (null: no such user). */
interface CachedUserState {
  readonly state: UserAuthState | null;
  readonly fetchedAtMs: number;
}

/** Whether something fetched at `fetchedAtMs` is still fresh (and not in the future: the clock may step back). */
function isFreshAt(fetchedAtMs: number, now: number): boolean {
  return now - fetchedAtMs < API_KEY_CACHE_MS && now >= fetchedAtMs;
}

/** The principal of an access token's claims against its user's state now (with the user's current role). */
function userPrincipal(claims: AccessClaims, state: UserAuthState | null): Principal {
  if (state === null) throw new AuthError('invalid-token', 'the user no longer exists');
  if (state.disabled) throw new AuthError('invalid-token', 'the user is disabled');
  if (claims.ver !== state.tokenVersion)
    throw new AuthError('invalid-token', 'the access token was revoked (logout, password change or an admin action): refresh or log in again');
  return { kind: 'user', userId: claims.sub, name: `user:${claims.name}`, role: state.role, rateKey: `user:${claims.sub}`, rateLimitPerMinute: undefined };
}

/** Refuses a new password that {@link passwordProblem} finds weak. */
function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem !== undefined) throw new AuthError('weak-password', `the password ${problem}`);
}

/** An API key record as the auth cache keeps it: with its hash as bytes and its principal built once. */
interface CachedApiKey {
  readonly key: ApiKeyRecord;
  readonly ownerDisabled: boolean;
  readonly fetchedAtMs: number;
  readonly hash: Buffer;
  readonly principal: Principal;
}

/** Whether an entry was fetched less than {@link API_KEY_CACHE_MS} ago (and not in the future: the clock may step back). */
function isFresh(found: CachedApiKey, now: number): boolean {
  return isFreshAt(found.fetchedAtMs, now);
}

function cacheEntry(key: ApiKeyRecord, ownerDisabled: boolean, fetchedAtMs: number): CachedApiKey {
  return {
    key,
    ownerDisabled,
    fetchedAtMs,
    hash: Buffer.from(key.keyHash, 'hex'),
    principal: {
      kind: 'api-key',
      userId: key.ownerUserId,
      name: `key:${key.name}`,
      role: key.role,
      rateKey: `key:${key.id}`,
      apiKeyId: key.id,
      rateLimitPerMinute: key.rateLimitPerMinute,
    },
  };
}

function parseApiKey(key: string): { readonly id: string; readonly secret: string } {
  const parts = key.split('_');
  const [prefix, id, secret] = parts;
  if (prefix !== API_KEY_PREFIX || !id || !secret || parts.length !== 3) throw new AuthError('invalid-token', 'malformed API key');
  return { id, secret };
}

/** Associated data of a user's sealed TOTP secret: a sealed value copied to another user does not open. */
const totpContext = (userId: string): string => `totp:${userId}`;

// a valid scrypt hash of a random password, for constant-ish time on unknown users
const DUMMY_HASH = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
