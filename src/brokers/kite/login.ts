/**
 * Kite's login flow: the user opens the login URL, logs in at Kite, and Kite redirects the
 * browser to the app's redirect URL with `request_token` (+ `action=login&status=success`).
 * {@link receiveRequestToken} is that redirect URL: a one-shot HTTP server on loopback. The
 * request token is exchanged for a session (`generateSession`, checksum with the API secret)
 * and the access token stored encrypted ({@link KiteTokenStore}).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KiteBroker } from './kite-broker.js';
import type { KiteTokenStore, StoredKiteSession } from './token-store.js';

/**
 * The login URL. Kite's is always `https://kite.zerodha.com/connect/login?api_key=K&v=3` (the
 * client's `getLoginURL`); with a non-Kite REST root (the simulator) it is that root's
 * `/connect/login`, which also takes `redirect_url` (the simulator has no app registry).
 */
export function kiteLoginUrl(apiKey: string, root?: string, redirectUrl?: string): string {
  const kite = root === undefined || /^https:\/\/api\.kite\.trade\/?$/.test(root);
  const url = new URL(kite ? 'https://kite.zerodha.com/connect/login' : `${root.replace(/\/+$/, '')}/connect/login`);
  url.searchParams.set('api_key', apiKey);
  url.searchParams.set('v', '3');
  if (!kite && redirectUrl !== undefined) url.searchParams.set('redirect_url', redirectUrl);
  return url.toString();
}

/** A running redirect receiver. */
export interface RequestTokenReceiver {
  /** The redirect URL to register with the Kite app (`http://127.0.0.1:<port>/kite/callback`). */
  readonly redirectUrl: string;
  /** Resolves with the first successful redirect's request token; rejects on `status` other than success or on `close`. */
  readonly requestToken: Promise<string>;
  close(): Promise<void>;
}

/** Starts the loopback server Kite's redirect lands on (port 0 = any free port). */
export async function receiveRequestToken(port: number, host = '127.0.0.1'): Promise<RequestTokenReceiver> {
  let resolve!: (token: string) => void;
  let reject!: (error: Error) => void;
  const requestToken = new Promise<string>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  requestToken.catch(() => undefined);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const token = url.searchParams.get('request_token');
    const status = url.searchParams.get('status');
    if (token === null || token === '') {
      res.writeHead(status !== null && status !== 'success' ? 400 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(status !== null && status !== 'success' ? `Kite login failed (status ${status}).` : 'Waiting for the Kite login redirect (request_token).');
      if (status !== null && status !== 'success') reject(new Error(`Kite login failed: status ${status}`));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end('Troupe received the Kite login. You can close this window.');
    resolve(token);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const address = server.address() as AddressInfo;
  return {
    redirectUrl: `http://${host}:${address.port}/kite/callback`,
    requestToken,
    close: () =>
      new Promise<void>((done) => {
        reject(new Error('login receiver closed'));
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** Exchanges a request token for a session and stores it encrypted. */
export async function completeKiteLogin(options: {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly requestToken: string;
  readonly root?: string;
  readonly store: KiteTokenStore;
  readonly now?: () => number;
}): Promise<StoredKiteSession> {
  const broker = new KiteBroker({ apiKey: options.apiKey, ...(options.root === undefined ? {} : { root: options.root }) });
  const session = await broker.createSessionDetails(options.requestToken, options.apiSecret);
  // the session was created just now: the local clock dates it (Kite's login_time is in the client's
  // local zone; a simulator's is its market clock), and it ends at the next 06:00 IST
  const loginAtMs = (options.now ?? Date.now)();
  return options.store.save({ apiKey: options.apiKey, accessToken: session.accessToken, userId: session.userId, loginAtMs });
}
