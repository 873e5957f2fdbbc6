/**
 * A Kite Connect v3 compatible simulator: REST (Kite's envelope, error types, HTTP codes,
 * auth header, rate limits), the KiteTicker binary WebSocket with order postbacks, a
 * matching engine driven by the synthetic market or a replay, and fault switches under
 * `/__admin/...`. The unmodified `kiteconnect` client works against it through `root`.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Instrument } from '../model/instrument.js';
import type { Paise } from '../model/money.js';
import { kiteTimestamp, parseIstDateTime, postbackChecksum, sha256Hex } from './format.js';
import { SimulatedExchange, SIM_INDEX, utilisedMargins, type KiteJson } from './exchange.js';
import { inputError, KiteApiError, tokenError } from './kite-errors.js';
import { createMarketFeed, type MarketFeed, type SimulatorMarketSource } from './market-feed.js';
import { KITE_RATE_LIMITS, RateLimiter, type RateScope, type SimulatorRateLimits } from './rate-limit.js';
import { DEFAULT_PACKETS_PER_FRAME, FrameWriter, HEARTBEAT_FRAME, PacketBuilder, type TickerMode } from './ticker-codec.js';

/** Options of {@link createKiteSimulator}. */
export interface KiteSimulatorOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly host?: string;
  /** Market source; default the synthetic market with 10 symbols. */
  readonly market?: SimulatorMarketSource;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly seed?: number;
  /** Market ticks generated per wall-clock second; 0 = only when `admin.step` is called (tests). Default 100. */
  readonly ticksPerSecond?: number;
  /** Refuse orders outside 09:15–15:30 IST on weekdays (by the simulator clock). Default true. */
  readonly enforceMarketHours?: boolean;
  /** Refuse MARKET/SL-M orders without market protection (Kite from 1 Apr 2026). Default true. */
  readonly requireMarketProtection?: boolean;
  /** Server-side rate limits; default Kite's. */
  readonly rateLimits?: Partial<SimulatorRateLimits>;
  /** The simulator clock, epoch ms; default the exchange time of the latest market tick. */
  readonly clock?: () => number;
  /** Heartbeat interval of the ticker, ms. Default 1000. */
  readonly heartbeatIntervalMs?: number;
  /** Opening cash of each account, paise. Default ₹10,00,000. */
  readonly openingCashPaise?: Paise;
  /** Initial fault switches. */
  readonly faults?: Partial<SimulatorFaults>;
  /** Where `GET /connect/login` redirects with a fresh request token (the app's redirect URL); a `redirect_url` query parameter overrides it. */
  readonly redirectUrl?: string;
}

/** Fault switches (also settable at run time through `admin.setFaults` or `POST /__admin/faults`). */
export interface SimulatorFaults {
  /** Answer order place/modify/cancel only after this many ms (the order is processed at once). */
  readonly orderDelayMs: number;
  /** Reject every new order with this status message (null = off). */
  readonly rejectOrders: string | null;
  /** The next N API requests answer `serverErrorStatus` with a non-JSON body; order writes are processed first (outcome unknown to the client). */
  readonly serverErrors: number;
  readonly serverErrorStatus: number;
  /** Stop sending order postbacks over the WebSocket. */
  readonly stopPostbacks: boolean;
  /** Damage historical candles: the 1st of each answer gets high below low, the 2nd a negative volume, the 3rd a null open. */
  readonly corruptCandles: boolean;
}

const DEFAULT_FAULTS: SimulatorFaults = {
  orderDelayMs: 0,
  rejectOrders: null,
  serverErrors: 0,
  serverErrorStatus: 503,
  stopPostbacks: false,
  corruptCandles: false,
};

/** Counters for benchmarks and tests. */
export interface SimulatorStats {
  readonly marketTicks: number;
  readonly packetsSent: number;
  readonly framesSent: number;
  readonly packetsDropped: number;
  readonly connections: number;
  /** Instrument dumps served (`GET /instruments[/…]`). */
  readonly instrumentDumps: number;
  /** Historical candle requests answered (successfully or not). */
  readonly historicalRequests: number;
  /** Order placements received (`POST /orders/{variety}`), including rejected ones. */
  readonly orderPlacements: number;
  /** CPU time (user + system) of the process hosting the simulator so far, µs: benchmarks divide its growth by the packets sent. */
  readonly processCpuMicros: number;
  /** When these counters were read: `performance.now()` of the simulator process, ms (rates between two reads). */
  readonly sampledAtMs: number;
}

