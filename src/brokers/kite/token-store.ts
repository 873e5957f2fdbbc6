/**
 * The Kite session (access token) kept encrypted at rest: AES-256-GCM, a fresh 12-byte IV per
 * write, the auth tag checked on read. The key is `TROUPE_SECRET_KEY` (32 bytes as 64 hex chars
 * or base64) when configured, else a key file generated once with 0600 permissions next to the
 * session (`<dataDir>/kite/secret.key`). A session is worthless after Kite's daily expiry
 * (06:00 IST the next day), so `load` returns nothing once it has passed.
 *
 * NOTE for the lead: the gateway's TOTP secrets may want the same box; this file is
 * self-contained (`SecretBox`) so the two can be unified into `src/config` later.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../config/config.js';

const IST_OFFSET_MS = 330 * 60_000;

/** When a Kite session logged in at `loginMs` expires: 06:00 IST on the next morning (or today, before 06:00). */
export function kiteSessionExpiry(loginMs: number): number {
  const ist = loginMs + IST_OFFSET_MS;
  const dayStart = ist - (((ist % 86_400_000) + 86_400_000) % 86_400_000);
  const sixToday = dayStart + 6 * 3_600_000;
  return (ist < sixToday ? sixToday : sixToday + 86_400_000) - IST_OFFSET_MS;
}

/** AES-256-GCM with one key. Output: `v1.<iv b64>.<tag b64>.<ciphertext b64>`. */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** From a configured key (64 hex chars or base64 of 32 bytes); a bad one is a ConfigError naming `variable`. */
  static fromConfigured(raw: string, variable = 'TROUPE_SECRET_KEY'): SecretBox {
    const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
    if (key.length !== 32) throw new ConfigError(variable, 'must be 32 bytes: 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
    return new SecretBox(key);
  }

  /** From a key file, generated (32 random bytes, mode 0600) when it does not exist yet. */
  static fromKeyFile(path: string): SecretBox {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    chmodSync(path, 0o600);
    return SecretBox.fromConfigured(readFileSync(path, 'utf8').trim(), path);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  /** Throws when the text was not sealed with this key or was altered. */
  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.trim().split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}

/** What is stored of a Kite session. */
export interface StoredKiteSession {
  readonly apiKey: string;
  readonly accessToken: string;
  readonly userId: string;
  readonly loginAtMs: number;
  readonly expiresAtMs: number;
}

/** Options of {@link KiteTokenStore}. */
export interface KiteTokenStoreOptions {
  /** Troupe's data directory; the session lives in `<dataDir>/kite/session.enc`. */
  readonly dataDir: string;
  /** `TROUPE_SECRET_KEY`, if configured; else `<dataDir>/kite/secret.key` is used (created once, 0600). */
  readonly secretKey?: string | undefined;
  readonly now?: () => number;
}

/** The encrypted session file. */
export class KiteTokenStore {
  readonly path: string;
  private readonly box: SecretBox;
  private readonly now: () => number;

  constructor(options: KiteTokenStoreOptions) {
    const dir = join(options.dataDir, 'kite');
    this.path = join(dir, 'session.enc');
    this.box = options.secretKey !== undefined ? SecretBox.fromConfigured(options.secretKey) : SecretBox.fromKeyFile(join(dir, 'secret.key'));
    this.now = options.now ?? Date.now;
  }

  /** Stores a new session (atomically, mode 0600); its expiry is Kite's next 06:00 IST. */
  save(session: Omit<StoredKiteSession, 'expiresAtMs'> & { readonly expiresAtMs?: number }): StoredKiteSession {
    const stored: StoredKiteSession = { ...session, expiresAtMs: session.expiresAtMs ?? kiteSessionExpiry(session.loginAtMs) };
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, this.box.seal(JSON.stringify(stored)), { mode: 0o600 });
    renameSync(temp, this.path);
    return stored;
  }

  /**
   * The stored session for `apiKey`, or undefined when there is none, it has expired, belongs
   * to another API key, or cannot be decrypted (another key; tampering): log in again.
   */
  load(apiKey: string): { readonly session?: StoredKiteSession; readonly problem?: string } {
    if (!existsSync(this.path)) return { problem: 'no stored Kite session' };
    let session: StoredKiteSession;
    try {
      session = JSON.parse(this.box.open(readFileSync(this.path, 'utf8'))) as StoredKiteSession;
    } catch (error) {
      return { problem: `the stored Kite session cannot be decrypted (${error instanceof Error ? error.message : String(error)}): another key, or altered` };
    }
    if (session.apiKey !== apiKey) return { problem: `the stored Kite session belongs to API key ${session.apiKey}` };
    if (session.expiresAtMs <= this.now()) return { problem: `the stored Kite session expired at ${new Date(session.expiresAtMs).toISOString()} (Kite sessions end at 06:00 IST)` };
    return { session };
  }

  /** Marks the stored session unusable (after a TokenException): the next start asks for a login. */
  invalidate(): void {
    if (!existsSync(this.path)) return;
    writeFileSync(this.path, this.box.seal(JSON.stringify({ apiKey: '', accessToken: '', userId: '', loginAtMs: 0, expiresAtMs: 0 })), { mode: 0o600 });
  }
}
