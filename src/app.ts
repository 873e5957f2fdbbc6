/**
 * The composition root: `startTroupe(config)` starts Troupe in either broker mode (paper or
 * Kite) through one sequence. The modes differ only in the adapters their wiring plugs in
 * (`src/wiring/`: execution actor, market feed, reconciliation, Kite's session and ticker);
 * stores, leases, recovery, notifications, the time series, the gateway and the stop are here,
 * in the same order for both. `src/main.ts` is its command line.
 */
import type { Redis } from 'ioredis';
import type { TroupeConfig } from './config/config.js';
import { openSecretBox } from './config/secret-box.js';
import { announceHalts, buildGateway, listenGateway, type GatewayInstance } from './gateway/gateway.js';
import { MlService } from './runtime/ml-service.js';
import { startGatewayThread, type GatewayThread } from './gateway-thread/host.js';
import { registryExposition } from './observability/metrics-merge.js';
import type { FeedControl, FeedState } from './gateway/context.js';
import type { RuntimeFacade } from './runtime/facade.js';
import { withStoredStrategies } from './gateway/strategy-restore.js';
import { loadTls } from './gateway/tls.js';
import { notifierFromConfig, type Notifier } from './notifications/index.js';
import { PostgresAuditStore } from './persistence/audit-store.js';
import { PostgresAuthStore } from './persistence/auth-store.js';
import { PostgresGatewayStateStore } from './persistence/gateway-state-store.js';
import { OrderJournal } from './persistence/journal-orders.js';
import { acquireTradingLeases, leaseGauges, tradingLeaseNames, type LeaseKeeper } from './persistence/lease.js';
import { scheduleCheckpoints, SqlCheckpointStore } from './persistence/recovery.js';
import { connectRedis } from './persistence/redis/redis-key-value.js';
import type { RedisHealth } from './persistence/redis/redis-health.js';
import { openStores, type Stores } from './persistence/stores.js';
import { TieredSnapshotStore } from './persistence/tiered-snapshot-store.js';
import { MarketDataRecorder } from './persistence/timeseries/recorder.js';
import { prepareTimeSeries } from './persistence/timeseries/timescale.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import type { Runtime, StrategySpec } from './runtime/runtime.js';
import type { BrokerMode, BrokerWiring, Recovered } from './wiring/broker-wiring.js';
import { openPaperWiring } from './wiring/paper.wiring.js';
import { startTrading, type RunningStats, type Trading } from './wiring/trading.js';
import { SqlHistory } from './persistence/history-queries.js';
import { RiskAlertJournal, RiskAlertRecorder } from './persistence/risk-alert-journal.js';
import { demoStrategies } from './demo.js';
import { deskSources } from './persistence/desk-queries.js';
import { stopOnce } from './wiring/stop-once.js';

export type { RunningStats } from './wiring/trading.js';

/** The strategies every start runs, besides those made through the API (restored from the database). */
export const DEFAULT_STRATEGIES: readonly StrategySpec[] = [{ strategyId: 'ema-cross-1', kind: 'ema-cross', config: { quantity: 10 } }];

/** The stores' health: the journal (orders are refused while it is down) and Redis (hot snapshots only). */
export interface PersistenceState {
  readonly journal: 'ok' | 'down';
  readonly redis: 'ok' | 'degraded' | 'not configured';
}

export interface Running {
  /** Which broker fills the orders. */
  readonly mode: BrokerMode;
  readonly port: number;
  readonly runtime: Runtime;
  readonly stats: Readonly<RunningStats>;
  /**
   * The gateway (its `troupe` decoration holds auth, audit and the stream hub) when it runs on
   * this thread; undefined with `TROUPE_GATEWAY_THREAD=worker` (reach it over HTTP on `port`).
   */
  readonly gateway: GatewayInstance | undefined;
  /** Set when this start created the first admin with a generated password (show it once). */
  readonly generatedAdmin?: { readonly username: string; readonly password: string } | undefined;
  /** The stores' health. */
  persistence(): PersistenceState;
  stop(reason: string): Promise<void>;
}

/** The gateway of a start whose gateway runs on this thread (tests and benchmarks that `inject` requests). */
export function inProcessGateway(running: Pick<Running, 'gateway' | 'port'>): GatewayInstance {
  if (running.gateway === undefined)
    throw new Error(`the gateway runs in a worker thread (TROUPE_GATEWAY_THREAD=worker): send requests to port ${running.port}`);
  return running.gateway;
}

/**
 * The metrics alerting needs beyond the tree's own: the data directory's file system, Redis
 * PING latency, and the single-writer lease as a halt reason.
 */