/** In-process control of a running simulator (the same operations as `/__admin/...`). */
export interface KiteSimulatorAdmin {
  /** Mints a single-use request token, as Kite's login redirect would bring (default user ZS0001). */
  createRequestToken(userId?: string): string;
  /** Advances the market by `ticks` ticks (matching, postbacks and ticker frames included). Returns how many were applied. */
  step(ticks: number): number;
  faults(): SimulatorFaults;
  setFaults(faults: Partial<SimulatorFaults>): SimulatorFaults;
  /** Terminates every ticker WebSocket; returns how many. */
  dropWebSockets(): number;
  /** Expires every access token (403 TokenException from now on, as at 06:00 IST); closes their sockets. */
  expireSessions(): void;
  readonly instruments: readonly Instrument[];
  lastPricePaise(symbol: string): Paise | undefined;
  depth(symbol: string): ReturnType<SimulatedExchange['depth']>;
  /** The simulator clock, epoch ms. */
  nowMs(): number;
  stats(): SimulatorStats;
  /** The simulated exchange itself (books, accounts), for tests and tools. */
  readonly exchange: SimulatedExchange;
}

/** A running simulator. */
export interface KiteSimulator {
  /** REST root for `new KiteConnect({ root })`, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  /** Ticker root for `new KiteTicker({ root })`, e.g. `ws://127.0.0.1:9000/`. */
  readonly wsUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly admin: KiteSimulatorAdmin;
  close(): Promise<void>;
}

interface Session {
  readonly userId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly publicToken: string;
  expired: boolean;
}

interface TickerClient {
  readonly socket: WebSocket;
  readonly session: Session;
  readonly modes: Map<number, TickerMode>;
  /** Packets waiting for the end of the current market step, sent as one frame. */
  readonly frame: FrameWriter;
}

const MAX_TOKENS_PER_CONNECTION = 3000;
/**
 * Frames are dropped for a client whose socket has more than this queued (a slow consumer): about
 * 22,000 full-mode packets, a second or so of what one client can parse. A larger backlog would
 * only hand the client older and older ticks.
 */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const DEFAULT_USER = 'ZS0001';

