/**
 * Two guards every gateway response and request body goes through.
 *
 * - {@link SECURITY_HEADERS}: set on every response (API, errors, the dashboard's files, the
 *   OpenAPI pages, /metrics). The Content-Security-Policy fits the dashboard as built (module
 *   scripts and styles from its own origin, canvas charts, the WebSocket to the same host) and
 *   Swagger UI (its own files, `data:` images); nothing may frame the pages.
 * - {@link bodyTypeProblems}: the gateway's ajv coerces types (`coerceTypes: 'array'`), which
 *   query strings and path parameters need (they are text), but which turned a body's
 *   `"quantity": true`, `[2]` or `"5"` into numbers. A body is JSON: its values must already
 *   have the schema's types, so it is checked, without coercion, before ajv sees it.
 */

/** Headers of every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** A problem in a body, in the shape of the error envelope's details. */
export interface BodyTypeProblem {
  readonly in: 'body';
  readonly path: string;
  readonly message: string;
}

type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'boolean' || type === 'number' || type === 'string' ? type : 'object';
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The JSON types a schema allows, or undefined when it does not say (e.g. `Type.Unknown()`). */
function allowedTypes(schema: Readonly<Record<string, unknown>>): Set<JsonType> | undefined {
  const type = schema.type;
  if (typeof type === 'string' || Array.isArray(type)) {
    const names = (Array.isArray(type) ? type : [type]) as string[];
    return new Set(names.map((name) => (name === 'integer' ? 'number' : (name as JsonType))));
  }
  if ('const' in schema) return new Set([jsonType(schema.const)]);
  if (Array.isArray(schema.enum)) return new Set((schema.enum as unknown[]).map(jsonType));
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) {
    const union = new Set<JsonType>();
    for (const branch of branches as unknown[]) {
      const types = isRecord(branch) ? allowedTypes(branch) : undefined;
      if (types === undefined) return undefined;
      for (const name of types) union.add(name);
    }
    return union;
  }
  return undefined;
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Values of `body` whose JSON type is not one its schema allows (a string, a boolean or an
 * array where a number is expected, and so on), at any depth the schema describes. Empty when
 * there is none; what else the schema says (ranges, required fields…) is ajv's to check.
 */
export function bodyTypeProblems(schema: unknown, body: unknown, path = ''): BodyTypeProblem[] {
  if (!isRecord(schema) || body === undefined) return [];
  const problems: BodyTypeProblem[] = [];
  const allowed = allowedTypes(schema);
  const actual = jsonType(body);
  if (allowed !== undefined && !allowed.has(actual)) {
    problems.push({ in: 'body', path, message: `must be ${[...allowed].join(' or ')}, not ${actual} (${JSON.stringify(body).slice(0, 40)})` });
    return problems;
  }
  if (actual === 'object' && isRecord(schema.properties) && isRecord(body)) {
    for (const [key, value] of Object.entries(body)) {
      const property = schema.properties[key];
      if (property !== undefined) problems.push(...bodyTypeProblems(property, value, pointer(path, key)));
    }
  } else if (actual === 'array' && isRecord(schema.items) && Array.isArray(body)) {
    body.forEach((item: unknown, index) => problems.push(...bodyTypeProblems(schema.items, item, pointer(path, index))));
  }
  return problems;
}