export function bindOperationalMetrics(
  metrics: Metrics,
  config: TroupeConfig,
  stores: { readonly redisHealth?: RedisHealth | undefined },
  leases: () => readonly { readonly held: boolean }[],
): void {
  metrics.bindDataDir(config.dataDir);
  stores.redisHealth?.onProbe((durationMs) => metrics.dependencyLatencySeconds.observe({ dependency: 'redis' }, durationMs / 1000));
  metrics.bindHalt('lease', () => leases().some((lease) => !lease.held));
}

/** The broker mode's adapters: paper (synthetic market or a replay) or Kite (login, instruments, ticker). */
export async function openWiring(config: TroupeConfig, deps: { readonly metrics: Metrics; readonly log: Logger }): Promise<BrokerWiring> {
  if (config.broker !== 'kite') return openPaperWiring(config, deps);
  // loaded only in Kite mode: it brings in kiteconnect, which paper trading never needs
  const kite = await import('./wiring/kite.wiring.js');
  return kite.openKiteWiring(kite.kiteWiringOptions(config), deps);
}

/** What a start has opened so far: a failed start and `stop` close the same parts, in the same order. */
interface Parts {
  stores?: Stores;
  leases?: LeaseKeeper;
  notifier?: Notifier | undefined;
  alerts?: RiskAlertRecorder;
  recorder?: MarketDataRecorder | undefined;
  trading?: Trading<Recovered>;
  checkpointer?: { stop(): Promise<void> };
  rateLimitRedis?: Redis | undefined;
  gateway?: GatewayInstance;
  gatewayThread?: GatewayThread;
  ml?: MlService | undefined;
}

/**
 * Stops what is open. The API first, while the tree still runs: no order is accepted once the
 * runtime drains, and a request in flight (a manual order waiting for its journal entry)
 * completes first. After a failed start every step runs whatever the others do.
 */
async function closeParts(parts: Parts, log: Logger, afterFailure: boolean): Promise<void> {
  const steps: (() => unknown)[] = [
    () => parts.gateway?.close(),
    () => parts.gatewayThread?.stop(),
    () => parts.ml?.stop(),
    () => parts.trading?.stop(),
    () => parts.notifier?.stop(),
    () => parts.alerts?.stop(),
    () => parts.checkpointer?.stop(),
    () => parts.recorder?.stop(),
    () => parts.leases?.release(),
    () => parts.rateLimitRedis?.disconnect(),
    () => parts.stores?.close(),
  ];
  for (const step of steps) {
    if (!afterFailure) await step();
    else
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => log.warn({ err: error }, 'closing after a failed start'));
  }
}

/** Starts everything in the configured broker mode; resolves once the API listens. */
export async function startTroupe(config: TroupeConfig, log: Logger): Promise<Running> {
  const startedAtMs = Date.now();
  // HTTPS files are read and checked first: a bad certificate or key stops the start before anything opens
  const tls = config.gateway.tls ? loadTls(config.gateway.tls) : undefined;
  const metrics = new Metrics();
  // the mode's adapters before any store: the market (Kite: the session and the instruments) decides what trades
  const wiring = await openWiring(config, { metrics, log });
  const parts: Parts = {};
  try {
    return await startAround(config, log, { startedAtMs, tls, metrics, wiring }, parts);
  } catch (error) {
    await closeParts(parts, log, true);
    throw error;
  }
}

/** The time series of ticks and closed bars, when recording is on. */
async function openRecorder(config: TroupeConfig, stores: Stores, wiring: BrokerWiring, log: Logger): Promise<MarketDataRecorder | undefined> {
  if (!config.persistence.recordMarketData) return undefined;
  // behind bounded buffers that shed (never orders or fills); retention measures age on the market's clock
  return new MarketDataRecorder(stores.database, {
    layout: await prepareTimeSeries(stores.database, { use: config.persistence.timescale, log }),
    tickCapacity: config.persistence.tickBufferCapacity,
    tickBatchSize: config.persistence.tickBatchSize,
    // the embedded PGlite runs on this thread: ticks there would hold up the actors (bars are few)
    recordTicks: stores.database.kind === 'postgres',
    retention: { nowMs: () => wiring.marketNowMs() },
    log,
  });
}

/** The stores' health as the API and metrics report it. */
function persistenceOf(stores: Stores, journalHealthy: () => boolean): () => PersistenceState {
  return () => ({
    journal: journalHealthy() ? 'ok' : 'down',
    redis:
      stores.snapshots instanceof TieredSnapshotStore
        ? stores.redisHealth?.status().state === 'degraded' || stores.snapshots.status().redis === 'degraded'
          ? 'degraded'
          : 'ok'
        : 'not configured',
  });
}