/** Starts a simulator and resolves once it listens. */
export async function createKiteSimulator(options: KiteSimulatorOptions): Promise<KiteSimulator> {
  const host = options.host ?? '127.0.0.1';
  const ctx = simulatorContext(options);
  const ticker = tickerFanOut(ctx);
  ticker.prime();
  const stopPacing = startPacing(ctx, ticker.step);
  const sessions = new SessionStore(options, ctx.nowMs, ctx.clients);
  const control = adminControl(ctx, ticker.step, sessions);
  const routes = restRoutes(ctx, sessions, control);
  const server: Server = createServer((req, res) => {
    void handleRequest(routes, req, res);
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => acceptTicker(ctx, ticker, sessions, wss, { req, socket, head }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const base = `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const { exchange } = ctx;
  return {
    url: `http://${base}`,
    wsUrl: `ws://${base}/`,
    apiKey: options.apiKey,
    apiSecret: options.apiSecret,
    admin: {
      createRequestToken: (userId) => sessions.createRequestToken(userId),
      step: ticker.step,
      faults: () => ctx.faults,
      setFaults: control.setFaults,
      dropWebSockets: control.dropWebSockets,
      expireSessions: () => sessions.expireAll(),
      instruments: ctx.feed.instruments,
      lastPricePaise: (symbol) => exchange.lastPricePaise(symbol),
      depth: (symbol) => exchange.depth(symbol),
      nowMs: ctx.nowMs,
      stats: control.stats,
      exchange,
    },
    async close(): Promise<void> {
      stopPacing();
      for (const client of ctx.clients) client.socket.terminate();
      ctx.clients.clear();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the parts of a running simulator share: its options, market, exchange, ticker clients, counters and fault switches. */
interface SimulatorContext {
  readonly options: KiteSimulatorOptions;
  readonly feed: MarketFeed;
  readonly exchange: SimulatedExchange;
  readonly limiter: RateLimiter;
  readonly clients: Set<TickerClient>;
  readonly stats: {
    marketTicks: number;
    packetsSent: number;
    framesSent: number;
    packetsDropped: number;
    instrumentDumps: number;
    historicalRequests: number;
    orderPlacements: number;
  };
  faults: SimulatorFaults;
  readonly nowMs: () => number;
}

function simulatorContext(options: KiteSimulatorOptions): SimulatorContext {
  const seed = options.seed ?? 1;
  const feed = createMarketFeed(options.market ?? { kind: 'synthetic' }, seed);
  const clients = new Set<TickerClient>();
  const nowMs = (): number => (options.clock ? options.clock() : exchange.marketTimeMs);
  const exchange: SimulatedExchange = new SimulatedExchange({
    instruments: feed.instruments,
    seed,
    nowMs,
    enforceMarketHours: options.enforceMarketHours ?? true,
    requireMarketProtection: options.requireMarketProtection ?? true,
    openingCashPaise: options.openingCashPaise ?? 10_00_000_00,
    onOrderUpdate: (userId, order) => {
      if (ctx.faults.stopPostbacks) return;
      const payload = {
        ...order,
        app_id: options.apiKey,
        checksum: postbackChecksum(String(order['order_id']), String(order['order_timestamp']), options.apiSecret),
      };
      const text = JSON.stringify({ type: 'order', id: '', data: payload });
      for (const client of clients) {
        if (client.session.userId === userId && client.socket.readyState === client.socket.OPEN) client.socket.send(text);
      }
    },
  });
  const ctx: SimulatorContext = {
    options,
    feed,
    exchange,
    limiter: new RateLimiter({ ...KITE_RATE_LIMITS, ...options.rateLimits }),
    clients,
    stats: { marketTicks: 0, packetsSent: 0, framesSent: 0, packetsDropped: 0, instrumentDumps: 0, historicalRequests: 0, orderPlacements: 0 },
    faults: { ...DEFAULT_FAULTS, ...options.faults },
    nowMs,
  };
  return ctx;
}

/** Market steps and the ticker frames they produce for each subscribed client. */
interface TickerFanOut {
  /** Advances the market by `count` ticks, queues their packets and flushes every client. Returns the ticks applied. */
  readonly step: (count: number) => number;
  /** Steps until every symbol has a price (before the first request). */
  readonly prime: () => void;
  /** Sends the current state of newly subscribed (or re-moded) tokens at once, as Kite does. */
  readonly snapshot: (client: TickerClient, tokens: readonly number[]) => void;
}

function tickerFanOut(ctx: SimulatorContext): TickerFanOut {
  const { exchange, feed, clients, stats } = ctx;
  // One packet builder for the whole simulator: each tick's fields are read into it once and
  // appended to every subscribed client's frame (no object per tick or per packet).
  const packet = new PacketBuilder();
  const hasSubscribers = (): boolean => {
    for (const client of clients) if (client.modes.size > 0) return true;
    return false;
  };

  const step = (count: number): number => {
    const ticks = feed.next(count);
    const fanOut = hasSubscribers();
    for (const tick of ticks) {
      exchange.onMarketTick(tick);
      if (fanOut) queueTick(tick.token);
    }
    if (fanOut && ticks.length > 0) queueTick(SIM_INDEX.token);
    stats.marketTicks += ticks.length;
    for (const client of clients) flushClient(client);
    return ticks.length;
  };

  const queueTick = (token: number): void => {
    // what `packet` holds for this token so far: 0 nothing, 1 without depth, 2 with depth
    let filled = 0;
    for (const client of clients) {
      const mode = client.modes.get(token);
      if (mode === undefined) continue;
      const need = mode === 'full' ? 2 : 1;
      if (filled < need) {
        if (!exchange.fillPacket(token, need === 2, packet)) return;
        filled = need;
      }
      appendPacket(client, mode);
    }
  };

  const appendPacket = (client: TickerClient, mode: TickerMode): void => {
    if (client.frame.append(packet, mode)) return;
    flushClient(client);
    client.frame.append(packet, mode);
  };

  const flushClient = (client: TickerClient): void => {
    const count = client.frame.packets;
    if (count === 0) return;
    if (client.socket.readyState !== client.socket.OPEN) {
      client.frame.clear();
      return;
    }
    // a slow consumer loses frames rather than growing the server's memory without bound
    if (client.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      client.frame.clear();
      stats.packetsDropped += count;
      return;
    }
    const frame = client.frame.take();
    if (frame === undefined) return;
    client.socket.send(frame, { binary: true });
    stats.framesSent += 1;
    stats.packetsSent += count;
  };

  return {
    step,
    prime: () => {
      for (let guard = 0; guard < 200 && feed.instruments.some((i) => exchange.lastPricePaise(i.symbol) === undefined); guard += 1) {
        if (step(Math.max(16, feed.instruments.length)) === 0) break;
      }
    },
    snapshot: (client, tokens) => {
      for (const token of tokens) {
        const mode = client.modes.get(token);
        if (mode === undefined || !exchange.fillPacket(token, mode === 'full', packet)) continue;
        appendPacket(client, mode);
      }
      flushClient(client);
    },
  };
}

/** Steps the market `ticksPerSecond` on the wall clock and sends ticker heartbeats; returns the function that stops both. */
function startPacing(ctx: SimulatorContext, step: (count: number) => number): () => void {
  const ticksPerSecond = ctx.options.ticksPerSecond ?? 100;
  let pacer: NodeJS.Timeout | undefined;
  if (ticksPerSecond > 0) {
    const intervalMs = ticksPerSecond >= 1000 ? 10 : 50;
    let started = performance.now();
    let done = 0;
    pacer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) * ticksPerSecond) / 1000) - done;
      if (due <= 0) return;
      // After a stall, do not try to catch up more than a second's worth.
      const count = Math.min(due, ticksPerSecond);
      done += due;
      step(count);
      if (done > 1e12) {
        started = performance.now();
        done = 0;
      }
    }, intervalMs);
  }
  const heartbeat = setInterval(() => {
    for (const client of ctx.clients) if (client.socket.readyState === client.socket.OPEN) client.socket.send(HEARTBEAT_FRAME, { binary: true });
  }, ctx.options.heartbeatIntervalMs ?? 1000);
  return () => {
    if (pacer) clearInterval(pacer);
    clearInterval(heartbeat);
  };
}

