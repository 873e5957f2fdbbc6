import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { loadSecretKey, openSecretBox, parseSecretKey, SecretBox, SecretBoxError, secretKeyFile } from '../../src/config/secret-box.js';
import * as unified from '../../src/config/secret-box.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SecretBox (AES-256-GCM at rest)', () => {
  it('seals to a value that holds nothing of the secret, opens only with the same key and context, and detects tampering', () => {
    const box = new SecretBox(Buffer.alloc(32, 7));
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    const sealed = box.seal(secret, 'totp:user-1');
    expect(SecretBox.isSealed(sealed)).toBe(true);
    expect(SecretBox.isSealed(secret)).toBe(false);
    expect(sealed).not.toContain(secret);
    expect(box.seal(secret, 'totp:user-1')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, 'totp:user-1')).toBe(secret);
    expect(() => box.open(sealed, 'totp:user-2')).toThrow(SecretBoxError);
    expect(() => new SecretBox(Buffer.alloc(32, 8)).open(sealed, 'totp:user-1')).toThrow(SecretBoxError);
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0] = body[0]! ^ 1;
    expect(() => box.open([parts[0], parts[1], body.toString('base64url'), parts[3]].join('.'), 'totp:user-1')).toThrow(SecretBoxError);
    expect(() => box.open('v1.nope', 'totp:user-1')).toThrow(SecretBoxError);
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow(RangeError);
  });

  it('reads TROUPE_SECRET_KEY as hex or base64 (config refuses anything else), else generates a 0600 key file once', () => {
    const hex = 'ab'.repeat(32);
    expect(parseSecretKey(hex)).toEqual(Buffer.alloc(32, 0xab));
    expect(parseSecretKey(Buffer.alloc(32, 1).toString('base64'))).toEqual(Buffer.alloc(32, 1));
    expect(parseSecretKey(Buffer.alloc(32, 1).toString('base64url'))).toEqual(Buffer.alloc(32, 1));
    expect(parseSecretKey('too short')).toBeUndefined();
    expect(loadConfig({ TROUPE_SECRET_KEY: hex }).gateway.secretKey).toBe(hex);
    expect(() => loadConfig({ TROUPE_SECRET_KEY: 'abc' })).toThrow(ConfigError);
    expect(() => loadConfig({ TROUPE_SECRET_KEY: 'abc' })).toThrow(/TROUPE_SECRET_KEY/);
    expect(loadConfig({}).gateway.secretKey).toBeUndefined();

    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-key-'));
    dirs.push(dataDir);
    expect(loadSecretKey(hex, dataDir)).toEqual({ key: Buffer.alloc(32, 0xab), source: 'TROUPE_SECRET_KEY', fallbackKeys: [] });
    const generated = loadSecretKey(undefined, dataDir);
    expect(generated.source).toBe('generated');
    expect(secretKeyFile(dataDir)).toBe(join(dataDir, 'secret.key'));
    expect(statSync(secretKeyFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretKeyFile(dataDir), 'utf8').trim()).toBe(generated.key.toString('hex'));
    const again = loadSecretKey(undefined, dataDir);
    expect(again.source).toBe('file');
    expect(again.key).toEqual(generated.key);
  });

  it('is the one box of the gateway and the Kite store (the gateway module re-exports src/config/secret-box.ts)', () => {
    expect(SecretBox).toBe(unified.SecretBox);
    expect(loadSecretKey).toBe(unified.loadSecretKey);
  });

  it('TOTP secrets sealed with the old gateway key file still open: that key becomes the one key file (0600); other old keys only open', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-key-'));
    dirs.push(dataDir);
    const gatewayKey = Buffer.alloc(32, 0x11);
    const kiteKey = Buffer.alloc(32, 0x22);
    mkdirSync(join(dataDir, 'gateway'));
    mkdirSync(join(dataDir, 'kite'));
    writeFileSync(join(dataDir, 'gateway', 'secret.key'), `${gatewayKey.toString('hex')}\n`, { mode: 0o600 });
    writeFileSync(join(dataDir, 'kite', 'secret.key'), kiteKey.toString('hex'), { mode: 0o600 });
    const totp = new SecretBox(gatewayKey).seal('JBSWY3DPEHPK3PXP', 'totp:user-1');
    const sealedWithKiteKey = new SecretBox(kiteKey).seal('other', 'totp:user-2');

    const keys = loadSecretKey(undefined, dataDir);
    expect(keys).toMatchObject({ key: gatewayKey, source: 'adopted', adoptedFrom: join(dataDir, 'gateway', 'secret.key'), fallbackKeys: [kiteKey] });
    expect(readFileSync(secretKeyFile(dataDir), 'utf8').trim()).toBe(gatewayKey.toString('hex'));
    expect(statSync(secretKeyFile(dataDir)).mode & 0o777).toBe(0o600);
    const box = openSecretBox(undefined, dataDir);
    expect(box.open(totp, 'totp:user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(box.open(sealedWithKiteKey, 'totp:user-2')).toBe('other');
    // new values are sealed with the one key only
    expect(new SecretBox(gatewayKey).open(box.seal('new', 'totp:user-3'), 'totp:user-3')).toBe('new');
    expect(() => new SecretBox(kiteKey).open(box.seal('new', 'totp:user-3'), 'totp:user-3')).toThrow(SecretBoxError);
    // later starts read the one key file (the old ones are kept, never overwritten)
    expect(loadSecretKey(undefined, dataDir)).toMatchObject({ key: gatewayKey, source: 'file' });
    // TROUPE_SECRET_KEY wins; the old key files still open what they sealed
    const configured = openSecretBox('ab'.repeat(32), dataDir);
    expect(configured.open(totp, 'totp:user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => new SecretBox(Buffer.alloc(32, 0xab), [Buffer.alloc(16)])).toThrow(RangeError);
  });
});
