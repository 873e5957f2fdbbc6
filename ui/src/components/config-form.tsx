/**
 * A form generated from a strategy kind's settings (`configFields` of the API): one input per
 * field by its type (whole number, number, text, on/off, choice, symbol list), its default and
 * range as a hint, and the server's validation message next to the field it names.
 */
import { TroupeApiError, type ConfigField } from '../lib/api.js';
import { humanise } from '../lib/errors.js';

/** What the person typed, per field: text for inputs, a boolean for switches. */
export type ConfigDraft = Readonly<Record<string, string | boolean>>;

const NUMBER = /^-?\d+(\.\d+)?$/;

function toText(field: ConfigField, value: unknown): string | boolean {
  if (field.type === 'boolean') return value === true;
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(', ');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/** The draft for a form: the given values, else each field's default. */
export function draftFrom(fields: readonly ConfigField[], values: Readonly<Record<string, unknown>> = {}): ConfigDraft {
  return Object.fromEntries(fields.map((field) => [field.name, toText(field, values[field.name] ?? field.default)]));
}

/** One field's value as the API takes it. Text that is not a number is sent as typed: the server says what is wrong with it. */
function fromText(field: ConfigField, text: string | boolean): unknown {
  if (typeof text === 'boolean') return text;
  const trimmed = text.trim();
  switch (field.type) {
    case 'integer':
    case 'number':
      return NUMBER.test(trimmed) ? Number(trimmed) : trimmed;
    case 'symbols':
      return trimmed
        .split(/[\s,]+/)
        .map((symbol) => symbol.trim().toUpperCase())
        .filter(Boolean);
    default:
      return trimmed;
  }
}

/**
 * The config to send. With `base` (the settings in effect) only the fields that differ from it
 * are sent (a PATCH merges them); without, the fields that differ from their defaults.
 */
export function configFrom(fields: readonly ConfigField[], draft: ConfigDraft, base?: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const field of fields) {
    const text = draft[field.name];
    if (text === undefined) continue;
    if (text === '' && base === undefined) continue; // left empty on a new instance: the default applies
    const value = fromText(field, text);
    const reference = base === undefined ? field.default : base[field.name];
    if (JSON.stringify(value) !== JSON.stringify(reference)) config[field.name] = value;
  }
  return config;
}

/** A server message made readable: "must be at least 2" → "Must be at least 2". */
function readable(message: string): string {
  const text = message.replace(/^must be >= (\S+)$/, 'must be at least $1').replace(/^must be <= (\S+)$/, 'must be at most $1');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Splits an API error into messages per form field (`/config/fastPeriod` → `fastPeriod`, `/strategyId` → `strategyId`) and one general message. */
export function fieldErrors(error: unknown): { readonly byField: Readonly<Record<string, string>>; readonly general: string | undefined } {
  if (!(error instanceof TroupeApiError) || error.details.length === 0) return { byField: {}, general: humanise(error) };
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const detail of error.details) {
    const match = /^\/(?:config\/)?([A-Za-z0-9_]+)/.exec(detail.path);
    const name = detail.path === '/config' ? undefined : match?.[1];
    if (name) byField[name] ??= readable(detail.message);
    else other.push(readable(detail.message));
  }
  return {
    byField,
    general: other.length > 0 ? other.join(' ') : Object.keys(byField).length > 0 ? 'Please correct the highlighted settings.' : humanise(error),
  };
}

function hint(field: ConfigField): string {
  const parts: string[] = [];
  if (field.min !== undefined && field.max !== undefined) parts.push(`${field.min} to ${field.max}`);
  else if (field.min !== undefined) parts.push(`at least ${field.min}`);
  else if (field.max !== undefined) parts.push(`at most ${field.max}`);
  if (field.type === 'integer') parts.push('whole number');
  if (field.type === 'symbols') parts.push('comma-separated');
  if (field.default !== undefined && field.type !== 'boolean') {
    const value = field.default;
    parts.push(
      `default ${Array.isArray(value) ? value.join(', ') || 'none' : typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
  }
  return parts.join(' · ');
}

export interface ConfigFieldsProps {
  readonly fields: readonly ConfigField[];
  readonly draft: ConfigDraft;
  readonly onChange: (next: ConfigDraft) => void;
  readonly errors: Readonly<Record<string, string>>;
  /** Unique per form (ids of inputs and their messages). */
  readonly idPrefix: string;
}

/** The inputs of a config form, one per field. */
export function ConfigFields({ fields, draft, onChange, errors, idPrefix }: ConfigFieldsProps) {
  return (
    <div className="config-fields">
      {fields.map((field) => {
        const id = `${idPrefix}-${field.name}`;
        const error = errors[field.name];
        const described = [`${id}-hint`, error ? `${id}-error` : ''].filter(Boolean).join(' ');
        const value = draft[field.name];
        const common = { id, name: field.name, 'aria-invalid': error ? true : undefined, 'aria-describedby': described } as const;
        const set = (next: string | boolean): void => onChange({ ...draft, [field.name]: next });
        return (
          <div className={`field${field.type === 'boolean' ? ' field-check' : ''}`} key={field.name} data-field={field.name}>
            {field.type === 'boolean' ? (
              <label htmlFor={id}>
                <input {...common} type="checkbox" checked={value === true} onChange={(event) => set(event.target.checked)} /> {fieldLabel(field.name)}
              </label>
            ) : (
              <label htmlFor={id}>{fieldLabel(field.name)}</label>
            )}
            {field.type === 'enum' ? (
              <select {...common} value={typeof value === 'string' ? value : ''} onChange={(event) => set(event.target.value)}>
                {(field.options ?? []).map((option) => (
                  <option key={option} value={option}>
                    {option}
                  </option>
                ))}
              </select>
            ) : field.type === 'boolean' ? null : (
              <input
                {...common}
                className={field.type === 'integer' || field.type === 'number' ? 'num' : undefined}
                inputMode={field.type === 'integer' ? 'numeric' : field.type === 'number' ? 'decimal' : undefined}
                value={typeof value === 'string' ? value : ''}
                onChange={(event) => set(event.target.value)}
                placeholder={field.type === 'symbols' ? 'INFY, TCS' : undefined}
                autoComplete="off"
                spellCheck={false}
              />
            )}
            <div className="hint" id={`${id}-hint`}>
              {field.description}
              {hint(field) ? <span className="muted"> ({hint(field)})</span> : null}
            </div>
            {error ? (
              <div className="field-error" id={`${id}-error`} data-testid={`config-error-${field.name}`}>
                {error}
              </div>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}

/** A config key as a label: `fastPeriod` → "Fast period", `maxOrderValuePaise` → "Max order value (₹)", `rsiPeriod` → "RSI period". */
export function fieldLabel(name: string): string {
  const paise = /Paise$/.test(name);
  const words = name
    .replace(/Paise$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(' ')
    .map((word, index) => {
      const lower = word.toLowerCase();
      if (['rsi', 'ema', 'sma', 'vwap', 'atr', 'mis', 'cnc'].includes(lower)) return lower.toUpperCase();
      return index === 0 ? lower.charAt(0).toUpperCase() + lower.slice(1) : lower;
    });
  return `${words.join(' ')}${paise ? ' (₹)' : ''}`;
}
