/**
 * The Kite session (access token) kept encrypted at rest in `<dataDir>/kite/session.enc`, with
 * Troupe's one secret box (`src/config/secret-box.ts`: AES-256-GCM, a fresh IV per write, the
 * auth tag checked on read, bound to the context `kite-session`; the key is `TROUPE_SECRET_KEY`,
 * else `<dataDir>/secret.key`). A session file written before the boxes were unified (another
 * layout, maybe sealed with the old `<dataDir>/kite/secret.key`) still opens and is re-sealed
 * with the current key on that read. A session is worthless after Kite's daily expiry (06:00
 * IST the next day), so `load` returns nothing once it has passed.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openSecretBox, type SecretBox } from '../../config/secret-box.js';

/** Associated data of the sealed session: the value opens only as a Kite session. */
const SESSION_CONTEXT = 'kite-session';

const IST_OFFSET_MS = 330 * 60_000;

/** When a Kite session logged in at `loginMs` expires: 06:00 IST on the next morning (or today, before 06:00). */
export function kiteSessionExpiry(loginMs: number): number {
  const ist = loginMs + IST_OFFSET_MS;
  const dayStart = ist - (((ist % 86_400_000) + 86_400_000) % 86_400_000);
  const sixToday = dayStart + 6 * 3_600_000;
  return (ist < sixToday ? sixToday : sixToday + 86_400_000) - IST_OFFSET_MS;
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
  /** `TROUPE_SECRET_KEY`, if configured; else `<dataDir>/secret.key` (created once, 0600; see `loadSecretKey`). */
  readonly secretKey?: string | undefined;
  /** The box to use instead (its key wins over `secretKey`). */
  readonly box?: SecretBox;
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
    this.box = options.box ?? openSecretBox(options.secretKey, options.dataDir);
    this.now = options.now ?? Date.now;
  }

  /** Stores a new session (atomically, mode 0600); its expiry is Kite's next 06:00 IST. */
  save(session: Omit<StoredKiteSession, 'expiresAtMs'> & { readonly expiresAtMs?: number }): StoredKiteSession {
    const stored: StoredKiteSession = { ...session, expiresAtMs: session.expiresAtMs ?? kiteSessionExpiry(session.loginAtMs) };
    this.write(stored);
    return stored;
  }

  private write(session: StoredKiteSession): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, this.box.seal(JSON.stringify(session), SESSION_CONTEXT), { mode: 0o600 });
    renameSync(temp, this.path);
  }

  /**
   * The stored session for `apiKey`, or undefined when there is none, it has expired, belongs
   * to another API key, or cannot be decrypted (another key; tampering): log in again.
   */
  load(apiKey: string): { readonly session?: StoredKiteSession; readonly problem?: string } {
    if (!existsSync(this.path)) return { problem: 'no stored Kite session' };
    let session: StoredKiteSession;
    const sealed = readFileSync(this.path, 'utf8');
    try {
      session = JSON.parse(this.box.open(sealed, SESSION_CONTEXT)) as StoredKiteSession;
    } catch (error) {
      // the layout (and maybe the key file) of the Kite store before the secret boxes were unified: re-seal it
      try {
        session = JSON.parse(this.box.openLegacyUnbound(sealed)) as StoredKiteSession;
      } catch {
        return { problem: `the stored Kite session cannot be decrypted (${error instanceof Error ? error.message : String(error)}): another key, or altered` };
      }
      try {
        this.write(session);
      } catch {
        // read-only data directory: it still opens next time through the same fallback
      }
    }
    if (session.apiKey !== apiKey) return { problem: `the stored Kite session belongs to API key ${session.apiKey}` };
    if (session.expiresAtMs <= this.now())
      return { problem: `the stored Kite session expired at ${new Date(session.expiresAtMs).toISOString()} (Kite sessions end at 06:00 IST)` };
    return { session };
  }

  /** Marks the stored session unusable (after a TokenException): the next start asks for a login. */
  invalidate(): void {
    if (!existsSync(this.path)) return;
    this.write({ apiKey: '', accessToken: '', userId: '', loginAtMs: 0, expiresAtMs: 0 });
  }
}