/** Request tokens and access-token sessions, as Kite's login flow issues them. */
class SessionStore {
  private readonly requestTokens = new Map<string, string>();
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly options: KiteSimulatorOptions,
    private readonly nowMs: () => number,
    private readonly clients: ReadonlySet<TickerClient>,
  ) {}

  /** Mints a single-use request token for `userId`. */
  createRequestToken(userId = DEFAULT_USER): string {
    const token = randomBytes(16).toString('hex');
    this.requestTokens.set(token, userId);
    return token;
  }

  /** Spends a request token: the user it was minted for, or undefined when it is unknown or spent. */
  redeem(requestToken: string): string | undefined {
    const userId = this.requestTokens.get(requestToken);
    this.requestTokens.delete(requestToken);
    return userId;
  }

  /** The session of an `Authorization: token api_key:access_token` header; a TokenException otherwise. */
  authenticate(req: IncomingMessage): Session {
    const header = req.headers['authorization'] ?? '';
    const match = /^token ([^:]+):(.+)$/.exec(header);
    if (!match || match[1] !== this.options.apiKey) throw tokenError();
    const session = this.sessions.get(match[2] ?? '');
    if (session === undefined) throw tokenError();
    if (session.expired) throw tokenError('Token is invalid or has expired.');
    return session;
  }

  /** A live session by access token (the ticker's upgrade), or undefined. */
  live(accessToken: string): Session | undefined {
    const session = this.sessions.get(accessToken);
    return session === undefined || session.expired ? undefined : session;
  }

  byAccessToken(accessToken: string): Session | undefined {
    return this.sessions.get(accessToken);
  }

  byRefreshToken(refreshToken: string): Session | undefined {
    return [...this.sessions.values()].find((s) => s.refreshToken === refreshToken);
  }

  /** A fresh session for `userId`, as `POST /session/token` answers it. */
  open(userId: string): KiteJson {
    const session: Session = {
      userId,
      accessToken: randomBytes(16).toString('hex'),
      refreshToken: randomBytes(16).toString('hex'),
      publicToken: randomBytes(8).toString('hex'),
      expired: false,
    };
    this.sessions.set(session.accessToken, session);
    return {
      ...profileJson(session.userId),
      api_key: this.options.apiKey,
      access_token: session.accessToken,
      public_token: session.publicToken,
      refresh_token: session.refreshToken,
      enctoken: '',
      login_time: kiteTimestamp(this.nowMs()),
    };
  }

  /** Expires every access token (as at 06:00 IST) and closes their ticker sockets. */
  expireAll(): void {
    for (const session of this.sessions.values()) session.expired = true;
    for (const client of this.clients) client.socket.close(1000, 'session expired');
  }
}

/** The `/__admin/...` operations (and the in-process admin's). */
interface AdminControl {
  readonly setFaults: (update: Partial<SimulatorFaults>) => SimulatorFaults;
  readonly dropWebSockets: () => number;
  readonly stats: () => SimulatorStats;
  readonly handle: (method: string, parts: readonly string[], params: Map<string, string>) => unknown;
}

