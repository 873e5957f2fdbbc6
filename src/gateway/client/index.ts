/**
 * A small typed client of the Troupe gateway: REST (`TroupeClient`) and the WebSocket
 * stream with auto-reconnect and gap-free resume (`TroupeStream`). Used by the tests and,
 * later, the dashboard. Node 20 (global fetch, `ws`).
 */
import { WebSocket } from 'ws';
import type { Static } from 'typebox';
import type { ErrorEnvelope } from '../errors.js';
import type {
  CreateApiKeyBody,
  FillSchema,
  InstrumentSchema,
  OrderSchema,
  PlaceOrderBody,
  PlaceOrderResponse,
  PositionsResponse,
  StrategySchema,
  HaltsSchema,
  TokenPairSchema,
} from '../schemas.js';
import type { ServerMessage, StreamEventMessage } from '../stream/protocol.js';

/** The stream's message types. */
export type { ServerMessage, StreamEventMessage } from '../stream/protocol.js';

function queryString(query: Readonly<Record<string, string | number | undefined>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return params.toString();
}

/** A non-2xx answer, with the envelope's stable code. */
export class TroupeApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: readonly { readonly in: string; readonly path: string; readonly message: string }[] = [],
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'TroupeApiError';
  }
}

/** A page of a cursor-paginated list. */
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** Login/refresh answer. */
export type TokenPair = Static<typeof TokenPairSchema>;
/** An order as the API returns it. */
export type Order = Static<typeof OrderSchema>;
/** A fill as the API returns it. */
export type Fill = Static<typeof FillSchema>;

/** Where the gateway is and which credential to use. */
export interface TroupeClientOptions {
  /** e.g. `http://127.0.0.1:8080` */
  readonly baseUrl: string;
  readonly apiKey?: string;
  readonly accessToken?: string;
}

/** REST client. Logs in (or takes an API key), refreshes once on a 401 when it holds a refresh token. */
export class TroupeClient {
  private accessToken: string | undefined;
  private refreshToken: string | undefined;

  constructor(private readonly options: TroupeClientOptions) {
    this.accessToken = options.accessToken;
  }

