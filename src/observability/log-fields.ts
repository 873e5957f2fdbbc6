import { isIP } from 'node:net';

/**
 * How Troupe's log fields map to Elastic Common Schema (ECS) names, and the Elasticsearch type of
 * each. The logger (`logger.ts`) renames what call sites log through this table; the index
 * template `deploy/elasticsearch/index-template.json` maps exactly these fields (a test checks
 * that the two agree and that real log lines fit the template).
 *
 * Call sites keep logging in camelCase (`log.warn({ clientOrderId, reason }, '…')`):
 * - a key of {@link ECS_FIELDS} goes to its ECS field (`username` → `user.name`);
 * - a key of {@link TROUPE_FIELDS} goes to `troupe.<name>` (`clientOrderId` → `troupe.client_order_id`);
 * - `err` (or `error`) becomes `error.type`, `error.message`, `error.stack_trace`;
 * - a key already in ECS dotted form (one of {@link ECS_PASSTHROUGH}) is kept as it is;
 * - anything else goes to `troupe.context.<key>`, which the template maps as one `flattened`
 *   field: no mapping explosion and no rejected document, whatever a call site adds.
 * A value whose type does not fit its field's type (a number where a keyword is mapped, say) also
 * goes to `troupe.context`, so Elasticsearch never rejects a line for a type conflict.
 */

/** Elasticsearch field types used by the template (what a value must look like for each). */
export type LogFieldType = 'keyword' | 'match_only_text' | 'long' | 'boolean' | 'date' | 'ip' | 'flattened';

/** One field of the log's schema. */
export interface LogField {
  /** The dotted field name in the log line and in the index. */
  readonly name: string;
  readonly type: LogFieldType;
}

/** The ECS version the lines declare (`ecs.version`). */
export const ECS_VERSION = '8.11.0';

/** The `event.dataset` values Troupe writes. */
export const LOG_DATASETS = {
  /** Everything not listed below. */
  app: 'troupe.app',
  /** The life of orders: placed, filled, rejected by risk or the broker, refused. */
  orders: 'troupe.orders',
  /** One line per gateway request (`TROUPE_ACCESS_LOG`, else at debug level). */
  access: 'troupe.access',
} as const;

/** Camel-case keys that call sites log, renamed to Troupe's namespace (`troupe.*`). */
export const TROUPE_FIELDS: Readonly<Record<string, LogField>> = {
  clientOrderId: { name: 'troupe.client_order_id', type: 'keyword' },
  brokerOrderId: { name: 'troupe.order_id', type: 'keyword' },
  intentId: { name: 'troupe.intent_id', type: 'keyword' },
  strategyId: { name: 'troupe.strategy_id', type: 'keyword' },
  portfolioId: { name: 'troupe.portfolio_id', type: 'keyword' },
  fillId: { name: 'troupe.fill_id', type: 'keyword' },
  symbol: { name: 'troupe.symbol', type: 'keyword' },
  side: { name: 'troupe.side', type: 'keyword' },
  orderType: { name: 'troupe.order_type', type: 'keyword' },
  product: { name: 'troupe.product', type: 'keyword' },
  status: { name: 'troupe.order_status', type: 'keyword' },
  quantity: { name: 'troupe.quantity', type: 'long' },
  filledQuantity: { name: 'troupe.filled_quantity', type: 'long' },
  fillQuantity: { name: 'troupe.fill_quantity', type: 'long' },
  limitPricePaise: { name: 'troupe.limit_price_paise', type: 'long' },
  pricePaise: { name: 'troupe.price_paise', type: 'long' },
  chargesPaise: { name: 'troupe.charges_paise', type: 'long' },
  code: { name: 'troupe.code', type: 'keyword' },
  reason: { name: 'troupe.reason', type: 'match_only_text' },
  actor: { name: 'troupe.actor', type: 'keyword' },
  event: { name: 'troupe.event_type', type: 'keyword' },
  dependency: { name: 'troupe.dependency', type: 'keyword' },
};

/** Camel-case keys that call sites log, renamed to an ECS field. */
export const ECS_FIELDS: Readonly<Record<string, LogField>> = {
  username: { name: 'user.name', type: 'keyword' },
  port: { name: 'server.port', type: 'long' },
};

/** Fields keyed by their own names. */
function byName(fields: readonly LogField[]): Readonly<Record<string, LogField>> {
  return Object.fromEntries(fields.map((field) => [field.name, field]));
}

/** ECS fields a call site (or Fastify's request logger) may log under their dotted name, by that name. */
export const ECS_PASSTHROUGH: Readonly<Record<string, LogField>> = byName([
  { name: 'trace.id', type: 'keyword' },
  { name: 'event.dataset', type: 'keyword' },
  { name: 'event.duration', type: 'long' },
  { name: 'http.request.method', type: 'keyword' },
  { name: 'http.response.status_code', type: 'long' },
  { name: 'url.path', type: 'keyword' },
  { name: 'client.ip', type: 'ip' },
]);

/** Fields the logger itself writes on every line (or on error lines), whatever the call site. */
export const LOGGER_FIELDS: readonly LogField[] = [
  { name: '@timestamp', type: 'date' },
  { name: 'log.level', type: 'keyword' },
  { name: 'message', type: 'match_only_text' },
  { name: 'ecs.version', type: 'keyword' },
  { name: 'service.name', type: 'keyword' },
  { name: 'service.version', type: 'keyword' },
  { name: 'process.pid', type: 'long' },
  { name: 'host.hostname', type: 'keyword' },
  { name: 'error.type', type: 'keyword' },
  { name: 'error.message', type: 'match_only_text' },
  { name: 'error.stack_trace', type: 'match_only_text' },
  { name: 'error.code', type: 'keyword' },
  { name: 'troupe.context', type: 'flattened' },
];

/** Every field a Troupe log line can have, by dotted name: what the index template must map. */
export function allLogFields(): ReadonlyMap<string, LogFieldType> {
  const fields = new Map<string, LogFieldType>();
  for (const field of [...LOGGER_FIELDS, ...Object.values(ECS_PASSTHROUGH), ...Object.values(ECS_FIELDS), ...Object.values(TROUPE_FIELDS)]) {
    fields.set(field.name, field.type);
  }
  return fields;
}

/** Whether `value` can be indexed as a field of `type` (a value that cannot goes to `troupe.context`). */
export function fitsLogFieldType(type: LogFieldType, value: unknown): boolean {
  switch (type) {
    case 'keyword':
    case 'match_only_text':
      return typeof value === 'string';
    case 'long':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0;
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'flattened':
      return typeof value === 'object' && value !== null;
  }
}