function adminControl(ctx: SimulatorContext, step: (count: number) => number, sessions: SessionStore): AdminControl {
  const setFaults = (update: Partial<SimulatorFaults>): SimulatorFaults => {
    ctx.faults = { ...ctx.faults, ...update };
    ctx.exchange.rejectAllOrders = ctx.faults.rejectOrders;
    return ctx.faults;
  };
  const dropWebSockets = (): number => {
    const count = ctx.clients.size;
    for (const client of ctx.clients) client.socket.terminate();
    return count;
  };
  const stats = (): SimulatorStats => {
    const cpu = process.cpuUsage();
    return { ...ctx.stats, connections: ctx.clients.size, processCpuMicros: cpu.user + cpu.system, sampledAtMs: performance.now() };
  };
  const handle = (method: string, parts: readonly string[], params: Map<string, string>): unknown => {
    const action = parts.join('/');
    if (method === 'GET' && action === 'faults') return ctx.faults;
    if (method === 'GET' && action === 'stats') return stats();
    if (method !== 'POST') throw new KiteApiError(405, 'GeneralException', 'Method not allowed');
    switch (action) {
      case 'request-token':
        return { request_token: sessions.createRequestToken(params.get('user_id') || undefined) };
      case 'step':
        return { ticks: step(Number(params.get('ticks') ?? '1') || 1) };
      case 'faults':
        return setFaults(faultsFromParams(params));
      case 'drop-websocket':
        return { dropped: dropWebSockets() };
      case 'expire-sessions':
        sessions.expireAll();
        return true;
      default:
        throw new KiteApiError(404, 'GeneralException', 'Route not found');
    }
  };
  return { setFaults, dropWebSockets, stats, handle };
}

/** The fault switches a `POST /__admin/faults` names; an InputException for a bad number. */
function faultsFromParams(params: Map<string, string>): Partial<SimulatorFaults> {
  const update: { -readonly [K in keyof SimulatorFaults]?: SimulatorFaults[K] } = {};
  for (const name of ['orderDelayMs', 'serverErrors', 'serverErrorStatus'] as const) {
    const value = params.get(name);
    if (value !== undefined) {
      const number = Number(value);
      if (!Number.isSafeInteger(number) || number < 0) throw inputError(`Invalid \`${name}\`.`);
      update[name] = number;
    }
  }
  const reject = params.get('rejectOrders');
  if (reject !== undefined) update.rejectOrders = reject === '' || reject === 'false' ? null : reject;
  const stop = params.get('stopPostbacks');
  if (stop !== undefined) update.stopPostbacks = stop === 'true' || stop === '1';
  const corrupt = params.get('corruptCandles');
  if (corrupt !== undefined) update.corruptCandles = corrupt === 'true' || corrupt === '1';
  return update;
}

/** Answers a REST request: its data (sent in Kite's envelope), or {@link RESPONDED} when the route wrote the response itself. */
type Routes = (req: IncomingMessage, url: URL, params: Map<string, string>, res: ServerResponse) => Promise<unknown>;

/** A REST request in: the route's path parts and parameters. */
interface RestRequest {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly path: string;
  readonly parts: readonly string[];
  readonly url: URL;
  readonly params: Map<string, string>;
  readonly res: ServerResponse;
}

function restRoutes(ctx: SimulatorContext, sessions: SessionStore, control: AdminControl): Routes {
  const { options } = ctx;
  const rateLimit = (scope: RateScope): void => {
    if (!ctx.limiter.allow(options.apiKey, scope, performance.now())) throw new KiteApiError(429, 'NetworkException', 'Too many requests');
  };
  return async (req, url, params, res) => {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const parts = path.split('/').filter((s) => s !== '');
    if (parts[0] === '__admin') return control.handle(method, parts.slice(1), params);
    const request: RestRequest = { req, method, path, parts, url, params, res };
    const session = sessionRoute(options, sessions, rateLimit, request);
    if (session !== NOT_ROUTED) return session;

    const userId = sessions.authenticate(req).userId;
    const injected = ctx.faults.serverErrors > 0;
    if (injected) ctx.faults = { ...ctx.faults, serverErrors: ctx.faults.serverErrors - 1 };
    const orderWrite = parts[0] === 'orders' && (method === 'POST' || method === 'PUT' || method === 'DELETE');
    if (injected && !orderWrite) throw new ServerFault(ctx.faults.serverErrorStatus);
    rateLimit(parts[0] === 'quote' ? 'quote' : parts[0] === 'instruments' && parts[1] === 'historical' ? 'historical' : orderWrite ? 'orders' : 'other');
    if (orderWrite) {
      const result = orderRoute(ctx, userId, request);
      if (ctx.faults.orderDelayMs > 0) await delay(ctx.faults.orderDelayMs, res);
      if (injected) throw new ServerFault(ctx.faults.serverErrorStatus);
      return result;
    }
    if (method !== 'GET') throw new KiteApiError(405, 'GeneralException', 'Method not allowed');
    return readRoute(ctx, userId, request);
  };
}

const NOT_ROUTED = Symbol('not routed');

