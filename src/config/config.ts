/**
 * The only module that reads process.env. Everything else receives a typed, validated
 * {@link TroupeConfig}. A bad value is a startup error that names the variable.
 */

import { DEFAULT_SQUARE_OFF_MINUTE, parseSquareOffTime } from '../model/square-off.js';
import { ConfigError } from './errors.js';
import { mlConfig, type MlConfig } from './ml.js';
import { notificationsConfig, type NotificationsConfig } from './notifications.js';

export { ConfigError } from './errors.js';
export type { NotificationsConfig } from './notifications.js';
export type { MlConfig, RetrainSchedule } from './ml.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface TroupeConfig {
  /** HTTP port for the API, dashboard and /metrics. */
  readonly port: number;
  /** `HOST`: the listen address; default 127.0.0.1 (loopback) for plain HTTP, 0.0.0.0 when TLS is configured. */
  readonly host: string;
  readonly logLevel: LogLevel;
  /** `TROUPE_LOG_FILE` and its rotation: the JSON log goes to this file (rotated) instead of stdout. */
  readonly logFile: LogFileConfig | undefined;
  /** `TROUPE_LOG_ROTATE`, `TROUPE_LOG_RETAIN`: rotation of any file log (also the terminal's default one). */
  readonly logRotation: LogRotation;
  /** PostgreSQL URL; when absent the embedded store is used. */
  readonly databaseUrl: string | undefined;
  /** Redis URL; when absent an in-process implementation is used. */
  readonly redisUrl: string | undefined;
  /** Where embedded state lives. */
  readonly dataDir: string;
  readonly market: {
    /** Number of synthetic symbols. */
    readonly symbols: number;
    readonly seed: number;
    /** Simulated seconds per wall-clock second. */
    readonly speed: number;
    /** Ticks per symbol per simulated second. */
    readonly ticksPerSymbolPerSecond: number;
    /** Paper trading on a replay of this folder of per-symbol CSV bars instead of the synthetic market. */
    readonly replayDataDir: string | undefined;
    /** With a replay: refuse to start when any file or row of it is rejected. */
    readonly replayStrict: boolean;
  };
  /** Starting cash of the default paper portfolio, in paise. */
  readonly initialCashPaise: number;
  /** Allow `POST /api/v1/actors/fault` to crash a chosen actor (chaos drills, demos, tests). */
  readonly allowFaultInjection: boolean;
  /** Order-rate limits of the risk manager (SEBI's retail algo threshold is 10 orders/s). */
  readonly risk: {
    readonly maxOrdersPerSecond: number;
    readonly maxOrdersPerSecondPerStrategy: number;
    /** `TROUPE_RISK_MAX_DAILY_LOSS_RUPEES` (default 50,000): the day's loss that trips the kill switch, in paise here. */
    readonly maxDailyLossPaise: number;
  };
  /** The gateway: auth, rate limits, WebSocket streams. */
  readonly gateway: GatewayConfig;
  /** PostgreSQL/PGlite, Redis and time-series settings (`src/persistence`). */
  readonly persistence: PersistenceConfig;
  /** Which broker trades (`TROUPE_BROKER`, default paper). */
  readonly broker: 'paper' | 'kite';
  /**
   * The intraday (MIS) cut-off as minutes after IST midnight (`TROUPE_SQUARE_OFF_TIME`, "HH:MM",
   * default 15:20, Zerodha's; RMS bulletins can move it): no new MIS order from then to the end of
   * the day, and the paper broker squares off open MIS positions.
   */
  readonly squareOffMinute: number;
  /** Zerodha Kite settings (used when `broker` is kite). */
  readonly kite: KiteConfig;
  /** Where fills, halts and alerts are sent (webhook, Telegram, e-mail): `src/config/notifications.ts`. */
  readonly notifications: NotificationsConfig;
  /** The ML actor, registry checks and retraining schedule: `src/config/ml.ts`. */
  readonly ml: MlConfig;
}

/**
 * Zerodha Kite settings. Credentials come only from the environment or from a file given
 * by path (`KITE_CREDENTIALS_FILE`, JSON `{ "api_key", "api_secret"?, "access_token" }`).
 */
