import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
 * Authenticated encryption at rest (AES-256-GCM, a random 96-bit IV per value) for the few
 * secrets the database must keep readable (TOTP secrets). A sealed value is
 * `v1.<iv>.<ciphertext>.<tag>` (base64url); `context` (e.g. the user id) is bound as associated
 * data, so a value copied to another row does not open.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new RangeError(`a secret box needs a ${KEY_BYTES}-byte key, got ${key.length}`);
    this.key = Buffer.from(key);
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

  open(sealed: string, context: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || iv === undefined || body === undefined || tag === undefined) throw new SecretBoxError('not a sealed value');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('the value does not open with this key (TROUPE_SECRET_KEY or the key file changed?)');
    }
  }
}

/** A 32-byte key from 64 hex characters or base64/base64url; undefined when it is neither. */
export function parseSecretKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === KEY_BYTES ? bytes : undefined;
}

/** Where the generated key lives when `TROUPE_SECRET_KEY` is not set. */
export function secretKeyFile(dataDir: string): string {
  return join(dataDir, 'gateway', 'secret.key');
}

/**
 * The key for {@link SecretBox}: `configured` (`TROUPE_SECRET_KEY`, already validated) when
 * given; else the key file under the data directory, generated once (random, hex, mode 0600,
 * never overwritten) and read on later starts.
 */
export function loadSecretKey(configured: string | undefined, dataDir: string): { readonly key: Buffer; readonly source: 'TROUPE_SECRET_KEY' | 'generated' | 'file'; readonly file?: string } {
  if (configured !== undefined) {
    const key = parseSecretKey(configured);
    if (!key) throw new SecretBoxError('TROUPE_SECRET_KEY must be 32 bytes as 64 hex characters or base64');
    return { key, source: 'TROUPE_SECRET_KEY' };
  }
  const file = secretKeyFile(dataDir);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx': only the first start creates it; a concurrent start reads the winner's
    writeFileSync(file, `${randomBytes(KEY_BYTES).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return { key: readKeyFile(file), source: 'generated', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { key: readKeyFile(file), source: 'file', file };
}

function readKeyFile(file: string): Buffer {
  const key = parseSecretKey(readFileSync(file, 'utf8'));
  if (!key) throw new SecretBoxError(`${file} does not hold a 32-byte key (64 hex characters)`);
  return key;
}
