/**
 * HTTPS for the gateway: the certificate and key files of `TROUPE_TLS_CERT_FILE` and
 * `TROUPE_TLS_KEY_FILE`, read and checked before anything else starts (a missing, unreadable or
 * mismatched file is a one-line start-up error naming the variable), served with TLS 1.3 as the
 * minimum and HSTS on every response.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config/config.js';

/** The PEM material the gateway serves HTTPS with. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** The oldest protocol the gateway accepts. */
export const TLS_MIN_VERSION = 'TLSv1.3';

/** Sent on every HTTPS response (never on plain HTTP, where a browser ignores it anyway): one year, subdomains too. */
export const HSTS_HEADER = 'max-age=31536000; includeSubDomains';

/** A TLS file that cannot be used; the message names the variable and the file. */
export class TlsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TlsConfigError(`${variable}: cannot read ${path} (${code ?? (error instanceof Error ? error.message : String(error))})`);
  }
}

/** Reads the certificate and key and checks that they load together; throws {@link TlsConfigError}. */
export function loadTls(config: TlsConfig): TlsMaterial {
  const cert = readPem('TROUPE_TLS_CERT_FILE', config.certFile);
  const key = readPem('TROUPE_TLS_KEY_FILE', config.keyFile);
  try {
    createSecureContext({ cert, key, minVersion: TLS_MIN_VERSION });
  } catch (error) {
    throw new TlsConfigError(
      `TROUPE_TLS_CERT_FILE (${config.certFile}) and TROUPE_TLS_KEY_FILE (${config.keyFile}) cannot serve HTTPS: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { cert, key };
}
