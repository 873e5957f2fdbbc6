/**
 * Kite market data and order postbacks as RxJS streams, over the official `KiteTicker`.
 *
 * The client keeps its socket, handlers and timers module-global (kite-reference §10), and
 * with `reconnect: true` its give-up path calls `process.exit(1)`. So this module:
 * - constructs every `KiteTicker` with `reconnect: false` and owns reconnection itself
 *   (exponential backoff, a fresh `KiteTicker` per attempt so a renewed access token is used);
 * - registers the client's event handlers once per process and routes them to the one
 *   active {@link KiteFeed} (one ticker per process; a second `start` throws);
 * - runs a heartbeat watchdog: no frame (tick or heartbeat) for `staleAfterMs` while the socket
 *   is open is a stall: reported as an event and a counter, then the socket is replaced;
 * - resubscribes (and sets the mode) after every reconnect and reports each outage as a gap;
 * - never lets bad data escape: structurally bad frames are counted and dropped, tick
 *   conversion and order postbacks are guarded, and a handler error never reaches the socket.
 */
import { KiteTicker } from 'kiteconnect';
import type { KiteTickerParams } from 'kiteconnect/types/ticker.js';
import { Subject, type Observable } from 'rxjs';
import { normaliseKiteTick, type KiteTickerTick } from '../../streams/operators/validate-ticks.js';

/** Streaming mode of the ticker. */
export type KiteFeedMode = 'ltp' | 'quote' | 'full';

/** The few log methods the feed uses (a pino logger fits). */
export interface KiteFeedLogger {
  info(obj: object, message?: string): void;
  warn(obj: object, message?: string): void;
  error(obj: object, message?: string): void;
}

/** Reconnect backoff: `initialMs`, then × `factor` per failed attempt, at most `maxMs`. */
export interface KiteFeedBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

/** Options of {@link KiteFeed}. */
export interface KiteFeedOptions {
  readonly apiKey: string;
  /** The access token, or a getter read at every (re)connect so a renewed session is picked up. */
  readonly accessToken: string | (() => string);
  /** Ticker root; default Kite's (`wss://ws.kite.trade/`). Point it at the simulator's `wsUrl`. */
  readonly root?: string;
  /** Instrument tokens to subscribe (again after every reconnect). */
  readonly tokens: readonly number[];
  /** Default `full`. */
  readonly mode?: KiteFeedMode;
  /** No frame for this long on an open socket is a stall (default 3000 ms; Kite beats about every second). */
  readonly staleAfterMs?: number;
  /** A connection attempt that has not opened after this long is abandoned (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Default 500 ms × 2, at most 30 s. */
  readonly backoff?: Partial<KiteFeedBackoff>;
  readonly log?: KiteFeedLogger;
  /** Wall clock for events and the watchdog (default `Date.now`). */
  readonly now?: () => number;
}

/** Something the feed noticed; also counted in {@link KiteFeedStats}. */
export type KiteFeedEvent =
  | { readonly kind: 'connected'; readonly connects: number; readonly atMs: number }
  | { readonly kind: 'disconnected'; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'stalled'; readonly silentMs: number; readonly atMs: number }
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly delayMs: number; readonly atMs: number }
  /** Market data and postbacks may be missing between `fromMs` and `toMs` (reconcile orders, distrust bars). */
  | { readonly kind: 'gap'; readonly fromMs: number; readonly toMs: number; readonly durationMs: number; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'bad-frame'; readonly detail: string; readonly atMs: number }
  | { readonly kind: 'bad-order-update'; readonly detail: string; readonly atMs: number }
  /** The server refused the credentials (403): the feed stops retrying until `start` is called again. */
  | { readonly kind: 'halted'; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'error'; readonly message: string; readonly atMs: number };

/** Running counters (metric-friendly: monotonic except `connected` and `lastFrameAtMs`). */
export interface KiteFeedStats {
  frames: number;
  heartbeats: number;
  ticks: number;
  /** Ticks in another mode than asked for (quote packets right after a full-mode subscribe). */
  skippedTicks: number;
  orderUpdates: number;
  connects: number;
  reconnects: number;
  disconnects: number;
  stalls: number;
  gaps: number;
  gapMs: number;
  badFrames: number;
  badOrderUpdates: number;
  errors: number;
  connected: boolean;
  lastFrameAtMs: number | undefined;
}

