/**
 * The only module that reads process.env. Everything else receives a typed, validated
 * {@link TroupeConfig}. A bad value is a startup error that names the variable.
 */

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface TroupeConfig {
  /** HTTP port for the API, dashboard and /metrics. */
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
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
  };
  /** Starting cash of the default paper portfolio, in paise. */
  readonly initialCashPaise: number;
  /** Allow `POST /api/v1/actors/fault` to crash a chosen actor (chaos drills, demos, tests). */
  readonly allowFaultInjection: boolean;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

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
  return {
    port: integer(env, 'PORT', 8080, 0, 65_535),
    host: env.HOST ?? '0.0.0.0',
    logLevel,
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    dataDir: env.TROUPE_DATA_DIR ?? '.troupe',
    market: {
      symbols: integer(env, 'TROUPE_SYMBOLS', 50, 1, 3000),
      seed: integer(env, 'TROUPE_SEED', 42, 0, 2 ** 31 - 1),
      speed: positive(env, 'TROUPE_MARKET_SPEED', 1, 100_000),
      ticksPerSymbolPerSecond: positive(env, 'TROUPE_TICKS_PER_SYMBOL_PER_SECOND', 2, 1000),
    },
    initialCashPaise: cashRupees * 100,
    allowFaultInjection: flag(env, 'TROUPE_ALLOW_FAULT_INJECTION', false),
  };
}

/** Whether stdout is an interactive terminal (for the live status line). */
export function isInteractive(): boolean {
  return process.stdout.isTTY && process.env.CI !== 'true';
}