/** The login redirect and `/session/...`: no access token needed. {@link NOT_ROUTED} for any other path. */
function sessionRoute(options: KiteSimulatorOptions, sessions: SessionStore, rateLimit: (scope: RateScope) => void, request: RestRequest): unknown {
  const { method, path, params, res } = request;
  // Kite's login page, reduced to its redirect: the user is "logged in" at once and sent to the
  // app's redirect URL (`redirect_url`, a simulator extension; Kite uses the app's registered one)
  if (path === '/connect/login' && method === 'GET') {
    if (params.get('api_key') !== options.apiKey) throw inputError('Invalid `api_key`.');
    const redirect = params.get('redirect_url') ?? options.redirectUrl;
    const requestToken = sessions.createRequestToken(params.get('user_id') || undefined);
    if (redirect === undefined) return { request_token: requestToken };
    let target: URL;
    try {
      target = new URL(redirect);
    } catch {
      throw inputError('Invalid `redirect_url`.');
    }
    target.searchParams.set('action', 'login');
    target.searchParams.set('type', 'login');
    target.searchParams.set('status', 'success');
    target.searchParams.set('request_token', requestToken);
    res.writeHead(302, { Location: target.toString(), 'Content-Type': 'text/plain' });
    res.end(`Logged in: redirecting to ${target.toString()}`);
    return RESPONDED;
  }
  if (path === '/session/token' && method === 'POST') {
    rateLimit('other');
    for (const name of ['api_key', 'request_token', 'checksum']) if (!params.get(name)) throw inputError(`Missing \`${name}\`.`);
    if (params.get('api_key') !== options.apiKey) throw inputError('Invalid `api_key`.');
    const requestToken = params.get('request_token')!;
    if (params.get('checksum') !== sha256Hex(options.apiKey, requestToken, options.apiSecret)) throw tokenError('Invalid `checksum`.');
    const userId = sessions.redeem(requestToken);
    if (userId === undefined) throw tokenError('Token is invalid or has expired.');
    return sessions.open(userId);
  }
  if (path === '/session/refresh_token' && method === 'POST') {
    const refresh = params.get('refresh_token') ?? '';
    if (params.get('checksum') !== sha256Hex(options.apiKey, refresh, options.apiSecret)) throw tokenError('Invalid `checksum`.');
    const old = sessions.byRefreshToken(refresh);
    if (old === undefined) throw tokenError('Token is invalid or has expired.');
    return sessions.open(old.userId);
  }
  if (path === '/session/token' && method === 'DELETE') {
    const token = params.get('access_token');
    const session = token === undefined ? undefined : sessions.byAccessToken(token);
    if (session) session.expired = true;
    return true;
  }
  return NOT_ROUTED;
}

/** `POST /orders/{variety}`, `PUT` and `DELETE /orders/{variety}/{id}`: the order id. */
function orderRoute(ctx: SimulatorContext, userId: string, { method, parts, params }: RestRequest): unknown {
  const { exchange } = ctx;
  exchange.rejectAllOrders = ctx.faults.rejectOrders;
  const variety = parts[1] ?? '';
  if (method === 'POST' && parts.length === 2) ctx.stats.orderPlacements += 1;
  if (method === 'POST' && parts.length === 2) return { order_id: exchange.placeOrder(userId, { variety, params }) };
  if (method === 'PUT' && parts.length === 3) return { order_id: exchange.modifyOrder(userId, variety, parts[2]!, params) };
  if (method === 'DELETE' && parts.length === 3) return { order_id: exchange.cancelOrder(userId, variety, parts[2]!) };
  throw new KiteApiError(404, 'GeneralException', 'Route not found');
}

/** The authenticated `GET` routes: user, orders, trades, portfolio, quotes, instruments and candles. */
function readRoute(ctx: SimulatorContext, userId: string, { parts, url, params, res }: RestRequest): unknown {
  const { exchange } = ctx;
  switch (parts[0]) {
    case 'user':
      if (parts[1] === 'profile') return profileJson(userId);
      if (parts[1] === 'margins') {
        const equity = exchange.equityMargins(userId);
        if (parts[2] === 'equity') return equity;
        if (parts[2] === 'commodity') return emptyCommodity();
        if (parts[2] === undefined) return { equity, commodity: emptyCommodity() };
      }
      break;
    case 'orders':
      if (parts.length === 1) return exchange.orders(userId);
      if (parts.length === 2) return exchange.orderHistory(userId, parts[1]!);
      if (parts.length === 3 && parts[2] === 'trades') return exchange.trades(userId, parts[1]);
      break;
    case 'trades':
      return exchange.trades(userId);
    case 'portfolio':
      if (parts[1] === 'positions') return exchange.positions(userId);
      if (parts[1] === 'holdings') return [];
      break;
    case 'quote':
      return quotes(exchange, parts[1], url.searchParams.getAll('i'));
    case 'instruments':
      if (parts[1] === 'historical' && parts.length === 4) return historical(ctx, Number(parts[2]), parts[3]!, params);
      if (parts.length <= 2) {
        ctx.stats.instrumentDumps += 1;
        res.writeHead(200, { 'Content-Type': 'text/csv' });
        res.end(instrumentsCsv(exchange.instruments, parts[1]));
        return RESPONDED;
      }
      break;
    default:
      break;
  }
  throw new KiteApiError(404, 'GeneralException', 'Route not found');
}