/** What the API reads and controls besides its own stores. */
interface ApiSources {
  readonly stores: Stores;
  readonly gatewayState: PostgresGatewayStateStore;
  readonly alertJournal: RiskAlertJournal;
  readonly facade: RuntimeFacade;
  readonly metrics: Metrics;
  readonly persistence: () => PersistenceState;
  readonly feedState: () => FeedState;
  readonly feedControl?: FeedControl;
  readonly fences: () => readonly { readonly name: string; readonly token: number }[];
  readonly ml: MlService | undefined;
}

/** The API as started: where it listens, the gateway when it runs on this thread, its halt announcement. */
interface Api {
  readonly port: number;
  readonly gateway: GatewayInstance | undefined;
  generatedAdmin(): { readonly username: string; readonly password: string } | undefined;
  announce(started: string): Promise<boolean>;
}

/**
 * The gateway, on this thread or (TROUPE_GATEWAY_THREAD=worker) in a worker of its own that
 * opens its own pool and Redis client and reaches the runtime through the facade across a port.
 */
async function startApi(config: TroupeConfig, log: Logger, context: StartContext, parts: Parts, sources: ApiSources): Promise<Api> {
  let generatedAdmin: { readonly username: string; readonly password: string } | undefined;
  const onGeneratedAdmin = (username: string, password: string): void => {
    generatedAdmin = { username, password };
  };
  if (config.gateway.thread === 'worker') {
    const thread = (parts.gatewayThread = await startGatewayThread({
      config,
      startedAtMs: context.startedAtMs,
      tls: context.tls,
      facade: sources.facade,
      log,
      host: {
        feedState: sources.feedState,
        persistenceState: sources.persistence,
        feedControl: sources.feedControl,
        fences: sources.fences,
        metricsText: () => sources.metrics.text(),
        metricsJson: () => registryExposition(sources.metrics).json(),
        ml: sources.ml,
        onGeneratedAdmin,
      },
    }));
    return { port: thread.port, gateway: undefined, generatedAdmin: () => generatedAdmin, announce: (started) => thread.announce(started) };
  }
  const { stores } = sources;
  // users, keys and the audit trail in the database; rate-limit counters in Redis when configured (shared by every gateway)
  const rateLimitRedis = (parts.rateLimitRedis =
    config.redisUrl === undefined ? undefined : await connectRedis(config.redisUrl, { keyPrefix: config.persistence.redisKeyPrefix }));
  const gateway = (parts.gateway = await buildGateway({
    authStore: new PostgresAuthStore(stores.database),
    auditStore: new PostgresAuditStore(stores.database),
    // manual order numbering and API strategy states survive restarts; TOTP secrets sealed with the data dir's key
    stateStore: sources.gatewayState,
    history: new SqlHistory(stores.database, sources.alertJournal),
    desk: deskSources(stores.database),
    secretBox: openSecretBox(config.gateway.secretKey, config.dataDir),
    ...(rateLimitRedis ? { rateLimitRedis } : {}),
    onGeneratedAdmin,
    runtime: sources.facade,
    config: config.gateway,
    startedAtMs: context.startedAtMs,
    allowFaultInjection: config.allowFaultInjection,
    logger: log,
    ...(sources.feedControl ? { feedControl: sources.feedControl } : {}),
    ...(context.tls ? { tls: context.tls } : {}),
    feedState: sources.feedState,
    persistenceState: sources.persistence,
    ...(sources.ml ? { ml: sources.ml } : {}),
  }));
  const port = await listenGateway(gateway, config.port, config.host);
  return { port, gateway, generatedAdmin: () => generatedAdmin, announce: (started) => announceHalts(gateway, log, started) };
}

interface StartContext {
  readonly startedAtMs: number;
  readonly tls: ReturnType<typeof loadTls> | undefined;
  readonly metrics: Metrics;
  readonly wiring: BrokerWiring;
}

