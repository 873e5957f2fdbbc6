/**
 * The live desk behind the pages: the instruments, the rAF-batched store, and the
 * gateway's WebSocket stream (the typed client's `TroupeStream`, which reconnects with
 * backoff and resumes from the last sequence number it saw).
 */
import { TroupeStream, type ServerMessage, type StreamEventMessage } from '../../../src/gateway/client/index.js';
import type { Instrument, Session, StoredRiskAlert } from './api.js';
import { LiveStore, type StrategyBook } from './live-store.js';
import { network } from './ws-browser.js';
import { portfolioTotals } from './positions.js';

const BASE_TOPICS = ['orders', 'positions', 'pnl', 'risk-alerts', 'actors'] as const;
/** Fills loaded at start for the per-strategy books: pages of 500, at most this many pages. */
const FILL_PAGES = 10;
/** Close code the gateway sends for a token it refuses (`CLOSE_CODES.unauthenticated`). */
const UNAUTHENTICATED = 4401;

/** Seconds between application heartbeats (`ping` → `pong`) on the stream. */
export const HEARTBEAT_EVERY_SEC = 3;

export class Desk {
  readonly store: LiveStore;
  instruments: readonly Instrument[] = [];
  private stream: TroupeStream | undefined;
  private stopped = false;
  private sampler: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly session: Session,
    store?: LiveStore,
  ) {
    this.store = store ?? new LiveStore();
  }

  /** Loads the instruments and the current state, then opens the stream. */
  /** Bumped by every start and stop: a start that was overtaken (React StrictMode runs effects twice) opens nothing. */
  private generation = 0;

  async start(): Promise<void> {
    this.stopped = false;
    const generation = ++this.generation;
    const instruments = await this.session.call((client) => client.instruments());
    this.instruments = instruments.items;
    if (generation !== this.generation) return;
    this.open();
    await this.reload();
    if (generation !== this.generation) return;
    if (this.sampler) clearInterval(this.sampler);
    // the equity curve: live equity (cash + positions marked to the quotes) once a second, at the market clock's time
    let beats = 0;
    this.sampler = setInterval(() => {
      for (const total of portfolioTotals(this.store.getState()))
        this.store.dispatch({ kind: 'equity', portfolioId: total.portfolioId, equityPaise: total.equityPaise });
      // an application heartbeat every few seconds: the pong says the server still answers, whether or not data flows
      beats += 1;
      if (beats % HEARTBEAT_EVERY_SEC === 0) this.stream?.ping();
    }, 1_000);
  }

  /** Reloads positions and recent orders over REST (start, and after a reconnect); fills and alert history in the background. */
  async reload(): Promise<void> {
    const [positions, orders] = await Promise.all([
      this.session.call((client) => client.positions()),
      this.session.call((client) => client.orders({ limit: 200 })),
    ]);
    const atMs = Date.now();
    // orders first: their update times start the market clock, so the P&L gets a point on the equity curve at once
    this.store.dispatch({ kind: 'orders', orders: orders.items });
    this.store.dispatch({ kind: 'positions', response: positions, atMs });
    void this.loadBooks()
      .catch(() => this.loadFills())
      .catch(() => undefined);
    void this.loadAlerts().catch(() => undefined);
  }

  /** Every strategy's book over the whole record (it survives restarts); the stream adds later fills. */
  private async loadBooks(): Promise<void> {
    const books = await this.session.request<{ items: StrategyBook[]; recentFillIds: string[] }>('GET', '/api/v1/history/strategy-books');
    this.store.dispatch({ kind: 'books', books: books.items, recentFillIds: books.recentFillIds });
  }

  /** Fallback for a server without the books route: the newest fills, for the per-strategy books (the stream adds the later ones). */
  private async loadFills(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < FILL_PAGES; page += 1) {
      const result = await this.session.call((client) => client.trades({ limit: 500, ...(cursor ? { cursor } : {}) }));
      cursor = result.nextCursor ?? undefined;
      const last = page === FILL_PAGES - 1;
      this.store.dispatch({ kind: 'fills', fills: result.items, complete: cursor === undefined || !last });
      if (cursor === undefined) return;
    }
  }

  /** Risk alerts since the server started (`GET /api/v1/risk/alerts`); the stream adds new ones. */
  private async loadAlerts(): Promise<void> {
    const history = await this.session.request<{ items: StoredRiskAlert[] }>('GET', '/api/v1/risk/alerts?limit=200');
    // oldest first, as they happened; a row seen many times says so
    const alerts = history.items.reverse().map((row) => ({
      seq: row.id,
      severity: row.severity,
      code: row.code,
      message: row.count > 1 ? `${row.message} (×${row.count})` : row.message,
      atMs: row.lastAtMs,
      ...(row.strategyId === undefined ? {} : { strategyId: row.strategyId }),
      ...(row.symbol === undefined ? {} : { symbol: row.symbol }),
    }));
    this.store.dispatch({ kind: 'alerts', alerts });
  }

  /**
   * Test and support hook: closes the live socket as a network failure would (the stream
   * reconnects by itself and resumes from the last sequence number it saw).
   */
  dropConnection(): boolean {
    const socket = this.stream?.rawSocket as { close(code?: number, reason?: string): void } | undefined;
    if (!socket) return false;
    socket.close(4000, 'dropped on purpose');
    return true;
  }

  /** Test and support hook: the network goes down (the live socket drops, reconnects are refused) or comes back. */
  simulateNetwork(down: boolean): void {
    network.down = down;
    if (down) this.dropConnection();
  }

  private open(): void {
    if (this.stopped) return;
    const baseUrl = this.session.baseUrl;
    const topics = [...BASE_TOPICS, ...this.instruments.map((instrument) => `quotes:${instrument.symbol}`)];
    this.store.dispatch({ kind: 'connection', status: 'connecting', atMs: Date.now() });
    const stream = new TroupeStream({
      url: `${baseUrl.replace(/^http/, 'ws')}/api/v1/stream`,
      token: () => this.session.accessToken,
      topics,
      onEvent: (event: StreamEventMessage) => this.store.ingest(event),
      onSnapshot: (snapshot) => this.store.dispatch({ kind: 'snapshot', data: snapshot.data, atMs: Date.now() }),
      onMessage: (message: ServerMessage) => {
        if (message.type === 'subscribed') this.store.dispatch({ kind: 'connection', status: 'live', atMs: Date.now() });
        else if (message.type === 'pong') this.store.dispatch({ kind: 'heartbeat', atMs: Date.now() });
        else if (message.type === 'error') this.store.dispatch({ kind: 'connection', status: 'live', detail: message.message, atMs: Date.now() });
      },
      onClose: (code: number, reason: string) => {
        if (this.stopped) return;
        if (code === UNAUTHENTICATED) {
          // the access token expired: refresh it and open a new stream (REST reload covers the gap)
          this.store.dispatch({ kind: 'connection', status: 'reconnecting', detail: 'renewing the session', atMs: Date.now() });
          this.session.refresh().then(
            () => {
              this.open();
              void this.reload().catch(() => undefined);
            },
            () => this.store.dispatch({ kind: 'connection', status: 'offline', detail: 'session ended: log in again', atMs: Date.now() }),
          );
          return;
        }
        this.store.dispatch({ kind: 'connection', status: 'reconnecting', detail: reason || `connection closed (${code})`, atMs: Date.now() });
      },
      reconnect: { minMs: 250, maxMs: 5_000 },
    });
    this.stream = stream;
  }

  stop(): void {
    this.stopped = true;
    this.generation += 1;
    if (this.sampler) clearInterval(this.sampler);
    this.stream?.close();
    this.stream = undefined;
  }
}
