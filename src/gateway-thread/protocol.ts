/**
 * The messages between the host (the trading thread, `host.ts`) and the gateway worker
 * (`worker.ts`), besides the facade's own port (`src/runtime/port/`): the worker's start data,
 * its control messages and its log lines. Each side checks what it receives against these
 * schemas before it uses it.
 *
 * Host → worker: `announce` (say at warn level when trading starts halted), `stop`.
 * Worker → host: `log` (a JSON log line for the host's log), `ready` (listening; the first
 * admin's generated password, if this start created one), `announced`, `failed`, `stopped`.
 */
import { MessagePort } from 'node:worker_threads';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { Check } from 'typebox/value';
import type { TroupeConfig } from '../config/config.js';
import { mismatch } from '../runtime/port/schemas.js';

const Str = Type.String();

/** The configuration as it crosses (structured clone); checked for the parts the worker reads. */
const ConfigSchema = Type.Unsafe<TroupeConfig>(
  Type.Object({
    port: Type.Integer(),
    host: Str,
    databaseUrl: Str,
    dataDir: Str,
    allowFaultInjection: Type.Boolean(),
    gateway: Type.Object({ adminUser: Str, rateLimitPerMinute: Type.Integer(), wsHeartbeatMs: Type.Integer() }),
    persistence: Type.Object({ redisKeyPrefix: Str }),
  }),
);

/** What the worker starts with (besides the facade's port, which crosses in the transfer list). */
export const WorkerStartSchema = Type.Object({
  config: ConfigSchema,
  startedAtMs: Type.Number(),
  /** The host logger's level (the worker's lines go to the host's log). */
  logLevel: Type.Union([
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('trace'),
    Type.Literal('silent'),
  ]),
  /** The certificate and key (PEM) the host read and checked, when the gateway serves HTTPS. */
  tls: Type.Optional(Type.Object({ cert: Str, key: Str })),
});
export type WorkerStart = Static<typeof WorkerStartSchema>;

export const HostToWorkerSchema = Type.Union([Type.Object({ kind: Type.Literal('announce'), started: Str }), Type.Object({ kind: Type.Literal('stop') })]);
export type HostToWorker = Static<typeof HostToWorkerSchema>;

export const WorkerToHostSchema = Type.Union([
  Type.Object({ kind: Type.Literal('log'), line: Str }),
  Type.Object({
    kind: Type.Literal('ready'),
    port: Type.Integer(),
    generatedAdmin: Type.Optional(Type.Object({ username: Str, password: Str })),
  }),
  Type.Object({ kind: Type.Literal('announced'), halted: Type.Boolean() }),
  Type.Object({ kind: Type.Literal('failed'), message: Str }),
  Type.Object({ kind: Type.Literal('stopped') }),
]);
export type WorkerToHost = Static<typeof WorkerToHostSchema>;
/** Checks a message from the worker (compiled once: every log line is one). */
export const WorkerToHostCheck = Compile(WorkerToHostSchema);

/** The worker's start data and the facade's port, decoded; throws naming the first field that does not fit. */
export function decodeWorkerData(data: unknown): { readonly start: WorkerStart; readonly facadePort: MessagePort } {
  if (typeof data !== 'object' || data === null || !('facadePort' in data) || !(data.facadePort instanceof MessagePort))
    throw new Error('the gateway worker was started without its facade port (workerData.facadePort)');
  const start = 'start' in data ? data.start : undefined;
  if (!Check(WorkerStartSchema, start)) throw new Error(`the gateway worker's start data do not decode: ${mismatch(WorkerStartSchema, start)}`);
  return { start, facadePort: data.facadePort };
}