/** Everything around the mode's tree, in order: stores, leases, recovery and the tree, checkpoints, metrics, the gateway. */
async function startAround(config: TroupeConfig, log: Logger, context: StartContext, parts: Parts): Promise<Running> {
  const { metrics, wiring } = context;
  const stores = (parts.stores = await openStores(config, log));
  // single writer: journal writes carry this process's fencing tokens (leases taken below, before recovery)
  const journal = new OrderJournal(stores.database, { fences: () => parts.leases?.fences() ?? [] });
  let journalHealthy = true;
  // strategies made or changed through the API come back with their config (their pause state: buildGateway)
  const gatewayState = new PostgresGatewayStateStore(stores.database);
  const strategies = withStoredStrategies(
    // paper trading on the synthetic market or a replay: the demo (src/demo.ts); Kite: the plain default
    wiring.mode === 'paper' ? demoStrategies(wiring.instruments.map((instrument) => instrument.symbol)) : DEFAULT_STRATEGIES,
    await gatewayState.loadStrategies(),
    wiring.instruments.map((instrument) => instrument.symbol),
    (strategy, reason) => log.error({ strategyId: strategy.strategyId, reason }, 'a stored strategy cannot start; left out'),
  );
  const leaseNames = tradingLeaseNames(
    wiring.portfolioId,
    strategies.map((strategy) => strategy.strategyId),
  );
  parts.leases = await acquireTradingLeases(stores.database, config, leaseNames, log);
  // fills, halts and alerts (recovery's among them) to the configured webhook / Telegram / e-mail, off the trading path
  const notifier = (parts.notifier = notifierFromConfig(config.notifications, { log, registry: metrics.registry }));
  const recorder = (parts.recorder = await openRecorder(config, stores, wiring, log));
  // risk alerts (recovery's among them) journaled and kept deduplicated in risk_alerts (the API's and the desk's record), off the trading path
  const alertJournal = new RiskAlertJournal(stores.database, { fences: () => parts.leases?.fences() ?? [] });
  const alerts = (parts.alerts = new RiskAlertRecorder(alertJournal, { log }).start());
  // an admin may pause a pausable feed (PUT /api/v1/market/feed): ticks are dropped at the source, as in
  // an outage, while the market's clock runs on (drills of the stalled-feed alert)
  let feedPaused = false;
  const pausable = wiring.feed.pausable;
  // snapshots, then the journal replayed onto them and reconciled with the broker, then the tree and its feed
  const trading = (parts.trading = await startTrading({
    wiring,
    strategies,
    initialCashPaise: config.initialCashPaise,
    log,
    metrics,
    riskLimits: config.risk,
    squareOffMinute: config.squareOffMinute,
    snapshotStore: stores.snapshots,
    describeStores: stores.describe,
    journal,
    onJournalHealth: (healthy) => (journalHealthy = healthy),
    checkpoints: new SqlCheckpointStore(stores.database),
    onStarted: (runtime) => {
      notifier?.attach(runtime.bus);
      runtime.bus.on('RiskAlert', (alert) => alerts.offer(alert));
    },
    ...(recorder ? { recorder } : {}),
    ...(pausable ? { feedPaused: () => feedPaused } : {}),
  }));
  // the ML actor starts once a model is live (TROUPE_ML, src/config/ml.ts); retraining on its schedule, in a child process
  const ml = (parts.ml =
    config.ml.mode === 'off'
      ? undefined
      : new MlService({
          config: config.ml,
          database: stores.database,
          runtime: trading.runtime,
          metrics,
          log,
          symbols: wiring.instruments.map((instrument) => instrument.symbol),
        }));
  await ml?.start();
  // the journal watermark moves forward in the background: the next start reads only what came after it
  parts.checkpointer = scheduleCheckpoints({ db: stores.database, journal, stream: wiring.journalStream, log });
  const persistence = persistenceOf(stores, () => journalHealthy);
  if (pausable) metrics.bindFeedPaused(() => feedPaused);
  metrics.bindPersistence({
    dependencies: () => {
      const state = persistence();
      return { journal: state.journal === 'ok', ...(state.redis === 'not configured' ? {} : { redis: state.redis === 'ok' }) };
    },
    leases: () => leaseGauges(parts.leases, leaseNames),
    ingest: () => recorder?.stats(),
  });
  bindOperationalMetrics(metrics, config, stores, () => leaseGauges(parts.leases, leaseNames));
  const api = await startApi(config, log, context, parts, {
    stores,
    gatewayState,
    alertJournal,
    facade: trading.runtime.facade,
    metrics,
    persistence,
    feedState: () => trading.feedState(),
    ...(pausable ? { feedControl: { paused: () => feedPaused, setPaused: (paused: boolean) => (feedPaused = paused) } } : {}),
    fences: () => parts.leases?.fences() ?? [],
    ml,
  });
  const announced = wiring.announce(api.port);
  if (!(await api.announce(announced.started))) log.info(announced.fields, announced.trading);

  return {
    mode: wiring.mode,
    port: api.port,
    runtime: trading.runtime,
    stats: trading.stats,
    gateway: api.gateway,
    generatedAdmin: api.generatedAdmin(),
    persistence,
    stop: stopOnce(async (reason: string) => {
      log.info({ reason }, 'stopping: intake closed, draining actors');
      await closeParts(parts, log, false);
      log.info('stopped cleanly');
    }),
  };
}