export interface KiteConfig {
  /** `KITE_API_KEY` (or the credentials file). */
  readonly apiKey: string | undefined;
  /** `KITE_API_SECRET` (only needed to turn a request token into a session). */
  readonly apiSecret: string | undefined;
  /** `KITE_ACCESS_TOKEN` (or the credentials file). */
  readonly accessToken: string | undefined;
  /** `KITE_REQUEST_TOKEN`: a login redirect's request token, exchanged for a session at start-up (needs the secret). */
  readonly requestToken: string | undefined;
  /** `KITE_CREDENTIALS_FILE`: path of a JSON credentials file, read at start-up. */
  readonly credentialsFile: string | undefined;
  /** `KITE_ROOT`: REST root, e.g. the simulator's `http://127.0.0.1:9000` (default Kite's). */
  readonly root: string | undefined;
  /** `KITE_TICKER_URL`: ticker root, e.g. `ws://127.0.0.1:9000/` (default Kite's). */
  readonly tickerUrl: string | undefined;
  /** `KITE_SYMBOLS`: comma-separated NSE symbols to trade (default: the first `TROUPE_SYMBOLS` of the dump). */
  readonly symbols: readonly string[] | undefined;
  /** `KITE_POLL_MS`: order polling fallback period (default 5000). */
  readonly pollEveryMs: number;
  /**
   * `TROUPE_SECRET_KEY`: 32-byte key (64 hex chars or base64) encrypting the stored Kite session
   * (AES-256-GCM, `src/config/secret-box.ts`). Absent: the key file `<TROUPE_DATA_DIR>/secret.key`.
   */
  readonly secretKey: string | undefined;
  /** `KITE_LOGIN_PORT`: loopback port of `troupe kite login`'s redirect receiver (default 5077; the app's redirect URL). */
  readonly loginPort: number;
}

/** How a file log rotates and how many rotated files it keeps. */
export interface LogRotation {
  /** Rotate when the file reaches this size (`TROUPE_LOG_ROTATE` with a size such as `100m`). */
  readonly rotateBytes: number | undefined;
  /** Rotate at local midnight (`TROUPE_LOG_ROTATE` with `daily`). */
  readonly rotateDaily: boolean;
  /** Rotated files kept besides the one being written (`TROUPE_LOG_RETAIN`, default 14); older ones are deleted. */
  readonly retain: number;
}

/** A rotated JSON log file. */
export interface LogFileConfig extends LogRotation {
  /** `TROUPE_LOG_FILE`, e.g. `/var/log/troupe/troupe.log`: written as `troupe.1.log`, `troupe.2.log`… with `current.log` linking to the newest. */
  readonly path: string;
}

/** The gateway's certificate and key (PEM files), when it serves HTTPS. */
export interface TlsConfig {
  /** `TROUPE_TLS_CERT_FILE`: the certificate chain (PEM). */
  readonly certFile: string;
  /** `TROUPE_TLS_KEY_FILE`: the private key (PEM). */
  readonly keyFile: string;
}

/** Settings of the stores (`src/persistence`). */
export interface PersistenceConfig {
  /** Smallest PostgreSQL pool size (`TROUPE_DB_POOL_MIN`, default 2). */
  readonly poolMin: number;
  /** Largest PostgreSQL pool size (`TROUPE_DB_POOL_MAX`, default 10). */
  readonly poolMax: number;
  /** Server-side statement timeout in ms (`TROUPE_DB_STATEMENT_TIMEOUT_MS`, default 30000). */
  readonly statementTimeoutMs: number;
  /** How long to wait for a PostgreSQL connection in ms (`TROUPE_DB_CONNECT_TIMEOUT_MS`, default 5000). */
  readonly connectTimeoutMs: number;
  /** Prefix of every Redis key Troupe writes (`TROUPE_REDIS_KEY_PREFIX`, default `troupe:`). */
  readonly redisKeyPrefix: string;
  /** Ticks the ingest buffer holds before it sheds (`TROUPE_TICK_BUFFER`, default 500000). */
  readonly tickBufferCapacity: number;
  /** Ticks per ingest batch (`TROUPE_TICK_BATCH`, default 20000). */
  readonly tickBatchSize: number;
  /** Store ticks and 1 m/1 h bars in the time series while trading (`TROUPE_RECORD_MARKET_DATA`, default true). */
  readonly recordMarketData: boolean;
  /** Use TimescaleDB when the server has it (`TROUPE_TIMESCALE`: `auto`, the default, or `off`). */
  readonly timescale: 'auto' | 'off';
  /** Single-writer lease time to live in ms (`TROUPE_LEASE_TTL_MS`, default 10000). */
  readonly leaseTtlMs: number;
  /** How long start-up waits for a lease another process holds, in ms (`TROUPE_LEASE_WAIT_MS`, default 0: refuse at once). */
  readonly leaseWaitMs: number;
}

