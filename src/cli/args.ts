import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DAY_MS, istDate, istTimeMs } from '../model/index.js';

/** True when the module with this `import.meta.url` is the script node was started with. */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * A small, strict command-line parser: `--name value`, `--name=value`, `--flag`. Unknown
 * options are errors that name the option; `--help` prints the usage.
 */
export interface OptionSpec {
  readonly name: string;
  readonly description: string;
  /** A flag takes no value. */
  readonly flag?: boolean;
  readonly required?: boolean;
  readonly default?: string;
  readonly valueName?: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The input data cannot serve the run (unknown symbol, unreadable folder, nothing usable): exit 2. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** `--strict` and some input was rejected: exit 1. */
export class StrictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StrictError';
  }
}

/** A usage error as the commands print it: the message on one line, then where the options are (not the whole usage). */
export function usageErrorText(command: string, message: string, helpCommand: string): string {
  return `${command}: ${message}\nsee ${helpCommand}\n`;
}

export function usage(command: string, summary: string, options: readonly OptionSpec[]): string {
  const lines = [`Usage: ${command} [options]`, '', summary, '', 'Options:'];
  const width = Math.max(...options.map((o) => o.name.length + (o.flag ? 0 : (o.valueName ?? 'value').length + 3))) + 4;
  for (const option of [...options, { name: 'help', description: 'Show this help', flag: true }]) {
    const left = `--${option.name}${'flag' in option && option.flag ? '' : ` <${('valueName' in option && option.valueName) || 'value'}>`}`;
    const extra =
      'default' in option && option.default !== undefined ? ` (default: ${option.default})` : 'required' in option && option.required ? ' (required)' : '';
    lines.push(`  ${left.padEnd(width)}${option.description}${extra}`);
  }
  return lines.join('\n');
}

/** Parses argv; returns undefined when --help was asked (the caller prints usage). */
export function parseArgs(argv: readonly string[], options: readonly OptionSpec[]): Record<string, string> | undefined {
  const byName = new Map(options.map((option) => [option.name, option]));
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return undefined;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option --${name}`);
    if (spec.flag) {
      if (eq > 0) throw new UsageError(`--${name} takes no value`);
      values[name] = 'true';
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    values[name] = value;
  }
  for (const spec of options) {
    if (values[spec.name] === undefined && spec.default !== undefined) values[spec.name] = spec.default;
    if (spec.required && values[spec.name] === undefined) throw new UsageError(`--${spec.name} is required`);
  }
  return values;
}

/** Parses a positive integer option with a clear error. */
export function intOption(values: Record<string, string>, name: string, min = 1): number {
  const raw = values[name];
  const value = Number(raw);
  if (raw === undefined || !Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${raw ?? ''}"`);
  return value;
}

/** An IST date option (`YYYY-MM-DD`) as the epoch ms of its midnight; undefined when the option is absent. */
export function istDateOption(values: Record<string, string>, name: string): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? istTimeMs(text, 0, 0) : Number.NaN;
  if (!Number.isFinite(ms) || istDate(ms) !== text) throw new UsageError(`--${name} must be a date YYYY-MM-DD, got "${text}"`);
  return ms;
}

/**
 * `--from` and `--to`: a range of IST dates, both inclusive, read by {@link istDateRange}. `purpose`
 * finishes what the dates are ("First IST date to replay"; none: "First IST date").
 */
export function istDateRangeOptions(purpose?: string): readonly OptionSpec[] {
  const what = purpose === undefined ? '' : ` ${purpose}`;
  return [
    { name: 'from', description: `First IST date${what} (inclusive)`, valueName: 'YYYY-MM-DD' },
    { name: 'to', description: `Last IST date${what} (inclusive)`, valueName: 'YYYY-MM-DD' },
  ];
}

/** `--from` and `--to` ({@link istDateRangeOptions}) as epoch ms `[fromMs, toMs)`: from the first day's midnight to the midnight after the last. */
export function istDateRange(values: Record<string, string>): { readonly fromMs: number | undefined; readonly toMs: number | undefined } {
  const fromMs = istDateOption(values, 'from');
  const lastDayMs = istDateOption(values, 'to');
  const toMs = lastDayMs === undefined ? undefined : lastDayMs + DAY_MS;
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs) throw new UsageError('--to is before --from');
  return { fromMs, toMs };
}

/** A comma-separated option as its non-empty items, trimmed; undefined when the option is absent. */
export function listOption(values: Record<string, string>, name: string): string[] | undefined {
  return values[name]
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
