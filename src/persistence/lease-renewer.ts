/**
 * Lease renewal off the main thread: a worker thread with its own Redis connection renews the
 * process's leases every `renewEveryMs`, so an event-loop stall of the main thread (a long
 * synchronous task, a GC pause, a debugger) longer than the lease TTL no longer lets the lease
 * expire under a live process. The main thread keeps the fencing tokens and every decision
 * (`LeaseKeeper`): the worker only extends what it was given and reports each round.
 *
 * A process whose main thread is stuck for good must not hold its leases forever: the main
 * thread writes a heartbeat into shared memory, and when it is older than `maxStallMs` the worker
 * stops renewing (reported as `stalled`). The leases then expire after their TTL and another
 * process may take over; fencing refuses this process's later journal writes if it wakes up.
 *
 * The worker is plain JavaScript evaluated from a string (`eval: true`, no loader inherited):
 * it runs the same way under tsx, vitest and the `troupe` command. Its renewal is the Lua script
 * of `RedisKeyValueStore.renewLease` ({@link RENEW_LEASE_SCRIPT}), on the same keys.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { leaseKey, type Lease } from './key-value.js';
import { RENEW_LEASE_SCRIPT } from './redis/redis-key-value.js';

/** Where a worker can reach the leases on its own connection. */
export interface RedisRenewalTarget {
  readonly url: string;
  readonly keyPrefix: string;
}

/** One renewal round of the worker. */
export interface RenewalRound {
  /** Names renewed with the token they were renewed for. */
  readonly renewed: ReadonlyArray<{ readonly name: string; readonly token: number }>;
  /** Leases the backend no longer holds for this token (expired, or taken by someone else). */
  readonly gone: ReadonlyArray<{ readonly name: string; readonly token: number }>;
  /** Redis unreachable (the round stopped there). */
  readonly error?: string;
}

/** Options of {@link LeaseRenewer}. */
export interface LeaseRenewerOptions {
  readonly target: RedisRenewalTarget;
  readonly ttlMs: number;
  readonly renewEveryMs: number;
  /** The main thread may stall this long before the worker stops renewing. */
  readonly maxStallMs: number;
  /** Each round's result (delivered on the main thread, whenever it runs). */
  readonly onRound: (round: RenewalRound) => void;
  /** The worker stopped renewing because the main thread's heartbeat was older than `maxStallMs`. */
  readonly onStalled?: (stalledMs: number) => void;
  /** The worker itself failed (not a Redis error: those are rounds with `error`). */
  readonly onError?: (error: Error) => void;
}

