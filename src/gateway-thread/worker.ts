/**
 * The gateway worker (`TROUPE_GATEWAY_THREAD=worker`): HTTP, auth, rate limits, the WebSocket
 * fan-out and audit writes on a thread of their own, so API load does not hold up the actors.
 *
 * It talks to the runtime only through the facade across its port (`PortRuntimeFacade`: queries
 * answered from the read model the runtime publishes, commands answered once the runtime has
 * answered — an order once journaled), and opens its own PostgreSQL pool (users, keys, audit,
 * history, the desk's queries) and Redis client (rate-limit counters). Its log lines go to the
 * host, which writes them to the process's log. Started by `host.ts`; the protocol: `protocol.ts`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSecretBox } from '../config/secret-box.js';
import { announceHalts, buildGateway, listenGateway, type GatewayInstance } from '../gateway/gateway.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { mergedExposition, registryExposition } from '../observability/metrics-merge.js';
import { PostgresAuditStore } from '../persistence/audit-store.js';
import { PostgresAuthStore } from '../persistence/auth-store.js';
import { openDatabase, type Database } from '../persistence/database.js';
import { deskSources } from '../persistence/desk-queries.js';
import { PostgresGatewayStateStore } from '../persistence/gateway-state-store.js';
import { SqlHistory } from '../persistence/history-queries.js';
import { connectRedis } from '../persistence/redis/redis-key-value.js';
import { RiskAlertJournal } from '../persistence/risk-alert-journal.js';
import { PortRuntimeFacade } from '../runtime/port/port-facade.js';
import { decodeWorkerData, HostToWorkerSchema, type WorkerStart, type WorkerToHost } from './protocol.js';
import { Check } from 'typebox/value';
import type { MessagePort } from 'node:worker_threads';
import type { Redis } from 'ioredis';

interface Opened {
  database?: Database;
  redis?: Redis | undefined;
  facade?: PortRuntimeFacade;
  gateway?: GatewayInstance;
}

function tell(message: WorkerToHost): void {
  parentPort?.postMessage(message);
}

/** Builds the gateway on the facade's port and listens; what it opened is in `opened`. */
async function start(startData: WorkerStart, facadePort: MessagePort, log: Logger, opened: Opened): Promise<GatewayInstance> {
  const { config } = startData;
  const metrics = new Metrics({ defaultMetrics: false });
  const facade = (opened.facade = await PortRuntimeFacade.connect(facadePort, {
    metrics,
    onBadMessage: (problem) => log.warn({ problem }, 'the gateway worker dropped a message from the runtime that does not decode'),
  }));
  const host = facade.host;
  if (host === undefined) throw new Error('the runtime serves no host readings to the gateway worker');
  const database = (opened.database = await openDatabase(config));
  opened.redis = config.redisUrl === undefined ? undefined : await connectRedis(config.redisUrl, { keyPrefix: config.persistence.redisKeyPrefix });
  const alertJournal = new RiskAlertJournal(database, { fences: () => host.fences() });
  const admins: Promise<void>[] = [];
  const gateway = (opened.gateway = await buildGateway({
    authStore: new PostgresAuthStore(database),
    auditStore: new PostgresAuditStore(database),
    stateStore: new PostgresGatewayStateStore(database),
    history: new SqlHistory(database, alertJournal),
    desk: deskSources(database),
    secretBox: openSecretBox(config.gateway.secretKey, config.dataDir),
    ...(opened.redis ? { rateLimitRedis: opened.redis } : {}),
    // the host shows the generated password once (its terminal); told before `ready`
    onGeneratedAdmin: (username, password) => admins.push(host.reportGeneratedAdmin(username, password)),
    runtime: facade,
    config: config.gateway,
    startedAtMs: startData.startedAtMs,
    allowFaultInjection: config.allowFaultInjection,
    logger: log,
    ...(host.feedControl ? { feedControl: host.feedControl } : {}),
    ...(startData.tls ? { tls: { cert: Buffer.from(startData.tls.cert), key: Buffer.from(startData.tls.key) } } : {}),
    feedState: () => host.feedState(),
    persistenceState: () => host.persistenceState(),
    metricsExposition: mergedExposition({ text: () => host.metricsText(), json: () => host.metricsJson() }, registryExposition(metrics)),
    ...(host.ml ? { ml: host.ml } : {}),
  }));
  await Promise.all(admins);
  return gateway;
}

/** Closes what was opened, the API first. */
async function close(opened: Opened, log: Logger): Promise<void> {
  const steps: (() => unknown)[] = [
    () => opened.gateway?.close(),
    () => opened.facade?.close(),
    () => opened.redis?.disconnect(),
    () => opened.database?.close(),
  ];
  for (const step of steps)
    await Promise.resolve()
      .then(step)
      .catch((error: unknown) => log.warn({ err: error }, 'closing the gateway worker'));
}

async function run(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('src/gateway-thread/worker.ts runs as a worker thread (started by host.ts)');
  const { start: startData, facadePort } = decodeWorkerData(workerData);
  // every line to the host's log, marked as the gateway thread's
  const log = createLogger(startData.logLevel, { write: (line: string) => tell({ kind: 'log', line }) }).child({ thread: 'gateway' });
  const opened: Opened = {};
  let gateway: GatewayInstance;
  try {
    gateway = await start(startData, facadePort, log, opened);
    tell({ kind: 'ready', port: await listenGateway(gateway, startData.config.port, startData.config.host) });
  } catch (error) {
    await close(opened, log);
    tell({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port.on('message', (message: unknown) => {
    if (!Check(HostToWorkerSchema, message)) {
      log.warn({ problem: 'unknown control message' }, 'the gateway worker dropped a control message that does not decode');
      return;
    }
    if (message.kind === 'announce')
      void announceHalts(gateway, log, message.started).then(
        (halted) => tell({ kind: 'announced', halted }),
        () => tell({ kind: 'announced', halted: false }),
      );
    else
      void close(opened, log).then(() => {
        tell({ kind: 'stopped' });
        port.close();
      });
  });
}

void run();
