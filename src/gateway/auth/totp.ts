/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with node:crypto: what
 * authenticator apps (Google Authenticator, Aegis, 1Password…) compute from a shared secret.
 * Defaults are the ones every app supports: HMAC-SHA1, 6 digits, 30-second steps.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** HMAC algorithms RFC 6238 names. */
export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** Default sha1 (the only one every authenticator app supports). */
  readonly algorithm?: TotpAlgorithm;
  /** Default 6. */
  readonly digits?: number;
  /** Time step in seconds (default 30). */
  readonly stepSec?: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (how otpauth URIs carry secrets). */
export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case-insensitive; spaces, dashes and `=` padding ignored). Throws on other characters. */
export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const character of clean) {
    const index = BASE32.indexOf(character);
    if (index < 0) throw new Error(`not a base32 character: "${character}"`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new random secret (20 bytes, as RFC 4226 recommends for SHA-1), base32. */
export function generateTotpSecret(bytes = 20): string {
  return base32Encode(randomBytes(bytes));
}

/** RFC 4226 HOTP: the `digits`-digit code of `counter` (zero-padded). */
export function hotp(secret: Uint8Array, counter: number, options: TotpOptions = {}): string {
  const digits = options.digits ?? 6;
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(options.algorithm ?? 'sha1', secret)
    .update(message)
    .digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step a moment falls in. */
export function totpStep(timeMs: number, stepSec = 30): number {
  return Math.floor(timeMs / 1000 / stepSec);
}

/** RFC 6238 TOTP: the code at `timeMs`. */
export function totp(secret: Uint8Array, timeMs: number, options: TotpOptions = {}): string {
  return hotp(secret, totpStep(timeMs, options.stepSec), options);
}

/**
 * Checks a code against the steps around `timeMs` (± `window` steps for clock drift) in
 * constant time per step. Returns the matching step (to refuse its reuse), or undefined.
 */
export function verifyTotp(secretBase32: string, code: string, timeMs: number, options: TotpOptions & { readonly window?: number } = {}): number | undefined {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return undefined;
  let secret: Buffer;
  try {
    secret = base32Decode(secretBase32);
  } catch {
    return undefined;
  }
  const window = options.window ?? 1;
  const current = totpStep(timeMs, options.stepSec);
  let matched: number | undefined;
  for (let step = current - window; step <= current + window; step += 1) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(secret, step, options));
    if (timingSafeEqual(expected, Buffer.from(code)) && matched === undefined) matched = step;
  }
  return matched;
}

/** The `otpauth://totp/…` URI an authenticator app scans (as a QR code) or accepts pasted. */
export function otpauthUri(secretBase32: string, account: string, issuer = 'Troupe'): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  return `otpauth://totp/${label}?secret=${secretBase32}&issuer=${encodeURIComponent(issuer)}&algorithm=SHA1&digits=6&period=30`;
}
