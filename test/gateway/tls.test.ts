import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTroupe } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { listenGateway } from '../../src/gateway/gateway.js';
import { loadTls, TlsConfigError } from '../../src/gateway/tls.js';
import { silentLogger } from '../../src/observability/logger.js';
import { debianBinary } from '../support/debian.js';
import { login, startHarness, type Harness } from './harness.js';

/** A self-signed certificate for 127.0.0.1 and localhost, and a second, unrelated key, made with openssl. */
function makeCertificate(dir: string): { certFile: string; keyFile: string; otherKeyFile: string } {
  const openssl = debianBinary('openssl', 'openssl');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const otherKeyFile = join(dir, 'other-key.pem');
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  execFileSync(openssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKeyFile], { stdio: 'ignore' });
  return { certFile, keyFile, otherKeyFile };
}

const body = async (response: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

let dir: string;
let files: ReturnType<typeof makeCertificate>;
let ca: Buffer;
let https: Harness;
let httpsPort: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'));
  files = makeCertificate(dir);
  const tls = loadTls({ certFile: files.certFile, keyFile: files.keyFile });
  ca = tls.cert;
  https = await startHarness({}, { tls });
  httpsPort = await listenGateway(https.app, 0, '127.0.0.1');
}, 120_000);
afterAll(async () => {
  await https?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the gateway over HTTPS', () => {
  it('answers HTTPS with TLS 1.3 and HSTS', async () => {
    const request = httpsGet({ host: '127.0.0.1', port: httpsPort, path: '/api/v1/health', ca, servername: 'localhost' });
    const [response] = (await once(request, 'response')) as [IncomingMessage];
    expect(response.statusCode).toBe(200);
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect((response.socket as TLSSocket).getProtocol()).toBe('TLSv1.3');
    expect(JSON.parse(await body(response))).toHaveProperty('status');
  });

  it('refuses a TLS 1.2 client', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, ca, servername: 'localhost', maxVersion: 'TLSv1.2' });
    const [error] = (await once(socket, 'error').catch((caught: unknown) => [caught])) as [Error & { code?: string }];
    socket.destroy();
    expect(error.code ?? error.message).toMatch(/ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|protocol version|UNSUPPORTED_PROTOCOL/i);
  });

  it('streams over wss', async () => {
    const { authorization } = await login(https.app);
    const socket = new WebSocket(`wss://127.0.0.1:${httpsPort}/api/v1/stream`, { ca });
    const messages: { type: string; [key: string]: unknown }[] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string }));
    try {
      await once(socket, 'open');
      socket.send(JSON.stringify({ type: 'auth', token: authorization.slice('Bearer '.length) }));
      socket.send(JSON.stringify({ type: 'subscribe', topics: ['orders'] }));
      const deadline = Date.now() + 10_000;
      while (!messages.some((message) => message.type === 'subscribed')) {
        if (Date.now() > deadline) throw new Error(`no subscription over wss; got ${JSON.stringify(messages)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(messages[0]).toMatchObject({ type: 'welcome', role: 'admin' });
    } finally {
      socket.terminate();
    }
  });

  it('serves plain HTTP without HSTS when no certificate is given', async () => {
    const plain = await startHarness();
    try {
      const port = await listenGateway(plain.app, 0, '127.0.0.1');
      const [response] = (await once(httpGet({ host: '127.0.0.1', port, path: '/api/v1/health' }), 'response')) as [IncomingMessage];
      expect(response.statusCode).toBe(200);
      expect(response.headers['strict-transport-security']).toBeUndefined();
      await body(response);
    } finally {
      await plain.close();
    }
  });
});

describe('TLS configuration', () => {
  it('listens on loopback for plain HTTP by default, on every address with TLS, and where HOST says', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({}).gateway.tls).toBeUndefined();
    const withTls = loadConfig({ TROUPE_TLS_CERT_FILE: files.certFile, TROUPE_TLS_KEY_FILE: files.keyFile });
    expect(withTls.host).toBe('0.0.0.0');
    expect(withTls.gateway.tls).toEqual({ certFile: files.certFile, keyFile: files.keyFile });
    expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('needs both files, readable, and a key that matches the certificate', () => {
    expect(() => loadConfig({ TROUPE_TLS_CERT_FILE: files.certFile })).toThrow(ConfigError);
    expect(() => loadConfig({ TROUPE_TLS_CERT_FILE: files.certFile })).toThrow('configuration: TROUPE_TLS_KEY_FILE must be set when TROUPE_TLS_CERT_FILE is');
    expect(() => loadConfig({ TROUPE_TLS_KEY_FILE: files.keyFile })).toThrow('configuration: TROUPE_TLS_CERT_FILE must be set when TROUPE_TLS_KEY_FILE is');
    const missing = join(dir, 'missing.pem');
    expect(() => loadTls({ certFile: missing, keyFile: files.keyFile })).toThrow(TlsConfigError);
    expect(() => loadTls({ certFile: missing, keyFile: files.keyFile })).toThrow(`TROUPE_TLS_CERT_FILE: cannot read ${missing} (ENOENT)`);
    expect(() => loadTls({ certFile: files.certFile, keyFile: dir })).toThrow(`TROUPE_TLS_KEY_FILE: cannot read ${dir} (EISDIR)`);
    expect(() => loadTls({ certFile: files.certFile, keyFile: files.otherKeyFile })).toThrow(/cannot serve HTTPS: .*key values mismatch/);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    expect(() => loadTls({ certFile: garbage, keyFile: files.keyFile })).toThrow(/cannot serve HTTPS/);
  });

  it('a start with an unreadable certificate fails before anything opens', async () => {
    // startTroupe reads the files first: no store, lease or port is taken (main prints "troupe: <message>", exit 1)
    const config = loadConfig({
      PORT: '0',
      TROUPE_DATA_DIR: join(dir, 'never-created'),
      TROUPE_TLS_CERT_FILE: join(dir, 'nope.pem'),
      TROUPE_TLS_KEY_FILE: files.keyFile,
    });
    await expect(startTroupe(config, silentLogger())).rejects.toThrow(`TROUPE_TLS_CERT_FILE: cannot read ${join(dir, 'nope.pem')} (ENOENT)`);
    expect(existsSync(join(dir, 'never-created'))).toBe(false);
  });
});