type WorkerMessage =
  | { readonly type: 'ready'; readonly round: RenewalRound }
  | { readonly type: 'round'; readonly round: RenewalRound }
  | { readonly type: 'stalled'; readonly stalledMs: number };

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { Redis } = require(workerData.ioredisPath);
const { url, keyPrefix, ttlMs, renewEveryMs, maxStallMs, script, heartbeat } = workerData;
const beat = new BigInt64Array(heartbeat);
let leases = workerData.leases;
let running = false;
let stopping = false;
let stalledReported = false;
const client = new Redis(url, {
  keyPrefix, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1,
  connectTimeout: Math.max(200, Math.min(2000, ttlMs)), commandTimeout: Math.max(200, Math.min(2000, ttlMs)),
  retryStrategy: (times) => Math.min(50 * times, 1000),
});
client.on('error', () => undefined);
async function round() {
  const renewed = [];
  const gone = [];
  for (const lease of leases) {
    try {
      const result = await client.eval(script, 1, lease.key, lease.token + ':' + lease.owner, ttlMs);
      (Number(result) === 1 ? renewed : gone).push({ name: lease.name, token: lease.token });
    } catch (error) {
      return { renewed, gone, error: error instanceof Error ? error.message : String(error) };
    }
  }
  return { renewed, gone };
}
async function tick(type) {
  if (running || stopping) return;
  const stalledMs = Date.now() - Number(Atomics.load(beat, 0));
  if (type === 'round' && stalledMs > maxStallMs) {
    if (!stalledReported) parentPort.postMessage({ type: 'stalled', stalledMs });
    stalledReported = true;
    return;
  }
  stalledReported = false;
  running = true;
  try {
    const result = await round();
    if (!stopping) parentPort.postMessage({ type, round: result });
  } finally {
    running = false;
  }
}
const timer = setInterval(() => void tick('round'), renewEveryMs);
parentPort.on('message', (message) => {
  if (message.type === 'leases') leases = message.leases;
  else if (message.type === 'stop') {
    stopping = true;
    clearInterval(timer);
    const quit = () => client.quit().catch(() => client.disconnect()).finally(() => parentPort.close());
    const wait = () => (running ? setTimeout(wait, 5) : quit());
    wait();
  }
});
client.connect().catch(() => undefined).finally(() => void tick('ready'));
`;

const requireHere = createRequire(import.meta.url);

interface WorkerLease {
  readonly key: string;
  readonly name: string;
  readonly owner: string;
  readonly token: number;
}

function forWorker(leases: Iterable<Lease>): WorkerLease[] {
  return [...leases].map((lease) => ({ key: leaseKey(lease.name), name: lease.name, owner: lease.owner, token: lease.token }));
}

/** A worker thread that renews leases (see the module comment). */
export class LeaseRenewer {
  private readonly worker: Worker;
  private readonly heartbeat = new BigInt64Array(new SharedArrayBuffer(8));
  private readonly beatTimer: NodeJS.Timeout;
  private readonly exited: Promise<void>;
  private stopped = false;

  private constructor(options: LeaseRenewerOptions, leases: Iterable<Lease>, ready: (round: RenewalRound) => void) {
    this.beat();
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: {
        ioredisPath: requireHere.resolve('ioredis'),
        url: options.target.url,
        keyPrefix: options.target.keyPrefix,
        ttlMs: options.ttlMs,
        renewEveryMs: options.renewEveryMs,
        maxStallMs: options.maxStallMs,
        script: RENEW_LEASE_SCRIPT,
        heartbeat: this.heartbeat.buffer,
        leases: forWorker(leases),
      },
    });
    this.worker.unref();
    this.worker.on('message', (message: WorkerMessage) => {
      if (this.stopped) return;
      if (message.type === 'ready') ready(message.round);
      else if (message.type === 'round') options.onRound(message.round);
      else options.onStalled?.(message.stalledMs);
    });
    this.worker.on('error', (error) => options.onError?.(error));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // the main thread's heartbeat: if it stops for longer than maxStallMs, the worker stops renewing
    this.beatTimer = setInterval(() => this.beat(), Math.max(10, Math.min(1000, Math.floor(options.maxStallMs / 4), options.renewEveryMs)));
    this.beatTimer.unref();
  }

  /** Starts the worker; resolves after its first round (connected and renewed, or the error). */
  static async start(options: LeaseRenewerOptions, leases: Iterable<Lease>): Promise<{ renewer: LeaseRenewer; first: RenewalRound }> {
    let renewer: LeaseRenewer | undefined;
    const first = await new Promise<RenewalRound>((resolve, reject) => {
      renewer = new LeaseRenewer(options, leases, resolve);
      renewer.worker.once('error', reject);
      renewer.worker.once('exit', (code) => reject(new Error(`the lease renewal worker exited (code ${code}) before its first round`)));
    });
    return { renewer: renewer!, first };
  }

  private beat(): void {
    Atomics.store(this.heartbeat, 0, BigInt(Date.now()));
  }

  /** The leases to renew from now on (after one was taken again with a new token). */
  update(leases: Iterable<Lease>): void {
    if (!this.stopped) this.worker.postMessage({ type: 'leases', leases: forWorker(leases) });
  }

  /** Stops renewing; resolves when the worker has finished its round in flight and exited. */
  async stop(): Promise<void> {
    if (this.stopped) return this.exited;
    this.stopped = true;
    clearInterval(this.beatTimer);
    this.worker.postMessage({ type: 'stop' });
    const guard = setTimeout(() => void this.worker.terminate(), 5000);
    guard.unref();
    await this.exited;
    clearTimeout(guard);
  }

  /** Stops at once, whatever is in flight (a crash, in tests). */
  terminate(): void {
    this.stopped = true;
    clearInterval(this.beatTimer);
    void this.worker.terminate();
  }
}