type State = 'idle' | 'connecting' | 'open' | 'backoff' | 'halted' | 'stopped';

/** Packet lengths the ticker protocol defines (§6). */
const PACKET_LENGTHS: ReadonlySet<number> = new Set([8, 28, 32, 44, 184]);

/** Checks a binary frame's framing; returns a problem or undefined. Heartbeats (≤ 2 bytes) are fine. */
export function frameProblem(frame: ArrayBuffer): string | undefined {
  if (frame.byteLength <= 2) return undefined;
  const view = new DataView(frame);
  const count = view.getUint16(0);
  let offset = 2;
  for (let i = 0; i < count; i += 1) {
    if (offset + 2 > frame.byteLength) return `frame of ${frame.byteLength} bytes ends before packet ${i + 1} of ${count}`;
    const length = view.getUint16(offset);
    if (!PACKET_LENGTHS.has(length)) return `packet ${i + 1} has length ${length}, not one of 8/28/32/44/184`;
    offset += 2 + length;
    if (offset > frame.byteLength) return `packet ${i + 1} (${length} bytes) overruns the ${frame.byteLength}-byte frame`;
  }
  if (offset !== frame.byteLength) return `${frame.byteLength - offset} trailing bytes after ${count} packets`;
  return undefined;
}

// ---------------------------------------------------------------- process-wide routing
// KiteTicker's handler lists are module-global and append-only: register once, route to the active feed.
let active: KiteFeed | undefined;
let handlersInstalled = false;

function route(fn: (feed: KiteFeed) => void): void {
  const feed = active;
  if (feed === undefined) return;
  try {
    fn(feed);
  } catch (error) {
    // never let an exception reach the socket's event loop
    feed.reportError(error);
  }
}

function installHandlers(ticker: InstanceType<typeof KiteTicker>): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  ticker.on('connect', () => route((feed) => feed.handleConnect()));
  ticker.on('message', (data: unknown) => route((feed) => feed.handleFrame(data)));
  ticker.on('ticks', (ticks: unknown) => route((feed) => feed.handleTicks(ticks)));
  ticker.on('order_update', (order: unknown) => route((feed) => feed.handleOrderUpdate(order)));
  ticker.on('close', () => route((feed) => feed.handleClose()));
  ticker.on('error', (error: unknown) => route((feed) => feed.handleSocketError(error)));
}

const errorText = (error: unknown): string => {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  return String(error);
};

/**
 * Kite's ticker as RxJS streams: `ticks$` (batches of candidate ticks for
 * `marketDataPipeline`), `orderUpdates$` (postbacks) and `events$` (connection life,
 * stalls, gaps, bad data). Create one per process; `start` connects, `stop` ends it.
 */
