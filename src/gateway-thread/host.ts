/**
 * The host's end of the gateway worker (`TROUPE_GATEWAY_THREAD=worker`): starts `worker.ts` on a
 * thread of its own, serves it the runtime's facade and the host's readings across a message
 * port (`serveFacade`), writes its log lines to the process's log, and stops it first on the
 * way down (requests in flight complete while the tree still runs).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import type { TroupeConfig } from '../config/config.js';
import type { TlsMaterial } from '../gateway/tls.js';
import { writeLogLine, type Logger } from '../observability/logger.js';
import type { RuntimeFacade } from '../runtime/facade.js';
import { serveFacade, type HostEnd } from '../runtime/port/facade-server.js';
import { mismatch } from '../runtime/port/schemas.js';
import { WorkerToHostCheck, WorkerToHostSchema, type HostToWorker, type WorkerStart, type WorkerToHost } from './protocol.js';

/** How long `stop` waits for the worker to close its API before it is terminated. */
const STOP_TIMEOUT_MS = 10_000;

export interface GatewayThreadOptions {
  readonly config: TroupeConfig;
  readonly startedAtMs: number;
  readonly tls: TlsMaterial | undefined;
  /** The runtime's facade, served to the worker. */
  readonly facade: RuntimeFacade;
  /** The host's readings and requests besides the facade (feed, stores, fences, metrics, ML). */
  readonly host: HostEnd;
  readonly log: Logger;
}

export interface GatewayThread {
  /** The port the API listens on. */
  readonly port: number;
  /** Says at warn level when trading starts halted (in the worker, which reads the halts); resolves whether it is. */
  announce(started: string): Promise<boolean>;
  /** Closes the API (requests in flight complete), then the port; the worker exits. */
  stop(): Promise<void>;
}

/** The worker's module, and how to start it (from TypeScript sources: through `boot.mjs`, which registers tsx's loader in the worker first). */
function workerLaunch(): { readonly file: URL; readonly entry: string } {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url);
  return { file: entry.pathname.endsWith('.ts') ? new URL('./boot.mjs', import.meta.url) : entry, entry: entry.href };
}

/** Starts the gateway worker; resolves once its API listens (rejects with the worker's reason when it cannot start). */
export function startGatewayThread(options: GatewayThreadOptions): Promise<GatewayThread> {
  const { log } = options;
  const channel = new MessageChannel();
  const server = serveFacade(options.facade, channel.port1, {
    host: options.host,
    onBadMessage: (problem) => log.warn({ problem }, 'the runtime dropped a message from the gateway worker that does not decode'),
  });
  const start: WorkerStart = {
    config: options.config,
    startedAtMs: options.startedAtMs,
    logLevel: log.level === 'silent' ? 'silent' : options.config.logLevel,
    ...(options.tls ? { tls: { cert: options.tls.cert.toString('utf8'), key: options.tls.key.toString('utf8') } } : {}),
  };
  const launch = workerLaunch();
  const worker = new Worker(launch.file, {
    workerData: { start, facadePort: channel.port2, entry: launch.entry },
    transferList: [channel.port2],
    name: 'troupe-gateway',
  });
  const waiting = new Map<WorkerToHost['kind'], (message: WorkerToHost) => void>();
  let stopping = false;
  let exited = false;

  worker.on('message', (message: unknown) => {
    if (!WorkerToHostCheck.Check(message)) {
      log.warn({ problem: mismatch(WorkerToHostSchema, message) }, 'the gateway worker sent a message that does not decode (dropped)');
      return;
    }
    if (message.kind === 'log') writeLogLine(log, message.line);
    else waiting.get(message.kind)?.(message);
  });
  const tell = (message: HostToWorker): void => worker.postMessage(message);
  const next = <K extends WorkerToHost['kind']>(kind: K): Promise<Extract<WorkerToHost, { kind: K }>> =>
    new Promise((resolve) => waiting.set(kind, (message) => message.kind === kind && resolve(message as Extract<WorkerToHost, { kind: K }>)));

  return new Promise<GatewayThread>((resolve, reject) => {
    const failed = (why: string): void => {
      server.close();
      reject(new Error(`the gateway worker could not start: ${why}`));
    };
    worker.once('error', (error) => (exited ? undefined : failed(error.message)));
    worker.on('exit', (code) => {
      exited = true;
      server.close();
      if (!stopping) log.error({ exitCode: code }, 'the gateway worker stopped unexpectedly: the API and the desk are down; trading goes on');
    });
    void next('failed').then((message) => {
      void worker.terminate();
      failed(message.message);
    });
    void next('ready').then(({ port }) =>
      resolve({
        port,
        async announce(started) {
          const answer = next('announced');
          tell({ kind: 'announce', started });
          return (await answer).halted;
        },
        async stop() {
          if (stopping || exited) return;
          stopping = true;
          const stopped = next('stopped');
          tell({ kind: 'stop' });
          const timer = setTimeout(() => void worker.terminate(), STOP_TIMEOUT_MS);
          await Promise.race([stopped, new Promise((done) => worker.once('exit', done))]);
          clearTimeout(timer);
          await worker.terminate();
          server.close();
        },
      }),
    );
  });
}
