import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoRoll from 'pino-roll';
import type { LogFileConfig, LogLevel } from '../config/config.js';
import type { Order } from '../model/index.js';
import { ECS_FIELDS, ECS_PASSTHROUGH, ECS_VERSION, fitsLogFieldType, LOG_DATASETS, TROUPE_FIELDS } from './log-fields.js';

export type { Logger } from 'pino';

/** Troupe's version, from its package.json (`service.version` of every line). */
function serviceVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'troupe' && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // not here: one folder up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

const SERVICE_VERSION = serviceVersion();

/**
 * Renames one log object's keys to ECS (see `log-fields.ts`): known camel-case keys to their ECS
 * or `troupe.*` field, errors to `error.*`, the rest to `troupe.context.*`. An order flow's lines
 * get `trace.id` = the intent id (unique per strategy and stable from intent to fills).
 */
function toEcs(object: Record<string, unknown>, withDataset: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(object)) {
    const value = object[key];
    if (value === undefined) continue;
    if (key === 'err' || key === 'error') {
      if (value instanceof Error) {
        const serialized = pino.stdSerializers.err(value);
        out['error.type'] = serialized.type;
        out['error.message'] = serialized.message;
        if (serialized.stack !== undefined) out['error.stack_trace'] = serialized.stack;
        if (typeof serialized.code === 'string') out['error.code'] = serialized.code;
        continue;
      }
      if (typeof value === 'string') {
        out['error.message'] = value;
        continue;
      }
    }
    const field = ECS_PASSTHROUGH[key] ?? ECS_FIELDS[key] ?? TROUPE_FIELDS[key];
    if (field !== undefined && fitsLogFieldType(field.type, value)) out[field.name] = value;
    else out[`troupe.context.${key}`] = value;
  }
  if (out['trace.id'] === undefined && typeof out['troupe.intent_id'] === 'string') out['trace.id'] = out['troupe.intent_id'];
  if (withDataset && out['event.dataset'] === undefined) out['event.dataset'] = LOG_DATASETS.app;
  return out;
}

/** What the logger writes on every line: ECS's `ecs.version`, `service.*`, `process.pid`, `host.hostname`. */
function baseFields(): Record<string, unknown> {
  return { 'ecs.version': ECS_VERSION, 'service.name': 'troupe', 'service.version': SERVICE_VERSION, 'process.pid': process.pid, 'host.hostname': hostname() };
}

/**
 * The process logger: pino JSON lines in Elastic Common Schema names (`@timestamp`, `log.level`,
 * `message`, `ecs.version`, `service.*`, `process.pid`, `host.hostname`, `error.*`, `trace.id`,
 * `event.dataset`, `troupe.*`), to stdout or the destination given (a file descriptor, a path, or
 * a stream such as {@link openLogFile}'s).
 */
export function createLogger(level: LogLevel, destination?: number | string | DestinationStream): Logger {
  const stream = destination === undefined || typeof destination === 'object' ? destination : pino.destination(destination);
  const root = pino(
    {
      level,
      messageKey: 'message',
      base: baseFields(),
      timestamp: () => `,"@timestamp":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ 'log.level': label }),
        log: (object) => toEcs(object, true),
      },
    },
    stream,
  );
  // pino applies `formatters.bindings` to the base only: a child's bindings (an actor's path, a
  // strategy id, a request's trace id) are renamed here; children inherit this method
  const childOf = (Object.getPrototypeOf(root) as { child: (this: unknown, bindings: Record<string, unknown>, options?: unknown) => unknown }).child;
  root.child = function ecsChild(this: unknown, bindings: Record<string, unknown>, options?: unknown) {
    return childOf.call(this, toEcs(bindings, false), options);
  } as Logger['child'];
  return root;
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The ids of an order for a log line: `trace.id` (the intent id) and `troupe.*` ids, symbol, side,
 * quantity and status, in the `troupe.orders` dataset.
 */
export function orderLogFields(order: Order): Record<string, unknown> {
  return {
    'event.dataset': LOG_DATASETS.orders,
    intentId: order.intentId,
    clientOrderId: order.clientOrderId,
    ...(order.brokerOrderId === undefined ? {} : { brokerOrderId: order.brokerOrderId }),
    strategyId: order.strategyId,
    portfolioId: order.portfolioId,
    symbol: order.symbol,
    side: order.side,
    orderType: order.orderType,
    product: order.product,
    quantity: order.quantity,
    filledQuantity: order.filledQuantity,
    status: order.status,
  };
}

/**
 * The file log with rotation and retention (pino-roll): `<file>` becomes `<name>.<n><ext>`, a new
 * number on each rotation (by size and/or daily), and only the `retain` newest rotated files are
 * kept besides the one being written. `current.log` in the same folder links to the file being
 * written. Each line is written synchronously. Resolves once the file is open.
 */
export async function openLogFile(config: LogFileConfig): Promise<DestinationStream & { end(): void; flush(cb?: (error?: Error) => void): void }> {
  const stream = await pinoRoll({
    file: config.path,
    mkdir: true,
    // one write per line, as pino.destination does: nothing is lost when the process dies, and the
    // buffer cannot grow behind a slow disk
    sync: true,
    symlink: true,
    ...(config.rotateBytes === undefined ? {} : { size: `${config.rotateBytes}b` }),
    ...(config.rotateDaily ? { frequency: 'daily' } : {}),
    // pino-roll counts the file being written among the `count` it keeps (files of earlier runs too)
    limit: { count: config.retain + 1, removeOtherLogFiles: true },
  });
  return stream;
}

/** Writes a finished JSON log line (another thread's logger, say) to `log`'s destination as it is. */
export function writeLogLine(log: Logger, line: string): void {
  const destination: unknown = Reflect.get(log, pino.symbols.streamSym);
  if (isWritable(destination)) destination.write(line.endsWith('\n') ? line : `${line}\n`);
}

function isWritable(value: unknown): value is { write(line: string): unknown } {
  return typeof value === 'object' && value !== null && 'write' in value && typeof value.write === 'function';
}
