/**
 * Troupe's one box for secrets at rest (TOTP secrets in the database, the Kite access token in
 * `<dataDir>/kite/session.enc`): AES-256-GCM with a random 96-bit IV per value, and one key.
 *
 * The key is `TROUPE_SECRET_KEY` (32 bytes as 64 hex characters or base64; validated by
 * `loadConfig`) when set, else one key file, `<dataDir>/secret.key`, generated once (random,
 * mode 0600, never overwritten).
 *
 * Before this module there were two boxes with a key file each (`<dataDir>/gateway/secret.key`
 * for TOTP secrets, `<dataDir>/kite/secret.key` for the Kite session) and the Kite box wrote
 * another layout. Nothing already encrypted is lost:
 * - the first start without `<dataDir>/secret.key` adopts an existing old key file as the
 *   key (the gateway's first: TOTP secrets live in the database and are not re-sealed), so
 *   values sealed with it open unchanged;
 * - the other old key files stay readable as fallback keys ({@link SecretBox.open} tries them);
 * - {@link SecretBox.openLegacyUnbound} opens the old Kite layout; the token store re-seals
 *   such a session with the current key and layout when it reads one.
 * Old key files are never deleted (a copy of the data directory made before the upgrade still
 * opens with them); remove them once every value has been re-sealed, if you wish.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;

/** A stored value that cannot be opened with this key (another key, or tampered with). */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * Authenticated encryption at rest. A sealed value is `v1.<iv>.<ciphertext>.<tag>` (base64url);
 * `context` (e.g. `totp:<user id>`, `kite-session`) is bound as associated data, so a value
 * copied to another place does not open there.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly fallbackKeys: readonly Buffer[];

  /** `fallbackKeys` only open (values sealed before the keys were unified); `key` seals and opens. */
  constructor(key: Buffer, fallbackKeys: readonly Buffer[] = []) {
    for (const k of [key, ...fallbackKeys]) if (k.length !== KEY_BYTES) throw new RangeError(`a secret box needs a ${KEY_BYTES}-byte key, got ${k.length}`);
    this.key = Buffer.from(key);
    this.fallbackKeys = fallbackKeys.filter((k) => !k.equals(key)).map((k) => Buffer.from(k));
  }

  /** The box of a configuration's key (see {@link loadSecretKey}). */
  static fromKeys(keys: SecretKeys): SecretBox {
    return new SecretBox(keys.key, keys.fallbackKeys);
  }

  /** A box with a random key (values die with the process: tests and embedding). */
  static ephemeral(): SecretBox {
    return new SecretBox(randomBytes(KEY_BYTES));
  }

  /** Whether a stored value is sealed (else it is a plaintext value written before encryption). */
  static isSealed(value: string): boolean {
    return value.startsWith(`${VERSION}.`);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Opens a value sealed with this box's key or a fallback key under the same `context`. */
  open(sealed: string, context: string): string {
    const [version, iv, body, tag] = sealed.trim().split('.');
    if (version !== VERSION || iv === undefined || body === undefined || tag === undefined) throw new SecretBoxError('not a sealed value');
    const opened = this.tryKeys((key) =>
      decrypt(key, Buffer.from(iv, 'base64url'), Buffer.from(tag, 'base64url'), Buffer.from(body, 'base64url'), Buffer.from(context, 'utf8')),
    );
    if (opened === undefined) throw new SecretBoxError('the value does not open with this key (TROUPE_SECRET_KEY or the key file changed?)');
    return opened;
  }

  /**
   * Opens the layout the first Kite token store wrote: `v1.<iv>.<tag>.<ciphertext>` (base64),
   * without associated data. Read-only: re-seal what it returns with {@link seal}.
   */
  openLegacyUnbound(sealed: string): string {
    const [version, iv, tag, body] = sealed.trim().split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) throw new SecretBoxError('not a sealed value');
    const opened = this.tryKeys((key) => decrypt(key, Buffer.from(iv, 'base64'), Buffer.from(tag, 'base64'), Buffer.from(body, 'base64'), undefined));
    if (opened === undefined) throw new SecretBoxError('the value does not open with this key (TROUPE_SECRET_KEY or the key file changed?)');
    return opened;
  }

  private tryKeys(attempt: (key: Buffer) => string): string | undefined {
    for (const key of [this.key, ...this.fallbackKeys]) {
      try {
        return attempt(key);
      } catch {
        // not this key (or altered): try the next one
      }
    }
    return undefined;
  }
}

