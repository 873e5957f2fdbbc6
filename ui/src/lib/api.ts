/**
 * The desk's session: the gateway's typed client (`src/gateway/client`) plus what a browser
 * tab needs around it — the token pair kept in sessionStorage (a reload keeps you logged
 * in), one refresh-and-retry on an expired access token, and logout.
 */
import type { ActorHealth } from '../../../src/actors/core/types.js';
import type { AlertSighting } from '../../../src/model/alert-sighting.js';
import { TroupeApiError, TroupeClient, type Fill, type Order, type Page, type TokenPair } from '../../../src/gateway/client/index.js';

export { TroupeApiError };
export type { Fill, Order, Page, TokenPair };

export type PositionsResponse = Awaited<ReturnType<TroupeClient['positions']>>;
export type PortfolioPositions = PositionsResponse['portfolios'][number];
export type PositionRow = PortfolioPositions['positions'][number];
export type PortfolioSummary = PortfolioPositions['summary'];
export type Strategy = Awaited<ReturnType<TroupeClient['strategies']>>['items'][number];
/** A setting of a strategy kind (`configFields`): the form field the desk generates for it. */
export type ConfigField = Strategy['configFields'][number];
/** A registered strategy kind (`GET /api/v1/strategy-kinds`). */
export interface StrategyKind {
  readonly kind: string;
  readonly description: string;
  readonly regimes?: readonly string[];
  readonly configFields: readonly ConfigField[];
}
/** What the API last asked of a strategy; servers without start/stop say only `paused`. */
export type StrategyRunState = 'started' | 'paused' | 'stopped';
export function strategyRunState(strategy: Strategy): StrategyRunState {
  const state = (strategy as { readonly state?: unknown }).state;
  return state === 'started' || state === 'paused' || state === 'stopped' ? state : strategy.paused ? 'paused' : 'started';
}
/** Why trading is stopped now (`GET /api/v1/halts`). */
export type Halts = Awaited<ReturnType<TroupeClient['halts']>>;
export type Instrument = Awaited<ReturnType<TroupeClient['instruments']>>['items'][number];
export type PlaceOrderRequest = Parameters<TroupeClient['placeOrder']>[0];
export type CreateApiKeyRequest = Parameters<TroupeClient['createApiKey']>[0];
export type Role = TokenPair['role'];

/** A risk alert as kept (`GET /api/v1/risk/alerts`): one (code, subject) within its minute, with how many times it was raised. */
export interface StoredRiskAlert extends AlertSighting {
  readonly id: number;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAtMs?: number;
  readonly acknowledgedNote?: string;
}

/** One actor in the supervision tree (`GET /api/v1/actors`): the actor core's own health type. */
export type ActorNode = ActorHealth;
export interface ActorsResponse {
  readonly deadLetters: number;
  readonly tree: readonly ActorNode[];
}
export interface PortfolioListItem {
  readonly portfolioId: string;
  readonly initialCashPaise: number;
  readonly fillCount: number;
  readonly summary: PortfolioSummary;
}
export interface MetricValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly name?: string;
}
export interface MetricsResponse {
  readonly metrics: Readonly<Record<string, { readonly type: string; readonly help: string; readonly values: readonly MetricValue[] }>>;
}
export interface User {
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  readonly createdAtMs: number;
  readonly disabled: boolean;
}
export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly ownerUserId: string;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number | null;
  readonly revokedAtMs: number | null;
  readonly rateLimitPerMinute: number | null | 'role-default';
}
export interface AuditEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly actor: string;
  readonly action: string;
  readonly target?: string;
  readonly outcome: string;
  readonly ip: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

const STORAGE_KEY = 'troupe.session';

export interface StoredSession {
  readonly username: string;
  readonly role: Role;
  readonly accessToken: string;
  readonly refreshToken: string;
}