/** A gateway role, from least to most privileged. */
export type GatewayRole = 'viewer' | 'trader' | 'admin';

/** Settings of the HTTP/WebSocket gateway (`src/gateway`). */
export interface GatewayConfig {
  /** First admin's user name (`ADMIN_USER`); with no password a random one is generated and shown once on the terminal (stderr), never logged. */
  readonly adminUser: string;
  /** First admin's password (`ADMIN_PASSWORD`), at least 12 characters and not a common one (checked when the admin is created). */
  readonly adminPassword: string | undefined;
  /** HMAC secret of access tokens (`TROUPE_JWT_SECRET`, ≥ 32 chars); absent: random per process (tokens die with it). */
  readonly jwtSecret: string | undefined;
  /** Access token lifetime in seconds (`TROUPE_ACCESS_TOKEN_TTL_SEC`, default 900). */
  readonly accessTokenTtlSec: number;
  /** Refresh token lifetime in seconds (`TROUPE_REFRESH_TOKEN_TTL_SEC`, default 7 days). */
  readonly refreshTokenTtlSec: number;
  /** Requests per minute per client (`TROUPE_RATE_LIMIT_PER_MINUTE`, default 100). */
  readonly rateLimitPerMinute: number;
  /** Per-role overrides (`TROUPE_RATE_LIMIT_ROLES`, e.g. `admin=600,trader=300`). */
  readonly rateLimitPerRole: Readonly<Partial<Record<GatewayRole, number>>>;
  /** WebSocket heartbeat period in ms (`TROUPE_WS_HEARTBEAT_MS`, default 30000). */
  readonly wsHeartbeatMs: number;
  /**
   * `TROUPE_SECRET_KEY` (32 bytes: 64 hex characters or base64): encrypts TOTP secrets at rest
   * (AES-256-GCM, `src/config/secret-box.ts`). Absent: a key file generated once (0600) at
   * `<TROUPE_DATA_DIR>/secret.key`, shared with the Kite session store.
   */
  readonly secretKey?: string | undefined;
  /**
   * `TROUPE_METRICS_TOKEN` (≥ 16 characters): when set, `/metrics` (equity, P&L, orders…) answers
   * only `Authorization: Bearer <token>` (Prometheus: `authorization: { credentials: … }`); unset, it is public.
   */
  readonly metricsToken?: string | undefined;
  /**
   * Attempts per minute at the credential endpoints (login, refresh, TOTP, password change), per
   * client IP (`TROUPE_CREDENTIAL_LIMIT_PER_IP`, default 30) and per user name
   * (`TROUPE_CREDENTIAL_LIMIT_PER_USER`, default 10), whatever headers (an API key) come along.
   */
  readonly credentialRateLimit?: { readonly perIpPerMinute: number; readonly perUserPerMinute: number };
  /** Live API keys one user may have (`TROUPE_MAX_API_KEYS_PER_USER`, default 20). */
  readonly maxApiKeysPerUser?: number;
  /**
   * HTTPS (`TROUPE_TLS_CERT_FILE` and `TROUPE_TLS_KEY_FILE`, both or neither): TLS 1.3 minimum and
   * `Strict-Transport-Security` on every response. Absent: plain HTTP.
   */
  readonly tls?: TlsConfig | undefined;
  /** `TROUPE_ACCESS_LOG` (default false): one info line per request (`event.dataset` `troupe.access`); otherwise those lines are at debug level. */
  readonly accessLog?: boolean;
  /**
   * `TROUPE_GATEWAY_THREAD` (default `main`): `worker` runs the gateway (HTTP, auth, rate limits,
   * WebSocket fan-out, audit writes) in its own worker thread, talking to the runtime through
   * the facade over a message port, so API load does not hold up the actors. Needs PostgreSQL
   * (`DATABASE_URL`): the embedded PGlite lives in one thread.
   */
  readonly thread?: GatewayThread;
}