/** `GET /quote[/ltp|/ohlc]?i=EXCHANGE:SYMBOL…`: unknown keys are left out, as Kite does. */
function quotes(exchange: SimulatedExchange, kind: string | undefined, keys: readonly string[]): Record<string, unknown> {
  if (keys.length === 0) throw inputError('No instruments specified: pass `i=EXCHANGE:SYMBOL`.');
  const limit = kind === 'ltp' ? 1000 : 500;
  if (keys.length > limit) throw inputError(`Too many instruments: at most ${limit}.`);
  const data: Record<string, unknown> = {};
  for (const key of keys) {
    const resolved = exchange.resolveKey(key);
    if (resolved === undefined) continue;
    const value =
      kind === 'ltp'
        ? exchange.ltp(resolved.token)
        : kind === 'ohlc'
          ? exchange.ohlc(resolved.token)
          : kind === undefined
            ? exchange.quote(resolved.token)
            : undefined;
    if (value !== undefined) data[key] = value;
  }
  return data;
}

/** `GET /instruments/historical/{token}/{interval}`: Kite's interval names and date-range limits. */
function historical(ctx: SimulatorContext, token: number, interval: string, params: Map<string, string>): unknown {
  const { exchange } = ctx;
  ctx.stats.historicalRequests += 1;
  const minutes = INTERVALS.get(interval);
  if (minutes === undefined) throw inputError('invalid interval');
  if (!exchange.knowsToken(token)) throw inputError('invalid token');
  const from = parseIstDateTime(params.get('from') ?? '');
  const to = parseIstDateTime(params.get('to') ?? '');
  if (Number.isNaN(from) || Number.isNaN(to)) throw inputError('invalid from or to date');
  if (to < from) throw inputError('invalid date range: `from` is after `to`');
  const maxDays = MAX_DAYS.get(interval) ?? 60;
  if (to - from > maxDays * 86_400_000) throw inputError(`interval exceeds max limit: ${maxDays} days`);
  const candles = exchange.candles(token, minutes, from, to, params.get('oi') === '1');
  if (ctx.faults.corruptCandles) {
    // [time, open, high, low, close, volume(, oi)]
    const [first, second, third] = candles;
    if (first) first[2] = Number(first[3]) - 1;
    if (second) second[5] = -5;
    if (third) third[1] = null;
  }
  return { candles };
}

/** Reads a request's parameters (query, then a form or JSON body), runs the routes, and answers in Kite's envelope or error shape. */
async function handleRequest(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const body = await readBody(req);
    const params = new Map<string, string>();
    for (const [k, v] of url.searchParams) if (!params.has(k)) params.set(k, v);
    const type = req.headers['content-type'] ?? '';
    if (body.length > 0) {
      if (type.includes('application/json')) {
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          for (const [k, v] of Object.entries(parsed)) params.set(k, typeof v === 'string' ? v : JSON.stringify(v));
        }
      } else {
        for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
      }
    }
    const data = await routes(req, url, params, res);
    if (data === RESPONDED || res.writableEnded) return;
    sendJson(res, 200, { status: 'success', data });
  } catch (error) {
    if (res.writableEnded || res.destroyed) return;
    if (error instanceof ServerFault) {
      res.writeHead(error.status, { 'Content-Type': 'text/html' });
      res.end(`<html><body>${error.status} Service Unavailable</body></html>`);
    } else if (error instanceof KiteApiError) {
      sendJson(res, error.httpStatus, { status: 'error', message: error.message, error_type: error.errorType, data: null });
    } else if (error instanceof SyntaxError) {
      sendJson(res, 400, { status: 'error', message: 'Malformed request body.', error_type: 'InputException', data: null });
    } else {
      sendJson(res, 500, { status: 'error', message: error instanceof Error ? error.message : String(error), error_type: 'GeneralException', data: null });
    }
  }
}

