import type { MlControl } from '../runtime/ml-service.js';
import type { MetricsExposition } from '../observability/metrics-merge.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { GatewayConfig } from '../config/config.js';
import type { RuntimeFacade } from '../runtime/facade.js';
import type { AuditLog } from './audit-log.js';
import type { AuditInput } from '../persistence/audit-store.types.js';
import type { ApiError } from './errors.js';
import type { AuthService, Principal } from './auth/auth-service.js';
import type { GatewayStateStore, StrategyRunState } from '../persistence/gateway-state-store.types.js';
import type { HaltBoard } from './halts.js';
import type { PortfolioRight, Role } from '../persistence/auth-store.types.js';
import type { HistoryQueries } from '../persistence/history-queries.js';
import type { SessionStore } from './session-store.js';
import type { StreamHub } from './stream/hub.js';

/** Who may call a route: anyone, or at least this role. */
export type Access = 'public' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (checked in the gateway's onRequest hook). */
    access?: Access;
    /** A credential endpoint: limited per IP and per user name on every attempt, whatever the caller sends (`credential-limiter.ts`). */
    credential?: 'login' | 'refresh' | 'totp' | 'password';
  }
  interface FastifyRequest {
    /** The authenticated caller, or null. */
    principal: Principal | null;
    /** Why the caller may not use this route (answered after the rate limiter counted the request), or null. */
    authFailure: ApiError | null | undefined;
  }
}

/** The Fastify instance the gateway builds, typed with the TypeBox provider. */
export type GatewayInstance = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Market-data feed state as the health check reports it. */
export interface FeedState {
  readonly connected: boolean;
  readonly lastTickAgeMs: number | undefined;
  /** True for an exchange feed (Kite): silence outside market hours is normal. The synthetic and replay markets never close. */
  readonly followsExchangeHours?: boolean;
}

/**
 * An operator's pause switch for the market-data feed (paper trading: the synthetic or replayed
 * market). While paused, ticks are dropped at the source, as in an outage; the market's clock runs on.
 */
export interface FeedControl {
  paused(): boolean;
  setPaused(paused: boolean): void;
}

/** State of the durable stores, for readiness: the journal must work to trade; Redis may be degraded. */
export interface PersistenceState {
  readonly journal: 'ok' | 'down' | 'not configured';
  readonly redis: 'ok' | 'degraded' | 'not configured';
}

/** Everything the routes share. */
export interface GatewayContext {
  /** The runtime's queries and commands (never its actor system or directory). */
  readonly runtime: RuntimeFacade;
  readonly config: GatewayConfig;
  readonly startedAtMs: number;
  readonly allowFaultInjection: boolean;
  readonly feedState: () => FeedState;
  /** The feed's pause switch; undefined when the feed cannot be paused (Kite). */
  readonly feedControl: FeedControl | undefined;
  readonly persistenceState: () => PersistenceState;
  readonly auth: AuthService;
  readonly audit: AuditLog;
  readonly session: SessionStore;
  /** The trading record (orders, trades, risk alerts): the database's, or this session's without one. */
  readonly history: HistoryQueries;
  readonly hub: StreamHub;
  /** Strategies paused or stopped through the API (for the kill switch and metrics). */
  readonly paused: Set<string>;
  /** What the API last asked of each strategy (absent: started); persisted in {@link state}. */
  readonly strategyStates: Map<string, StrategyRunState>;
  /** API-made strategies and the manual order sequence. */
  readonly state: GatewayStateStore;
  /** Why trading is stopped now (kill switch, journal, broker session, feed). */
  readonly halts: HaltBoard;
  /** The ML service behind `/api/v1/ml/*` (undefined: ML is off). */
  readonly ml: MlControl | undefined;
  /** What `/metrics` and `/api/v1/metrics` read: the runtime's registry, or (gateway worker) both threads' merged. */
  readonly metricsExposition: MetricsExposition;
  /**
   * Checks that the caller may read or act on a portfolio (admins: every one; others: where they
   * are members, see `AuthService.mayOnPortfolio`). A denial is audited (`action`, outcome denied)
   * and thrown as 403 `forbidden`.
   */
  authorizePortfolio(
    request: { readonly principal: Principal | null; readonly ip: string },
    portfolioId: string,
    right: PortfolioRight,
    action: string,
    target?: string,
  ): Promise<void>;
  /** The portfolios the caller may read (every one for admins). */
  readablePortfolios(principal: Principal | null): Promise<(portfolioId: string) => boolean>;
  /** Appends to the audit log with the request's caller and address. */
  record(request: { readonly principal: Principal | null; readonly ip: string }, entry: Omit<AuditInput, 'actor' | 'ip'> & { readonly actor?: string }): void;
}