export class KiteFeed {
  /** Candidate ticks (`normaliseKiteTick` output), one batch per frame; validate them downstream. */
  readonly ticks$: Observable<readonly unknown[]>;
  /** Order postbacks as Kite sends them (plain objects with at least an `order_id`). */
  readonly orderUpdates$: Observable<Readonly<Record<string, unknown>>>;
  /** Connection life, stalls, gaps and rejected data. */
  readonly events$: Observable<KiteFeedEvent>;
  private readonly tickSubject = new Subject<readonly unknown[]>();
  private readonly orderSubject = new Subject<Readonly<Record<string, unknown>>>();
  private readonly eventSubject = new Subject<KiteFeedEvent>();
  private readonly counters: KiteFeedStats = {
    frames: 0,
    heartbeats: 0,
    ticks: 0,
    skippedTicks: 0,
    orderUpdates: 0,
    connects: 0,
    reconnects: 0,
    disconnects: 0,
    stalls: 0,
    gaps: 0,
    gapMs: 0,
    badFrames: 0,
    badOrderUpdates: 0,
    errors: 0,
    connected: false,
    lastFrameAtMs: undefined,
  };
  private readonly tokens: Set<number>;
  private readonly mode: KiteFeedMode;
  private readonly staleAfterMs: number;
  private readonly connectTimeoutMs: number;
  private readonly backoff: KiteFeedBackoff;
  private readonly now: () => number;
  private ticker: InstanceType<typeof KiteTicker> | undefined;
  private state: State = 'idle';
  /** Sockets created and not yet closed (an abandoned socket may close late). */
  private outstanding = 0;
  /** A reconnect is waiting for the abandoned socket's close event. */
  private connectWhenClosed = false;
  private attempt = 0;
  private stateSinceMs = 0;
  private framesSinceConnect = 0;
  /** Start of the current outage (undefined while data flows). */
  private outageFromMs: number | undefined;
  private outageReason = '';
  private dropTicksOfThisFrame = false;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: KiteFeedOptions) {
    this.tokens = new Set(options.tokens);
    this.mode = options.mode ?? 'full';
    this.staleAfterMs = options.staleAfterMs ?? 3000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.backoff = { initialMs: 500, maxMs: 30_000, factor: 2, ...options.backoff };
    this.now = options.now ?? Date.now;
    this.ticks$ = this.tickSubject.asObservable();
    this.orderUpdates$ = this.orderSubject.asObservable();
    this.events$ = this.eventSubject.asObservable();
  }

  /** The counters (live object; read, do not write). */
  get stats(): Readonly<KiteFeedStats> {
    return this.counters;
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** Connects (or, after a halt, tries again). Throws if another feed is active in this process. */
  start(): void {
    if (this.state === 'stopped') throw new Error('KiteFeed: stopped feeds cannot restart; create a new one');
    if (active !== undefined && active !== this) throw new Error('KiteFeed: the Kite ticker is process-global; stop the other feed first');
    if (this.state !== 'idle' && this.state !== 'halted') return;
    // the client's handlers are process-global; they route to the one active feed
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    active = this;
    this.attempt = 0;
    this.watchdog ??= setInterval(() => route((feed) => feed.checkLiveness()), Math.max(5, Math.min(250, Math.floor(this.staleAfterMs / 4))));
    this.watchdog.unref();
    this.connectNow();
  }

  /** Disconnects for good and completes the streams. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.counters.connected = false;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ticker?.disconnect();
    if (active === this) active = undefined;
    this.tickSubject.complete();
    this.orderSubject.complete();
    this.eventSubject.complete();
  }

  /** Adds instruments (kept for resubscription). */
  subscribe(tokens: readonly number[]): void {
    const fresh = tokens.filter((t) => !this.tokens.has(t));
    for (const token of fresh) this.tokens.add(token);
    if (this.state === 'open' && this.ticker && fresh.length > 0) {
      this.ticker.subscribe(fresh);
      this.ticker.setMode(this.mode, fresh);
    }
  }

  /** Removes instruments. */
  unsubscribe(tokens: readonly number[]): void {
    const gone = tokens.filter((t) => this.tokens.delete(t));
    if (this.state === 'open' && this.ticker && gone.length > 0) this.ticker.unsubscribe(gone);
  }

  // -------------------------------------------------------------- connection life
  private connectNow(): void {
    this.setState('connecting');
    this.framesSinceConnect = 0;
    const token = typeof this.options.accessToken === 'function' ? this.options.accessToken() : this.options.accessToken;
    const params: KiteTickerParams & { root?: string } = {
      api_key: this.options.apiKey,
      access_token: token,
      reconnect: false,
      ...(this.options.root === undefined ? {} : { root: this.options.root }),
    };
    const ticker = new KiteTicker(params);
    installHandlers(ticker);
    this.ticker = ticker;
    this.outstanding += 1;
    ticker.connect();
  }

  /** Replaces the socket after `reason`, with backoff. */
  private lose(reason: string): void {
    if (this.state === 'stopped' || this.state === 'halted' || this.state === 'backoff') return;
    const now = this.now();
    if (this.state === 'open') {
      this.counters.disconnects += 1;
      this.emit({ kind: 'disconnected', reason, atMs: now });
      this.options.log?.warn({ reason }, 'Kite ticker disconnected; reconnecting');
    }
    if (this.outageFromMs === undefined) {
      this.outageFromMs = this.counters.lastFrameAtMs ?? now;
      this.outageReason = reason;
    }
    this.counters.connected = false;
    this.setState('backoff');
    this.ticker?.disconnect();
    this.attempt += 1;
    const delayMs = Math.min(this.backoff.maxMs, Math.round(this.backoff.initialMs * this.backoff.factor ** (this.attempt - 1)));
    this.counters.reconnects += 1;
    this.emit({ kind: 'reconnecting', attempt: this.attempt, delayMs, atMs: now });
    this.reconnectTimer = setTimeout(() => route((feed) => feed.reconnectDue(this)), delayMs);
    this.reconnectTimer.unref();
  }

  private halt(reason: string): void {
    this.counters.connected = false;
    this.setState('halted');
    this.ticker?.disconnect();
    if (this.outageFromMs === undefined) {
      this.outageFromMs = this.counters.lastFrameAtMs ?? this.now();
      this.outageReason = reason;
    }
    this.emit({ kind: 'halted', reason, atMs: this.now() });
    this.options.log?.error({ reason }, 'Kite ticker refused the session; market data halted until a new login');
  }

  /**
   * @internal Time to reconnect. The client keeps ONE module-global socket reference, and the
   * close event of the socket we gave up on nulls it (its URL is the first one the client saw, so
   * the client does not take the close for a ghost): if that close came after the new socket was
   * created, the new socket would be orphaned and our subscribe silently dropped (heartbeats
   * keep arriving, ticks never do). So wait for the old socket’s close first (at most 1 s,
   * then connect anyway).
   */
  reconnectDue(feed: KiteFeed, waited = false): void {
    if (feed !== this || this.state !== 'backoff') return;
    if (this.outstanding > 0 && !waited) {
      this.connectWhenClosed = true;
      this.reconnectTimer = setTimeout(() => route((f) => f.reconnectDue(this, true)), 1000);
      this.reconnectTimer.unref();
      return;
    }
    this.connectWhenClosed = false;
    this.connectNow();
  }

  /** @internal the watchdog */
  checkLiveness(): void {
    const now = this.now();
    if (this.state === 'open') {
      const since = Math.max(this.counters.lastFrameAtMs ?? 0, this.stateSinceMs);
      const silentMs = now - since;
      if (silentMs >= this.staleAfterMs) {
        this.counters.stalls += 1;
        this.emit({ kind: 'stalled', silentMs, atMs: now });
        this.options.log?.warn({ silentMs }, 'Kite ticker stalled: no frame (not even a heartbeat) on an open socket');
        this.lose(`stalled: no frame for ${silentMs} ms`);
      }
    } else if (this.state === 'connecting' && now - this.stateSinceMs >= this.connectTimeoutMs) {
      this.lose(`connect timeout after ${now - this.stateSinceMs} ms`);
    }
  }

  /** @internal */
  handleConnect(): void {
    if (this.state !== 'connecting') {
      // a socket we already gave up on opened after all
      if (this.state === 'stopped' || this.state === 'halted') this.ticker?.disconnect();
      return;
    }
    const now = this.now();
    this.setState('open');
    this.counters.connected = true;
    this.counters.connects += 1;
    const tokens = [...this.tokens];
    if (this.ticker && tokens.length > 0) {
      this.ticker.subscribe(tokens);
      this.ticker.setMode(this.mode, tokens);
    }
    this.emit({ kind: 'connected', connects: this.counters.connects, atMs: now });
    if (this.outageFromMs !== undefined) {
      const durationMs = Math.max(0, now - this.outageFromMs);
      this.counters.gaps += 1;
      this.counters.gapMs += durationMs;
      this.emit({ kind: 'gap', fromMs: this.outageFromMs, toMs: now, durationMs, reason: this.outageReason, atMs: now });
      this.options.log?.warn(
        { fromMs: this.outageFromMs, durationMs, reason: this.outageReason, resubscribed: tokens.length },
        'Kite ticker reconnected after a gap',
      );
      this.outageFromMs = undefined;
    } else {
      this.options.log?.info({ subscribed: tokens.length, mode: this.mode }, 'Kite ticker connected');
    }
  }

  /** @internal every binary frame (ticks or heartbeat) */
  handleFrame(data: unknown): void {
    if (this.state !== 'open') return;
    this.dropTicksOfThisFrame = false;
    if (!(data instanceof ArrayBuffer)) return;
    this.counters.frames += 1;
    this.counters.lastFrameAtMs = this.now();
    this.framesSinceConnect += 1;
    if (this.framesSinceConnect === 1) this.attempt = 0;
    if (data.byteLength <= 2) {
      this.counters.heartbeats += 1;
      return;
    }
    const problem = frameProblem(data);
    if (problem !== undefined) {
      this.dropTicksOfThisFrame = true;
      this.counters.badFrames += 1;
      this.emit({ kind: 'bad-frame', detail: problem, atMs: this.now() });
      this.options.log?.warn({ problem }, 'malformed Kite ticker frame dropped');
    }
  }

  /** @internal parsed ticks of the frame just seen */
  handleTicks(raw: unknown): void {
    if (this.state !== 'open') return;
    if (this.dropTicksOfThisFrame) {
      this.dropTicksOfThisFrame = false;
      return;
    }
    if (!Array.isArray(raw) || raw.length === 0) return;
    const batch: unknown[] = [];
    const receivedMs = this.now();
    for (const tick of raw as unknown[]) {
      const tickMode = typeof tick === 'object' && tick !== null ? (tick as { mode?: unknown }).mode : undefined;
      // right after a subscribe Kite sends quote-mode packets until the mode message lands:
      // without an exchange time they cannot be ordered against full-mode ticks, so they are skipped
      if (this.mode === 'full' && tickMode !== 'full') {
        this.counters.skippedTicks += 1;
        continue;
      }
      try {
        const candidate = normaliseKiteTick(tick as KiteTickerTick);
        // ltp and quote packets carry no time: stamp them with the receive time
        batch.push(this.mode !== 'full' && Number.isNaN(candidate.exchangeTimeMs) ? { ...candidate, exchangeTimeMs: receivedMs } : candidate);
      } catch {
        batch.push(tick); // validation downstream rejects and reports it
      }
    }
    if (batch.length === 0) return;
    this.counters.ticks += batch.length;
    this.tickSubject.next(batch);
  }

  /** @internal a postback */
  handleOrderUpdate(order: unknown): void {
    if (this.state === 'stopped') return;
    if (
      typeof order !== 'object' ||
      order === null ||
      Array.isArray(order) ||
      (typeof (order as Record<string, unknown>)['order_id'] !== 'string' && typeof (order as Record<string, unknown>)['order_id'] !== 'number')
    ) {
      this.counters.badOrderUpdates += 1;
      const detail = `order update without an order_id: ${JSON.stringify(order)?.slice(0, 200) ?? String(order)}`;
      this.emit({ kind: 'bad-order-update', detail, atMs: this.now() });
      this.options.log?.warn({ detail }, 'malformed Kite order update dropped');
      return;
    }
    this.counters.orderUpdates += 1;
    this.orderSubject.next(order as Record<string, unknown>);
  }

  /** @internal some socket closed */
  handleClose(): void {
    this.outstanding = Math.max(0, this.outstanding - 1);
    if (this.state === 'backoff' && this.connectWhenClosed && this.outstanding === 0) {
      // the socket we gave up on has closed: once the client has finished handling that close
      // (it clears its global reference right after telling us), the reference is free for a new one
      if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
      this.connectWhenClosed = false;
      this.reconnectTimer = setTimeout(() => route((f) => f.reconnectDue(this, true)), 0);
      this.reconnectTimer.unref();
      return;
    }
    if (this.state !== 'open' && this.state !== 'connecting') return;
    // another socket still pending means this close was an abandoned one (or the watchdog will notice)
    if (this.outstanding > 0) return;
    this.lose('socket closed');
  }

  /** @internal */
  handleSocketError(error: unknown): void {
    const message = errorText(error);
    this.counters.errors += 1;
    this.emit({ kind: 'error', message, atMs: this.now() });
    if (this.state === 'connecting' && /\b40[13]\b/.test(message)) this.halt(`ticker refused the credentials (${message}); log in again`);
    else this.options.log?.warn({ message }, 'Kite ticker socket error');
  }

  /** @internal an exception inside one of our handlers */
  reportError(error: unknown): void {
    this.counters.errors += 1;
    this.options.log?.error({ err: error }, 'Kite feed handler failed (frame skipped)');
  }

  private setState(state: State): void {
    this.state = state;
    this.stateSinceMs = this.now();
  }

  private emit(event: KiteFeedEvent): void {
    if (this.state === 'stopped') return;
    this.eventSubject.next(event);
  }
}