  /** The credential the stream should use. */
  get token(): string | undefined {
    return this.options.apiKey ?? this.accessToken;
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  async login(username: string, password: string): Promise<TokenPair> {
    const tokens = await this.request<TokenPair>('POST', '/api/v1/auth/login', { username, password }, false);
    this.accessToken = tokens.accessToken;
    this.refreshToken = tokens.refreshToken;
    return tokens;
  }

  async refresh(): Promise<TokenPair> {
    if (!this.refreshToken) throw new TroupeApiError(401, 'unauthenticated', 'no refresh token: log in first');
    const tokens = await this.request<TokenPair>('POST', '/api/v1/auth/refresh', { refreshToken: this.refreshToken }, false);
    this.accessToken = tokens.accessToken;
    this.refreshToken = tokens.refreshToken;
    return tokens;
  }

  async logout(): Promise<void> {
    if (this.refreshToken) await this.request<null>('POST', '/api/v1/auth/logout', { refreshToken: this.refreshToken }, false);
    this.accessToken = undefined;
    this.refreshToken = undefined;
  }

  /** Any call: JSON in, JSON out; a non-2xx throws {@link TroupeApiError}. */
  async request<T>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    else if (this.accessToken) headers.authorization = `Bearer ${this.accessToken}`;
    const response = await fetch(`${this.options.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (response.status === 401 && retry && this.refreshToken && !this.options.apiKey) {
      await this.refresh();
      return this.request<T>(method, path, body, false);
    }
    const text = await response.text();
    if (!response.ok) {
      let envelope: ErrorEnvelope | undefined;
      try {
        envelope = JSON.parse(text) as ErrorEnvelope;
      } catch {
        envelope = undefined;
      }
      throw new TroupeApiError(
        response.status,
        envelope?.error.code ?? 'http-error',
        envelope?.error.message ?? text.slice(0, 200),
        envelope?.error.details ?? [],
      );
    }
    return (text === '' ? null : JSON.parse(text)) as T;
  }

  positions(): Promise<Static<typeof PositionsResponse>> {
    return this.request('GET', '/api/v1/positions');
  }

  /** Orders from the record, newest first; `from`/`to`: ISO dates or date-times, or epoch ms. */
  orders(
    query: {
      portfolio?: string;
      symbol?: string;
      status?: string;
      side?: 'BUY' | 'SELL';
      strategy?: string;
      from?: string;
      to?: string;
      limit?: number;
      cursor?: string;
    } = {},
  ): Promise<Page<Order>> {
    const qs = queryString(query);
    return this.request('GET', `/api/v1/orders${qs ? `?${qs}` : ''}`);
  }

  placeOrder(order: Static<typeof PlaceOrderBody>): Promise<Static<typeof PlaceOrderResponse>> {
    return this.request('POST', '/api/v1/orders', order);
  }

  cancelOrder(clientOrderId: string): Promise<{ clientOrderId: string; status: 'cancel-requested' }> {
    return this.request('DELETE', `/api/v1/orders/${encodeURIComponent(clientOrderId)}`);
  }

  /** Fills from the record, newest first (filters as {@link orders}). */
  trades(
    query: { portfolio?: string; symbol?: string; side?: 'BUY' | 'SELL'; strategy?: string; from?: string; to?: string; limit?: number; cursor?: string } = {},
  ): Promise<Page<Fill>> {
    const qs = queryString(query);
    return this.request('GET', `/api/v1/trades${qs ? `?${qs}` : ''}`);
  }

  strategies(): Promise<{ items: Static<typeof StrategySchema>[] }> {
    return this.request('GET', '/api/v1/strategies');
  }

  /** Why trading is stopped now (empty when it is not). */
  halts(): Promise<Static<typeof HaltsSchema>> {
    return this.request('GET', '/api/v1/halts');
  }

  setStrategyPaused(strategyId: string, paused: boolean): Promise<Static<typeof StrategySchema>> {
    return this.request('POST', `/api/v1/strategies/${encodeURIComponent(strategyId)}/${paused ? 'pause' : 'resume'}`);
  }

  instruments(): Promise<{ items: Static<typeof InstrumentSchema>[] }> {
    return this.request('GET', '/api/v1/instruments');
  }

  createApiKey(request: Static<typeof CreateApiKeyBody>): Promise<{ key: string; apiKey: { id: string } }> {
    return this.request('POST', '/api/v1/api-keys', request);
  }

  /** Opens the live stream with this client's credential. */
  stream(options: Omit<TroupeStreamOptions, 'url' | 'token'>): TroupeStream {
    const token = this.token;
    if (!token) throw new TroupeApiError(401, 'unauthenticated', 'log in or give an API key before streaming');
    return new TroupeStream({ ...options, url: `${this.options.baseUrl.replace(/^http/, 'ws')}/api/v1/stream`, token: () => this.token ?? token });
  }
}

/** Options of {@link TroupeStream}. */
export interface TroupeStreamOptions {
  /** `ws://host:port/api/v1/stream` */
  readonly url: string;
  /** Read at every (re)connect. */
  readonly token: () => string;
  readonly topics: readonly string[];
  readonly onEvent: (event: StreamEventMessage) => void;
  /** Ask for a snapshot of the topics' current state with the first subscription (default false). */
  readonly initialSnapshot?: boolean;
  /** The current state: asked for ({@link initialSnapshot}), or when the resume point was too old (instead of the missed events). */
  readonly onSnapshot?: (snapshot: Extract<ServerMessage, { type: 'snapshot' }>) => void;
  /** Every server message (control messages too). */
  readonly onMessage?: (message: ServerMessage) => void;
  readonly onClose?: (code: number, reason: string) => void;
  /** Reconnect backoff (default 100 ms doubling to 5 s). */
  readonly reconnect?: { readonly minMs: number; readonly maxMs: number };
}

/**
 * The stream with auto-reconnect: after a drop it reconnects with backoff and subscribes
 * with `resumeFrom` = the last sequence it saw, so nothing in between is missed (or a
 * snapshot comes when the server no longer has it).
 */
export class TroupeStream {
  private socket: WebSocket | undefined;
  private closedByUser = false;
  private attempt = 0;
  private seq = 0;
  /** Set by the first subscription: from then on every reconnect resumes from {@link seq}. */
  private resumable = false;
  private timer: NodeJS.Timeout | undefined;
  /** Connections opened so far (1 + reconnects). */
  connections = 0;
  subscribed = false;

  constructor(private readonly options: TroupeStreamOptions) {
    this.connect();
  }

  /** The last sequence number seen. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The live socket (tests kill it to simulate a dropped connection). */
  get rawSocket(): WebSocket | undefined {
    return this.socket;
  }

  private connect(): void {
    const url = `${this.options.url}?token=${encodeURIComponent(this.options.token())}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.subscribed = false;
    socket.on('open', () => {
      this.connections += 1;
      this.attempt = 0;
      const start = this.resumable ? { resumeFrom: this.seq } : this.options.initialSnapshot === true ? { snapshot: true } : {};
      socket.send(JSON.stringify({ type: 'subscribe', topics: this.options.topics, ...start }));
    });
    socket.on('message', (data: Buffer) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(data.toString('utf8')) as ServerMessage;
      } catch {
        return;
      }
      this.options.onMessage?.(message);
      if (message.type === 'event') {
        if (message.seq > this.seq) this.seq = message.seq;
        this.options.onEvent(message);
      } else if (message.type === 'snapshot') {
        this.seq = Math.max(this.seq, message.seq);
        this.options.onSnapshot?.(message);
      } else if (message.type === 'subscribed') {
        // the first subscription starts at the server's seq: a drop before any event still resumes without a gap
        if (!this.resumable) this.seq = Math.max(this.seq, message.seq);
        this.resumable = true;
        this.subscribed = true;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', (code: number, reason: Buffer) => {
      this.subscribed = false;
      this.options.onClose?.(code, reason.toString('utf8'));
      if (this.closedByUser || code === 4401 || code === 4403) return;
      const { minMs, maxMs } = this.options.reconnect ?? { minMs: 100, maxMs: 5_000 };
      const delay = Math.min(maxMs, minMs * 2 ** this.attempt);
      this.attempt += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  /**
   * Sends an application heartbeat: the server answers `{ type: 'pong' }` (through `onMessage`).
   * Browsers cannot see WebSocket pings, so a page proves the server still answers this way.
   * False when the socket is not open.
   */
  ping(): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify({ type: 'ping' }));
    return true;
  }

  close(): void {
    this.closedByUser = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'client closing');
  }
}
