/**
 * The ML service's settings from the environment (`src/config` alone reads it):
 *
 * | variable | default | what |
 * |---|---|---|
 * | `TROUPE_ML` | `auto` | `auto`: the ML actor starts once a model of `TROUPE_ML_KIND` is live (at start, or when one is promoted later); `on`: at start, idle until a model is live; `off`: no ML actor and no retraining |
 * | `TROUPE_ML_KIND` | `random-forest` | the model kind the actor runs (`random-forest` or `lstm`) |
 * | `TROUPE_ML_CHECK_SECONDS` | 60 | how often the registry is checked for a promotion or rollback (the API's buttons reload at once) |
 * | `TROUPE_ML_RETRAIN` | `weekly sun 02:00` | retraining schedule, IST: `off`, `daily HH:MM` or `weekly DAY HH:MM` (DAY: mon…sun) |
 * | `TROUPE_ML_RETRAIN_DAYS` | 60 | calendar days of stored bars the retraining reads (walk-forward: the last `TROUPE_ML_RETRAIN_TEST_DAYS` are held out) |
 * | `TROUPE_ML_RETRAIN_TEST_DAYS` | 7 | held-out calendar days at the end of the window: the candidate and the live model are both scored there |
 * | `TROUPE_ML_RETRAIN_INTERVAL` | `5m` | bar interval of the retrained model (built from the stored 1-minute bars) |
 * | `TROUPE_ML_RETRAIN_TREES` | 25 | trees of the retrained forest |
 * | `TROUPE_ML_RETRAIN_MAX_ROWS` | 2000 | training rows cap (time grows with its square) |
 */
import { ConfigError } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** When retraining runs (IST wall time). */
export type RetrainSchedule =
  | { readonly kind: 'off' }
  | { readonly kind: 'daily'; readonly minuteOfDay: number }
  | { readonly kind: 'weekly'; readonly weekday: number; readonly minuteOfDay: number };

export interface MlConfig {
  readonly mode: 'auto' | 'on' | 'off';
  readonly kind: 'random-forest' | 'lstm';
  readonly checkEveryMs: number;
  readonly retrain: {
    readonly schedule: RetrainSchedule;
    readonly windowDays: number;
    readonly testDays: number;
    readonly interval: '1m' | '5m' | '15m' | '1h';
    readonly trees: number;
    readonly maxRows: number;
  };
}

/** Weekday numbers as `Date.getUTCDay` counts them (0 = Sunday). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const value = (env: Env, name: string): string | undefined => (env[name] === undefined || env[name]?.trim() === '' ? undefined : env[name].trim());

function whole(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function minuteOf(name: string, text: string): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  const minute = match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
  if (!match || Number(match[2]) > 59 || !(minute < 24 * 60)) throw new ConfigError(name, `"${text}" is not a time HH:MM`);
  return minute;
}

/** Parses `off`, `daily HH:MM` or `weekly DAY HH:MM`. */
export function parseRetrainSchedule(text: string, name = 'TROUPE_ML_RETRAIN'): RetrainSchedule {
  const parts = text.trim().toLowerCase().split(/\s+/);
  if (parts.length === 1 && parts[0] === 'off') return { kind: 'off' };
  if (parts.length === 2 && parts[0] === 'daily') return { kind: 'daily', minuteOfDay: minuteOf(name, parts[1]!) };
  if (parts.length === 3 && parts[0] === 'weekly') {
    const weekday = (WEEKDAYS as readonly string[]).indexOf(parts[1]!.slice(0, 3));
    if (weekday < 0) throw new ConfigError(name, `"${parts[1]}" is not a weekday (mon…sun)`);
    return { kind: 'weekly', weekday, minuteOfDay: minuteOf(name, parts[2]!) };
  }
  throw new ConfigError(name, `must be "off", "daily HH:MM" or "weekly DAY HH:MM" (IST), got "${text}"`);
}

export function mlConfig(env: Env): MlConfig {
  const mode = value(env, 'TROUPE_ML') ?? 'auto';
  if (mode !== 'auto' && mode !== 'on' && mode !== 'off') throw new ConfigError('TROUPE_ML', `must be auto, on or off, got "${mode}"`);
  const kind = value(env, 'TROUPE_ML_KIND') ?? 'random-forest';
  if (kind !== 'random-forest' && kind !== 'lstm') throw new ConfigError('TROUPE_ML_KIND', `must be random-forest or lstm, got "${kind}"`);
  const interval = value(env, 'TROUPE_ML_RETRAIN_INTERVAL') ?? '5m';
  if (interval !== '1m' && interval !== '5m' && interval !== '15m' && interval !== '1h')
    throw new ConfigError('TROUPE_ML_RETRAIN_INTERVAL', `must be 1m, 5m, 15m or 1h, got "${interval}"`);
  const windowDays = whole(env, 'TROUPE_ML_RETRAIN_DAYS', 60, 2, 3650);
  const testDays = whole(env, 'TROUPE_ML_RETRAIN_TEST_DAYS', 7, 1, 365);
  if (testDays >= windowDays) throw new ConfigError('TROUPE_ML_RETRAIN_TEST_DAYS', `(${testDays}) must be less than TROUPE_ML_RETRAIN_DAYS (${windowDays})`);
  return {
    mode,
    kind,
    checkEveryMs: whole(env, 'TROUPE_ML_CHECK_SECONDS', 60, 1, 86_400) * 1000,
    retrain: {
      schedule: mode === 'off' ? { kind: 'off' } : parseRetrainSchedule(value(env, 'TROUPE_ML_RETRAIN') ?? 'weekly sun 02:00'),
      windowDays,
      testDays,
      interval,
      trees: whole(env, 'TROUPE_ML_RETRAIN_TREES', 25, 1, 500),
      maxRows: whole(env, 'TROUPE_ML_RETRAIN_MAX_ROWS', 2000, 10, 1_000_000),
    },
  };
}
