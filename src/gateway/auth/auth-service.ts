import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord, AuthStore, Role, User } from './auth-store.js';
import { roleAtLeast } from './auth-store.js';
import { hashPassword, randomSecret, sameDigest, sha256, verifyPassword } from './passwords.js';
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
  /** Requests per minute for this principal: `null` lifted, undefined the role's limit. */
  readonly rateLimitPerMinute: number | null | undefined;
}

/** Signs and verifies access tokens (the gateway gives @fastify/jwt's). */
export interface AccessTokenSigner {
  sign(payload: AccessClaims): string;
  verify(token: string): AccessClaims;
}

/** Claims of an access token. */
export interface AccessClaims {
  readonly sub: string;
  readonly name: string;
  readonly role: Role;
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
    readonly code: 'invalid-credentials' | 'totp-required' | 'invalid-token' | 'forbidden' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

const API_KEY_PREFIX = 'trp';

/**
 * Authentication over an {@link AuthStore}: password login, refresh rotation with reuse
 * detection, logout revocation, API keys (shown once, stored as SHA-256, scoped to a role,
 * revocable, last use recorded), optional TOTP second factor (RFC 6238).
 */
export class AuthService {
  private readonly touched = new Map<string, number>();

  constructor(
    readonly store: AuthStore,
    private readonly signer: AccessTokenSigner,
    private readonly options: { readonly refreshTokenTtlSec: number; readonly accessTokenTtlSec: number; readonly nowMs?: () => number },
  ) {}

  private now(): number {
    return this.options.nowMs?.() ?? Date.now();
  }

  /**
   * Creates the first admin when there are no users: with the given password, or a random
   * one that is returned (for the caller to print once). Returns undefined when users exist.
   */
  async bootstrapAdmin(username: string, password: string | undefined): Promise<{ readonly username: string; readonly generatedPassword: string | undefined } | undefined> {
    if ((await this.store.countUsers()) > 0) return undefined;
    const generated = password === undefined ? randomSecret(18) : undefined;
    await this.createUser(username, password ?? generated ?? '', 'admin');
    return { username, generatedPassword: generated };
  }

  async createUser(username: string, password: string, role: Role): Promise<User> {
    const user: User = { id: randomUUID(), username, role, passwordHash: await hashPassword(password), createdAtMs: this.now(), disabled: false, totpSecret: undefined, totpEnabled: false };
    await this.store.createUser(user);
    return user;
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
    if (user.totpEnabled && user.totpSecret !== undefined) {
      if (totpCode === undefined) throw new AuthError('totp-required', 'this account has two-factor login: send the current code of your authenticator app as totpCode');
      await this.checkTotp(user, user.totpSecret, totpCode);
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
    await this.store.setTotp(user.id, secret, false);
    return { secret, otpauthUri: otpauthUri(secret, user.username) };
  }

  /** Enables TOTP once the user shows a code from the pending secret. */
  async confirmTotp(userId: string, code: string): Promise<User> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'the user no longer exists');
    if (user.totpEnabled) throw new AuthError('conflict', 'two-factor login is already enabled');
    if (user.totpSecret === undefined) throw new AuthError('conflict', 'start with POST /api/v1/auth/totp/enroll');
    await this.checkTotp(user, user.totpSecret, code);
    await this.store.setTotp(user.id, user.totpSecret, true);
    return user;
  }

  /** Disables TOTP; needs a current code (so a stolen access token alone cannot). */
  async disableTotp(userId: string, code: string): Promise<User> {
    const user = await this.store.userById(userId);
    if (!user) throw new AuthError('invalid-token', 'the user no longer exists');
    if (!user.totpEnabled || user.totpSecret === undefined) throw new AuthError('conflict', 'two-factor login is not enabled');
    await this.checkTotp(user, user.totpSecret, code);
    await this.store.setTotp(user.id, undefined, false);
    return user;
  }

  private async issue(user: User, familyId: string): Promise<TokenPair> {
    const refreshToken = randomSecret(32);
    await this.store.saveRefreshToken({
      id: randomUUID(),
      userId: user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAtMs: this.now() + this.options.refreshTokenTtlSec * 1000,
      revokedAtMs: undefined,
      replacedBy: undefined,
    });
    return {
      accessToken: this.signer.sign({ sub: user.id, name: user.username, role: user.role }),
      refreshToken,
      tokenType: 'Bearer',
      expiresInSec: this.options.accessTokenTtlSec,
      role: user.role,
    };
  }

  /** Exchanges a refresh token for a new pair; the old one is revoked. Reusing a revoked one revokes its whole family. */
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
    const tokens = await this.issue(user, record.familyId);
    const next = await this.store.refreshTokenByHash(sha256(tokens.refreshToken));
    await this.store.revokeRefreshToken(record.id, now, next?.id ?? 'rotated');
    return { user, tokens };
  }

  /** Revokes the refresh token (and its family): the session ends. Unknown tokens are ignored. */
  async logout(refreshToken: string): Promise<User | undefined> {
    const record = await this.store.refreshTokenByHash(sha256(refreshToken));
    if (!record) return undefined;
    await this.store.revokeRefreshFamily(record.familyId, this.now());
    return this.store.userById(record.userId);
  }

  /** Verifies an access token (Bearer). */
  principalFromAccessToken(token: string): Principal {
    let claims: AccessClaims;
    try {
      claims = this.signer.verify(token);
    } catch {
      throw new AuthError('invalid-token', 'the access token is invalid or expired');
    }
    return { kind: 'user', userId: claims.sub, name: `user:${claims.name}`, role: claims.role, rateKey: `user:${claims.sub}`, rateLimitPerMinute: undefined };
  }

  /** Verifies an API key (`trp_<id>_<secret>`) and records its use. */
  async principalFromApiKey(key: string): Promise<Principal> {
    const [prefix, id, secret] = key.split('_');
    if (prefix !== API_KEY_PREFIX || !id || !secret || key.split('_').length !== 3) throw new AuthError('invalid-token', 'malformed API key');
    const record = await this.store.apiKeyById(id);
    if (!record || !sameDigest(record.keyHash, sha256(secret))) throw new AuthError('invalid-token', 'unknown API key');
    if (record.revokedAtMs !== undefined) throw new AuthError('invalid-token', 'the API key was revoked');
    const now = this.now();
    // record last use at most once a second per key (keeps the hot path cheap)
    if ((this.touched.get(id) ?? 0) + 1000 <= now) {
      this.touched.set(id, now);
      await this.store.touchApiKey(id, now);
    }
    return { kind: 'api-key', userId: record.ownerUserId, name: `key:${record.name}`, role: record.role, rateKey: `key:${record.id}`, rateLimitPerMinute: record.rateLimitPerMinute };
  }

  /**
   * Creates an API key for `owner` with a role no higher than the owner's. Only admins may
   * lift the rate limit (`rateLimitPerMinute: null`). Returns the key once; only its hash is kept.
   */
  async createApiKey(owner: Principal, request: { readonly name: string; readonly role: Role; readonly rateLimitPerMinute?: number | null }): Promise<{ readonly record: ApiKeyRecord; readonly key: string }> {
    if (!roleAtLeast(owner.role, request.role)) throw new AuthError('forbidden', `a ${owner.role} cannot create a ${request.role} key`);
    if (request.rateLimitPerMinute !== undefined && owner.role !== 'admin') throw new AuthError('forbidden', 'only an admin may set a key\'s rate limit');
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
}

// a valid scrypt hash of a random password, for constant-ish time on unknown users
const DUMMY_HASH = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