function readStored(storage: Storage | undefined): StoredSession | undefined {
  try {
    const raw = storage?.getItem(STORAGE_KEY);
    if (!raw) return undefined;
    const value = JSON.parse(raw) as Partial<StoredSession>;
    return typeof value.accessToken === 'string' &&
      typeof value.refreshToken === 'string' &&
      typeof value.username === 'string' &&
      typeof value.role === 'string'
      ? (value as StoredSession)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The logged-in session. `call` runs a client method, refreshing the access token once on a 401. */
export class Session {
  private client: TroupeClient;
  private refreshing: Promise<void> | undefined;
  private readonly listeners = new Set<() => void>();

  private constructor(
    readonly baseUrl: string,
    private stored: StoredSession,
    private readonly storage: Storage | undefined,
  ) {
    this.client = new TroupeClient({ baseUrl, accessToken: stored.accessToken });
  }

  /** Logs in with the typed client and keeps the token pair for this tab. */
  static async login(baseUrl: string, username: string, password: string, storage: Storage | undefined = globalThis.sessionStorage): Promise<Session> {
    const tokens = await new TroupeClient({ baseUrl }).login(username, password);
    const session = new Session(baseUrl, { username, role: tokens.role, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken }, storage);
    session.persist();
    return session;
  }

  /** The session kept by an earlier login in this tab, if any. */
  static restore(baseUrl: string, storage: Storage | undefined = globalThis.sessionStorage): Session | undefined {
    const stored = readStored(storage);
    return stored ? new Session(baseUrl, stored, storage) : undefined;
  }

  get username(): string {
    return this.stored.username;
  }

  get role(): Role {
    return this.stored.role;
  }

  /** The access token the stream authenticates with (read at every reconnect). */
  get accessToken(): string {
    return this.stored.accessToken;
  }

  /** Called when the session ends (refresh refused): the app shows the login page. */
  onExpired(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private persist(): void {
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.stored));
    } catch {
      // storage full or disabled: the session lives as long as the page
    }
  }

  /** Exchanges the refresh token for a new pair (rotation); ends the session when refused. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const tokens = await new TroupeClient({ baseUrl: this.baseUrl }).request<TokenPair>(
          'POST',
          '/api/v1/auth/refresh',
          { refreshToken: this.stored.refreshToken },
          false,
        );
        this.stored = { ...this.stored, role: tokens.role, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
        this.client = new TroupeClient({ baseUrl: this.baseUrl, accessToken: tokens.accessToken });
        this.persist();
      } catch (error) {
        if (error instanceof TroupeApiError && (error.status === 401 || error.status === 400)) this.expire();
        throw error;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private expire(): void {
    try {
      this.storage?.removeItem(STORAGE_KEY);
    } catch {
      // ignore
    }
    for (const listener of this.listeners) listener();
  }

  /** Runs a call with the typed client; on 401 refreshes once and retries. */
  async call<T>(run: (client: TroupeClient) => Promise<T>): Promise<T> {
    try {
      return await run(this.client);
    } catch (error) {
      if (!(error instanceof TroupeApiError) || error.status !== 401 || error.code === 'invalid-credentials') throw error;
      await this.refresh();
      return run(this.client);
    }
  }

  /** A JSON call the typed client has no method for yet (`client.request`). */
  request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return this.call((client) => client.request<T>(method, path, body, false));
  }

  /**
   * Downloads a CSV export (`GET path` with `Accept: text/csv` and the bearer token, refreshed
   * once on 401) and saves it under the server's file name.
   */
  async downloadCsv(path: string, fallbackName: string): Promise<void> {
    const fetchOnce = (): Promise<Response> =>
      fetch(`${this.baseUrl}${path}`, { headers: { accept: 'text/csv', authorization: `Bearer ${this.stored.accessToken}` } });
    let response = await fetchOnce();
    if (response.status === 401) {
      await this.refresh();
      response = await fetchOnce();
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
      throw new TroupeApiError(response.status, body?.error?.code ?? 'http-error', body?.error?.message ?? `the export failed (${response.status})`);
    }
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Revokes the refresh token and forgets the session. */
  async logout(): Promise<void> {
    try {
      await new TroupeClient({ baseUrl: this.baseUrl }).request<null>('POST', '/api/v1/auth/logout', { refreshToken: this.stored.refreshToken }, false);
    } finally {
      try {
        this.storage?.removeItem(STORAGE_KEY);
      } catch {
        // ignore
      }
    }
  }
}

/** Whether a role may do what `needed` allows (viewer < trader < admin). */
export function roleAtLeast(role: Role, needed: Role): boolean {
  const rank: Readonly<Record<Role, number>> = { viewer: 0, trader: 1, admin: 2 };
  return rank[role] >= rank[needed];
}