/** Upgrades a ticker connection (`?api_key=…&access_token=…` of a live session) and follows its subscribe/unsubscribe/mode messages. */
function acceptTicker(
  ctx: SimulatorContext,
  ticker: TickerFanOut,
  sessions: SessionStore,
  wss: WebSocketServer,
  upgrade: { req: IncomingMessage; socket: Duplex; head: Buffer },
): void {
  const { req, socket, head } = upgrade;
  const url = new URL(req.url ?? '/', 'http://simulator');
  const session = sessions.live(url.searchParams.get('access_token') ?? '');
  if (url.searchParams.get('api_key') !== ctx.options.apiKey || session === undefined) {
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nInvalid api_key or access_token');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    const client: TickerClient = { socket: ws, session, modes: new Map(), frame: new FrameWriter(DEFAULT_PACKETS_PER_FRAME) };
    ctx.clients.add(client);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      onClientMessage(ctx.exchange, ticker, client, rawText(data));
    });
    ws.on('close', () => ctx.clients.delete(client));
    ws.on('error', () => ctx.clients.delete(client));
  });
}

function onClientMessage(exchange: SimulatedExchange, ticker: TickerFanOut, client: TickerClient, text: string): void {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    client.socket.send(JSON.stringify({ type: 'error', data: 'Invalid message: not JSON' }));
    return;
  }
  const m = message as { a?: unknown; v?: unknown };
  const tokens = (list: unknown): number[] => (Array.isArray(list) ? list.filter((t): t is number => typeof t === 'number' && exchange.knowsToken(t)) : []);
  if (m.a === 'subscribe') {
    const added = tokens(m.v).filter((t) => !client.modes.has(t));
    for (const token of added) {
      if (client.modes.size >= MAX_TOKENS_PER_CONNECTION) {
        client.socket.send(JSON.stringify({ type: 'error', data: `Subscription limit of ${MAX_TOKENS_PER_CONNECTION} instruments reached` }));
        break;
      }
      client.modes.set(token, 'quote');
    }
    ticker.snapshot(client, added);
  } else if (m.a === 'unsubscribe') {
    for (const token of tokens(m.v)) client.modes.delete(token);
  } else if (m.a === 'mode' && Array.isArray(m.v) && isMode(m.v[0] as unknown)) {
    const mode = m.v[0] as TickerMode;
    const changed = tokens(m.v[1] as unknown).filter((t) => client.modes.has(t));
    for (const token of changed) client.modes.set(token, mode);
    ticker.snapshot(client, changed);
  } else {
    client.socket.send(JSON.stringify({ type: 'error', data: 'Invalid message' }));
  }
}

function isMode(value: unknown): value is TickerMode {
  return value === 'ltp' || value === 'quote' || value === 'full';
}

class ServerFault extends Error {
  constructor(readonly status: number) {
    super(`injected ${status}`);
  }
}

const RESPONDED = Symbol('responded');

const INTERVALS = new Map<string, number | 'day'>([
  ['minute', 1],
  ['3minute', 3],
  ['5minute', 5],
  ['10minute', 10],
  ['15minute', 15],
  ['30minute', 30],
  ['60minute', 60],
  ['day', 'day'],
]);
const MAX_DAYS = new Map<string, number>([
  ['minute', 60],
  ['3minute', 100],
  ['5minute', 100],
  ['10minute', 100],
  ['15minute', 200],
  ['30minute', 200],
  ['60minute', 400],
  ['day', 2000],
]);

function profileJson(userId: string): KiteJson {
  return {
    user_id: userId,
    user_type: 'individual',
    email: `${userId.toLowerCase()}@example.com`,
    user_name: `Simulated ${userId}`,
    user_shortname: 'Simulated',
    broker: 'ZERODHA',
    exchanges: ['NSE'],
    products: ['CNC', 'MIS'],
    order_types: ['MARKET', 'LIMIT', 'SL', 'SL-M'],
    avatar_url: null,
    meta: { demat_consent: 'physical' },
  };
}

function emptyCommodity(): KiteJson {
  return {
    enabled: false,
    net: 0,
    available: { adhoc_margin: 0, cash: 0, opening_balance: 0, live_balance: 0, collateral: 0, intraday_payin: 0 },
    utilised: utilisedMargins(0),
  };
}

/** The instrument dump: Kite's header, one row per instrument, a trailing newline (as the real dump). */
export function instrumentsCsv(instruments: readonly Instrument[], exchange: string | undefined): string {
  const lines = ['instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange'];
  if (exchange === undefined || exchange === 'NSE') {
    for (const i of instruments) {
      const name = i.name.includes(',') ? `"${i.name}"` : i.name;
      lines.push(`${i.token},${i.token >>> 8},${i.symbol},${name},0,,,${(i.tickSizePaise / 100).toString()},${i.lotSize},EQ,NSE,NSE`);
    }
    lines.push(`${SIM_INDEX.token},${SIM_INDEX.token >>> 8},${SIM_INDEX.symbol},${SIM_INDEX.symbol},0,,,0,0,EQ,INDICES,NSE`);
  }
  return `${lines.join('\n')}\n`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function rawText(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return '';
}

function delay(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