/** Where the gateway runs: on the trading thread, or in a worker thread of its own. */
export type GatewayThread = 'main' | 'worker';

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function positive(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new ConfigError(name, `must be a number above 0 and at most ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw;
}

/**
 * Reads and validates the configuration from an environment (default: process.env).
 * `overrides` (command-line options) win over the environment.
 */
export function loadConfig(env: Env = process.env, overrides: Env = {}): TroupeConfig {
  env = { ...env, ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)) };
  const logLevel = (env.LOG_LEVEL ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const cashRupees = integer(env, 'TROUPE_INITIAL_CASH_RUPEES', 10_000_000, 1, 1_000_000_000_000);
  const gateway = gatewayConfig(env);
  const logRotation = logRotationConfig(env);
  const logFile = env.TROUPE_LOG_FILE === undefined || env.TROUPE_LOG_FILE.trim() === '' ? undefined : { path: env.TROUPE_LOG_FILE.trim(), ...logRotation };
  return {
    port: integer(env, 'PORT', 8080, 0, 65_535),
    // plain HTTP stays on loopback unless HOST says otherwise (e.g. behind a TLS-terminating proxy, or in a container)
    host: env.HOST === undefined || env.HOST === '' ? (gateway.tls ? '0.0.0.0' : '127.0.0.1') : env.HOST,
    logLevel,
    logFile,
    logRotation,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    dataDir: env.TROUPE_DATA_DIR ?? '.troupe',
    market: {
      symbols: integer(env, 'TROUPE_SYMBOLS', 50, 1, 3000),
      seed: integer(env, 'TROUPE_SEED', 42, 0, 2 ** 31 - 1),
      speed: positive(env, 'TROUPE_MARKET_SPEED', 1, 100_000),
      ticksPerSymbolPerSecond: positive(env, 'TROUPE_TICKS_PER_SYMBOL_PER_SECOND', 2, 1000),
      replayDataDir: env.TROUPE_REPLAY_DATA === '' ? undefined : env.TROUPE_REPLAY_DATA,
      replayStrict: flag(env, 'TROUPE_REPLAY_STRICT', false),
    },
    initialCashPaise: cashRupees * 100,
    allowFaultInjection: flag(env, 'TROUPE_ALLOW_FAULT_INJECTION', false),
    risk: {
      maxOrdersPerSecond: integer(env, 'TROUPE_RISK_MAX_ORDERS_PER_SECOND', 10, 1, 100_000),
      maxOrdersPerSecondPerStrategy: integer(env, 'TROUPE_RISK_MAX_ORDERS_PER_SECOND_PER_STRATEGY', 10, 1, 100_000),
      maxDailyLossPaise: integer(env, 'TROUPE_RISK_MAX_DAILY_LOSS_RUPEES', 50_000, 1, 1_000_000_000_000) * 100,
    },
    gateway,
    persistence: persistenceConfig(env),
    broker: brokerChoice(env),
    squareOffMinute: squareOffMinute(env),
    kite: kiteConfig(env),
    notifications: notificationsConfig(env),
    ml: mlConfig(env),
  };
}

function squareOffMinute(env: Env): number {
  const raw = env.TROUPE_SQUARE_OFF_TIME;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SQUARE_OFF_MINUTE;
  try {
    return parseSquareOffTime(raw);
  } catch (error) {
    throw new ConfigError('TROUPE_SQUARE_OFF_TIME', error instanceof Error ? error.message : String(error));
  }
}

function brokerChoice(env: Env): 'paper' | 'kite' {
  const raw = env.TROUPE_BROKER;
  if (raw === undefined || raw === '' || raw === 'paper') return 'paper';
  if (raw === 'kite') return 'kite';
  throw new ConfigError('TROUPE_BROKER', `must be paper or kite, got "${raw}"`);
}

function kiteConfig(env: Env): KiteConfig {
  const text = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const symbols = text('KITE_SYMBOLS')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    apiKey: text('KITE_API_KEY'),
    apiSecret: text('KITE_API_SECRET'),
    accessToken: text('KITE_ACCESS_TOKEN'),
    requestToken: text('KITE_REQUEST_TOKEN'),
    credentialsFile: text('KITE_CREDENTIALS_FILE'),
    root: url(env, 'KITE_ROOT', ['http:', 'https:']),
    tickerUrl: url(env, 'KITE_TICKER_URL', ['ws:', 'wss:']),
    symbols: symbols === undefined || symbols.length === 0 ? undefined : symbols,
    pollEveryMs: integer(env, 'KITE_POLL_MS', 5000, 100, 600_000),
    secretKey: text('TROUPE_SECRET_KEY'),
    loginPort: integer(env, 'KITE_LOGIN_PORT', 5077, 1, 65_535),
  };
}

function persistenceConfig(env: Env): PersistenceConfig {
  const poolMin = integer(env, 'TROUPE_DB_POOL_MIN', 2, 0, 100);
  const poolMax = integer(env, 'TROUPE_DB_POOL_MAX', 10, 1, 100);
  if (poolMin > poolMax) throw new ConfigError('TROUPE_DB_POOL_MIN', `must not exceed TROUPE_DB_POOL_MAX (${poolMax}), got ${poolMin}`);
  return {
    poolMin,
    poolMax,
    statementTimeoutMs: integer(env, 'TROUPE_DB_STATEMENT_TIMEOUT_MS', 30_000, 100, 3_600_000),
    connectTimeoutMs: integer(env, 'TROUPE_DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
    redisKeyPrefix: env.TROUPE_REDIS_KEY_PREFIX === undefined || env.TROUPE_REDIS_KEY_PREFIX === '' ? 'troupe:' : env.TROUPE_REDIS_KEY_PREFIX,
    tickBufferCapacity: integer(env, 'TROUPE_TICK_BUFFER', 500_000, 1, 100_000_000),
    tickBatchSize: integer(env, 'TROUPE_TICK_BATCH', 20_000, 1, 1_000_000),
    recordMarketData: flag(env, 'TROUPE_RECORD_MARKET_DATA', true),
    timescale: flag(env, 'TROUPE_TIMESCALE', true) ? 'auto' : 'off',
    leaseTtlMs: integer(env, 'TROUPE_LEASE_TTL_MS', 10_000, 100, 600_000),
    leaseWaitMs: integer(env, 'TROUPE_LEASE_WAIT_MS', 0, 0, 3_600_000),
  };
}

const ROLES: readonly GatewayRole[] = ['viewer', 'trader', 'admin'];

function gatewayConfig(env: Env): GatewayConfig {
  const adminPassword = env.ADMIN_PASSWORD === '' ? undefined : env.ADMIN_PASSWORD;
  if (adminPassword !== undefined && [...adminPassword].length < 12) throw new ConfigError('ADMIN_PASSWORD', 'must have at least 12 characters');
  const jwtSecret = env.TROUPE_JWT_SECRET === '' ? undefined : env.TROUPE_JWT_SECRET;
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError('TROUPE_JWT_SECRET', 'must have at least 32 characters');
  const perRole: Partial<Record<GatewayRole, number>> = {};
  const rawRoles = env.TROUPE_RATE_LIMIT_ROLES ?? '';
  for (const part of rawRoles
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [role, value] = part.split('=');
    const limit = Number(value);
    if (!ROLES.includes(role as GatewayRole) || !Number.isInteger(limit) || limit < 1) {
      throw new ConfigError('TROUPE_RATE_LIMIT_ROLES', `must look like "admin=600,trader=300" (roles: ${ROLES.join(', ')}), got "${rawRoles}"`);
    }
    perRole[role as GatewayRole] = limit;
  }
  return {
    adminUser: env.ADMIN_USER === undefined || env.ADMIN_USER === '' ? 'admin' : env.ADMIN_USER,
    adminPassword,
    jwtSecret,
    accessTokenTtlSec: integer(env, 'TROUPE_ACCESS_TOKEN_TTL_SEC', 900, 10, 86_400),
    refreshTokenTtlSec: integer(env, 'TROUPE_REFRESH_TOKEN_TTL_SEC', 7 * 86_400, 60, 90 * 86_400),
    rateLimitPerMinute: integer(env, 'TROUPE_RATE_LIMIT_PER_MINUTE', 100, 1, 10_000_000),
    rateLimitPerRole: perRole,
    wsHeartbeatMs: integer(env, 'TROUPE_WS_HEARTBEAT_MS', 30_000, 10, 3_600_000),
    secretKey: secretKey(env),
    metricsToken: metricsToken(env),
    credentialRateLimit: {
      perIpPerMinute: integer(env, 'TROUPE_CREDENTIAL_LIMIT_PER_IP', 30, 1, 1_000_000),
      perUserPerMinute: integer(env, 'TROUPE_CREDENTIAL_LIMIT_PER_USER', 10, 1, 1_000_000),
    },
    maxApiKeysPerUser: integer(env, 'TROUPE_MAX_API_KEYS_PER_USER', 20, 1, 10_000),
    tls: tlsConfig(env),
    accessLog: flag(env, 'TROUPE_ACCESS_LOG', false),
    thread: gatewayThread(env),
  };
}

function gatewayThread(env: Env): GatewayThread {
  const raw = env.TROUPE_GATEWAY_THREAD === undefined || env.TROUPE_GATEWAY_THREAD === '' ? 'main' : env.TROUPE_GATEWAY_THREAD;
  if (raw !== 'main' && raw !== 'worker') throw new ConfigError('TROUPE_GATEWAY_THREAD', `must be main or worker, got "${raw}"`);
  if (raw === 'worker' && (env.DATABASE_URL === undefined || env.DATABASE_URL === ''))
    throw new ConfigError('TROUPE_GATEWAY_THREAD', 'worker needs PostgreSQL (DATABASE_URL): the embedded PGlite store lives in one thread');
  return raw;
}

/** `TROUPE_TLS_CERT_FILE` and `TROUPE_TLS_KEY_FILE`: both (HTTPS) or neither (plain HTTP). The files are read when the gateway starts. */
function tlsConfig(env: Env): TlsConfig | undefined {
  const certFile = env.TROUPE_TLS_CERT_FILE?.trim() || undefined;
  const keyFile = env.TROUPE_TLS_KEY_FILE?.trim() || undefined;
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined)
    throw new ConfigError('TROUPE_TLS_CERT_FILE', 'must be set when TROUPE_TLS_KEY_FILE is (HTTPS needs both the certificate and its key)');
  if (keyFile === undefined)
    throw new ConfigError('TROUPE_TLS_KEY_FILE', 'must be set when TROUPE_TLS_CERT_FILE is (HTTPS needs both the certificate and its key)');
  return { certFile, keyFile };
}

const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `TROUPE_LOG_ROTATE` (default `daily,100m`: whichever comes first) and `TROUPE_LOG_RETAIN` (default 14). */
function logRotationConfig(env: Env): LogRotation {
  const raw = env.TROUPE_LOG_ROTATE === undefined || env.TROUPE_LOG_ROTATE.trim() === '' ? 'daily,100m' : env.TROUPE_LOG_ROTATE;
  let rotateDaily = false;
  let rotateBytes: number | undefined;
  for (const part of raw
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean)) {
    const size = /^(\d+)([bkmg])$/.exec(part);
    if (part === 'daily') rotateDaily = true;
    else if (size && rotateBytes === undefined && Number(size[1]) > 0) rotateBytes = Number(size[1]) * (SIZE_UNITS[size[2] ?? 'b'] ?? 1);
    else throw new ConfigError('TROUPE_LOG_ROTATE', `must be daily, a size (e.g. 100m; units b, k, m, g) or both ("daily,100m"), got "${raw}"`);
  }
  return { rotateDaily, rotateBytes, retain: integer(env, 'TROUPE_LOG_RETAIN', 14, 1, 10_000) };
}

/** `TROUPE_METRICS_TOKEN`: the bearer token `/metrics` asks for, when set. */
function metricsToken(env: Env): string | undefined {
  const raw = env.TROUPE_METRICS_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16 || /\s/.test(raw))
    throw new ConfigError('TROUPE_METRICS_TOKEN', 'must have at least 16 characters and no spaces (e.g. openssl rand -hex 24)');
  return raw;
}

/** `TROUPE_SECRET_KEY`: 32 bytes as 64 hex characters or base64 (checked here, used by the gateway and Kite). */
function secretKey(env: Env): string | undefined {
  const raw = env.TROUPE_SECRET_KEY?.trim();
  if (raw === undefined || raw === '') return undefined;
  const base64 = /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) ? Buffer.from(raw.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(raw) && base64?.length !== 32)
    throw new ConfigError('TROUPE_SECRET_KEY', 'must be 32 bytes as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
  return raw;
}

/** Whether stdout is an interactive terminal (for the live status line). */
export function isInteractive(): boolean {
  return process.stdout.isTTY && process.env.CI !== 'true';
}