function decrypt(key: Buffer, iv: Buffer, tag: Buffer, body: Buffer, aad: Buffer | undefined): string {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  if (aad !== undefined) decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

/** A 32-byte key from 64 hex characters or base64/base64url; undefined when it is neither. */
export function parseSecretKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}

/** The key file used when `TROUPE_SECRET_KEY` is not set. */
export function secretKeyFile(dataDir: string): string {
  return join(dataDir, 'secret.key');
}

/** The key files of the two boxes before they were unified, in adoption order (the gateway's first). */
export function legacySecretKeyFiles(dataDir: string): readonly string[] {
  return [join(dataDir, 'gateway', 'secret.key'), join(dataDir, 'kite', 'secret.key')];
}

/** Where the key came from. */
export type SecretKeySource = 'TROUPE_SECRET_KEY' | 'generated' | 'file' | 'adopted';

/** The key and the older keys that may still have sealed something. */
export interface SecretKeys {
  readonly key: Buffer;
  readonly source: SecretKeySource;
  /** The key file (not with `TROUPE_SECRET_KEY`). */
  readonly file?: string;
  /** `adopted`: the old key file that became the key. */
  readonly adoptedFrom?: string;
  /** Keys of old key files other than the key: they open, never seal. */
  readonly fallbackKeys: readonly Buffer[];
}

/**
 * The key: `configured` (`TROUPE_SECRET_KEY`, already validated) when given; else
 * `<dataDir>/secret.key`, read, or created once (mode 0600, never overwritten) from the first
 * old key file that exists (`adopted`), else from random bytes (`generated`). Old key files that
 * differ from the key come back as fallback keys.
 */
export function loadSecretKey(configured: string | undefined, dataDir: string): SecretKeys {
  const legacy: { file: string; key: Buffer }[] = [];
  for (const file of legacySecretKeyFiles(dataDir)) {
    if (!existsSync(file)) continue;
    const key = parseSecretKey(readFileSync(file, 'utf8'));
    if (key) legacy.push({ file, key });
  }
  const fallbacks = (key: Buffer): Buffer[] => legacy.map((l) => l.key).filter((k, i, all) => !k.equals(key) && all.findIndex((o) => o.equals(k)) === i);
  if (configured !== undefined) {
    const key = parseSecretKey(configured);
    if (!key) throw new SecretBoxError('TROUPE_SECRET_KEY must be 32 bytes as 64 hex characters or base64');
    return { key, source: 'TROUPE_SECRET_KEY', fallbackKeys: fallbacks(key) };
  }
  const file = secretKeyFile(dataDir);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const adopted = legacy[0];
  try {
    // 'wx': only the first start creates it; a concurrent start reads the winner's
    writeFileSync(file, `${(adopted?.key ?? randomBytes(KEY_BYTES)).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    const key = readKeyFile(file);
    return adopted && adopted.key.equals(key)
      ? { key, source: 'adopted', file, adoptedFrom: adopted.file, fallbackKeys: fallbacks(key) }
      : { key, source: 'generated', file, fallbackKeys: fallbacks(key) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = readKeyFile(file);
  return { key, source: 'file', file, fallbackKeys: fallbacks(key) };
}

/** The box of a configuration: {@link loadSecretKey} with its fallback keys. */
export function openSecretBox(configured: string | undefined, dataDir: string): SecretBox {
  return SecretBox.fromKeys(loadSecretKey(configured, dataDir));
}

function readKeyFile(file: string): Buffer {
  const key = parseSecretKey(readFileSync(file, 'utf8'));
  if (!key) throw new SecretBoxError(`${file} does not hold a 32-byte key (64 hex characters)`);
  return key;
}
