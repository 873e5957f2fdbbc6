/**
 * The paper-trading application: the synthetic NSE market, the market-data pipeline, the
 * actor tree and the gateway (REST, WebSocket, metrics). `src/main.ts` is its command line.
 */
import { filter, type Subscription } from 'rxjs';
import type { TroupeConfig } from './config/config.js';
import { loadTls } from './gateway/tls.js';
import { buildGateway, listenGateway, type GatewayInstance } from './gateway/gateway.js';
import type { Logger } from './runtime/logger.js';
import { Metrics } from './runtime/metrics.js';
import { Runtime } from './runtime/runtime.js';
import { openStores } from './persistence/stores.js';
import { PostgresAuditStore } from './persistence/audit-store.js';
import { PostgresAuthStore } from './persistence/auth-store.js';
import { PostgresGatewayStateStore } from './persistence/gateway-state-store.js';
import { withStoredStrategies } from './gateway/strategy-restore.js';
import { openSecretBox } from './config/secret-box.js';
import { connectRedis } from './persistence/redis/redis-key-value.js';
import type { RedisHealth } from './persistence/redis/redis-health.js';
import { OrderJournal } from './persistence/journal-orders.js';
import { recoverFromJournal, scheduleCheckpoints, SqlCheckpointStore } from './persistence/recovery.js';
import { TieredSnapshotStore } from './persistence/tiered-snapshot-store.js';
import { acquireTradingLeases, leaseGauges, tradingLeaseNames, type LeaseKeeper } from './persistence/lease.js';
import { MarketDataRecorder } from './persistence/timeseries/recorder.js';
import { prepareTimeSeries } from './persistence/timeseries/timescale.js';
import { createSyntheticMarket, describeRejections, marketDataPipeline, readDataFolder, rejectionCounts, summariseRejections, syntheticTicks$, type DataFolder } from './streams/index.js';
import { steppedReplay$ } from './streams/sources/stepped-replay.js';
import type { Instrument } from './model/index.js';
import { notifierFromConfig } from './notifications/index.js';

/**
 * Reads the folder paper trading replays: every file or row left out is counted in
 * `troupe_data_rejected_total` and logged with the first examples (file and line); with
 * `strict`, any of it refuses the start, as does a folder with nothing usable.
 */
async function readReplay(dir: string, strict: boolean, metrics: Metrics, log: Logger): Promise<DataFolder> {
  const data = await readDataFolder(dir);
  if (data.rejected.length > 0) {
    const summary = summariseRejections(data.rejected);
    if (summary.files > 0) metrics.dataRejected.inc({ kind: 'file' }, summary.files);
    if (summary.rows > 0) metrics.dataRejected.inc({ kind: 'row' }, summary.rows);
    log.warn({ dir, files: summary.files, rows: summary.rows, examples: summary.examples, text: describeRejections(data.rejected).join('\n') }, `replay data: ${rejectionCounts(summary)} left out`);
    if (strict) throw new Error(`replay data in ${dir}: ${rejectionCounts(summary)} rejected and strict mode is on:\n${describeRejections(data.rejected).join('\n')}`);
  }
  if (data.instruments.length === 0) throw new Error(`replay data: no usable CSV files in ${dir}`);
  return data;
}

/**
 * The metrics alerting needs beyond the tree's own (shared by paper and Kite mode): the data
 * directory's file system, Redis PING latency, and the single-writer lease as a halt reason.
 */
export function bindOperationalMetrics(metrics: Metrics, config: TroupeConfig, stores: { readonly redisHealth?: RedisHealth | undefined }, leases: () => readonly { readonly held: boolean }[]): void {
  metrics.bindDataDir(config.dataDir);
  stores.redisHealth?.onProbe((durationMs) => metrics.dependencyLatencySeconds.observe({ dependency: 'redis' }, durationMs / 1000));
  metrics.bindHalt('lease', () => leases().some((lease) => !lease.held));
}

/** Counters for the terminal status line. */
export interface RunningStats {
  ticks: number;
  orders: number;
  fills: number;
  rejectedTicks: number;
}

export interface Running {
  readonly port: number;
  readonly runtime: Runtime;
  readonly stats: Readonly<RunningStats>;
  /** The gateway (its `troupe` decoration holds auth, audit and the stream hub). */
  readonly gateway: GatewayInstance;
  /** Set when this start created the first admin with a generated password (show it once). */
  readonly generatedAdmin?: { readonly username: string; readonly password: string } | undefined;
  /** The stores' health: the journal (orders are refused while it is down) and Redis (hot snapshots only). */
  persistence?(): { readonly journal: 'ok' | 'down'; readonly redis: 'ok' | 'degraded' | 'not configured' };
  stop(reason: string): Promise<void>;
}

/**
 * Says at warn level, once the API listens, when trading starts halted (a kill switch tripped
 * before the restart and still in force, say); returns whether it is halted.
 */
export async function announceHalts(gateway: GatewayInstance, log: Logger, started: string): Promise<boolean> {
  const halts = await gateway.troupe.halts.current();
  const critical = halts.filter((halt) => halt.severity === 'critical');
  for (const halt of halts) log.warn({ halt: halt.kind, sinceMs: halt.sinceMs, release: halt.release?.path ?? null }, `${halt.reason} ${halt.action}`);
  if (critical.length > 0) log.warn({ halts: critical.map((halt) => halt.kind) }, `${started} but trading is HALTED (${critical.map((halt) => halt.kind).join(', ')}): no order goes out until released`);
  return critical.length > 0;
}

/** Starts everything; resolves once the API listens. */
export async function startTroupe(config: TroupeConfig, log: Logger): Promise<Running> {
  const startedAtMs = Date.now();
  // HTTPS files are read and checked first: a bad certificate or key stops the start before anything opens
  const tls = config.gateway.tls ? loadTls(config.gateway.tls) : undefined;
  const metrics = new Metrics();
  // the market: a replay of a data folder (paper trading from a file), else the synthetic one
  const replay = config.market.replayDataDir === undefined ? undefined : await readReplay(config.market.replayDataDir, config.market.replayStrict, metrics, log);
  const synthetic = replay
    ? undefined
    : createSyntheticMarket({
        symbols: config.market.symbols,
        seed: config.market.seed,
        ticksPerSymbolPerSecond: config.market.ticksPerSymbolPerSecond,
      });
  let replayTimeMs = 0;
  const market: { readonly instruments: readonly Instrument[] } = replay ?? synthetic!;
  const marketNowMs = (): number => (synthetic ? synthetic.simulatedTimeMs : replayTimeMs);
  const source = replay ? 'replay' : 'synthetic';
  const stats: RunningStats = { ticks: 0, orders: 0, fills: 0, rejectedTicks: 0 };
  let lastTickWallMs: number | undefined;
  const stores = await openStores(config, log);
  // single writer: journal writes carry this process's fencing tokens (leases taken below, before recovery)
  let leases: LeaseKeeper | undefined;
  const journal = new OrderJournal(stores.database, { fences: () => leases?.fences() ?? [] });
  let journalHealthy = true;
  const portfolio = { portfolioId: 'paper', initialCashPaise: config.initialCashPaise };
  // strategies made or changed through the API come back with their config (their pause state: buildGateway)
  const gatewayState = new PostgresGatewayStateStore(stores.database);
  const strategies = withStoredStrategies(
    [{ strategyId: 'ema-cross-1', kind: 'ema-cross', config: { quantity: 10 } }],
    await gatewayState.loadStrategies(),
    market.instruments.map((instrument) => instrument.symbol),
    (strategy, reason) => log.error({ strategyId: strategy.strategyId, reason }, 'a stored strategy cannot start; left out'),
  );
  const leaseNames = tradingLeaseNames(portfolio.portfolioId, strategies.map((strategy) => strategy.strategyId));
  const runtime = new Runtime({
    instruments: market.instruments,
    strategies,
    portfolio,
    clock: { nowMs: marketNowMs },
    logger: log,
    metrics,
    riskLimits: config.risk,
    squareOffMinute: config.squareOffMinute,
    snapshotStore: stores.snapshots,
    journal,
    onJournalHealth: (healthy) => (journalHealthy = healthy),
  });
  try {
    leases = await acquireTradingLeases(stores.database, config, leaseNames, log);
  } catch (error) {
    await stores.close().catch(() => undefined);
    throw error;
  }
  const restored = await runtime.restoreFrom(stores.snapshots);
  log.info({ restored, ...stores.describe }, restored > 0 ? 'restored actor state from the last run' : 'starting with fresh state');
  // replay the journal after the snapshots (no side effects), reconcile with the broker
  const recovery = await recoverFromJournal({ journal, target: runtime, portfolios: [portfolio], nowMs: () => Date.now(), log, checkpoints: new SqlCheckpointStore(stores.database) });
  // the journal watermark moves forward in the background: the next start reads only what came after it
  const checkpointer = scheduleCheckpoints({ db: stores.database, journal, log });
  runtime.start();
  // counted before recovery's alerts are published (position mismatches, reconciliation: alert rules watch them)
  metrics.attachBus(runtime.bus);
  // fills, halts and alerts to the configured webhook / Telegram / e-mail, off the trading path
  const notifier = notifierFromConfig(config.notifications, { log, registry: metrics.registry });
  notifier?.attach(runtime.bus);
  for (const alert of recovery.alerts) runtime.bus.publish(alert);
  runtime.bus.on('OrderSubmitted', () => (stats.orders += 1));
  runtime.bus.on('OrderFilled', () => (stats.fills += 1));
  // ticks and closed bars to the time series, behind bounded buffers that shed (never orders or fills);
  // retention measures age on the market's clock
  const recorder = config.persistence.recordMarketData
    ? new MarketDataRecorder(stores.database, {
        layout: await prepareTimeSeries(stores.database, { use: config.persistence.timescale, log }),
        tickCapacity: config.persistence.tickBufferCapacity,
        tickBatchSize: config.persistence.tickBatchSize,
        // the embedded PGlite runs on this thread: ticks there would hold up the actors (bars are few)
        recordTicks: stores.database.kind === 'postgres',
        retention: { nowMs: marketNowMs },
        log,
      })
    : undefined;

  // an admin may pause the feed (PUT /api/v1/market/feed): ticks are dropped at the source, as in
  // an outage, while the market's clock runs on (drills of the stalled-feed alert)
  let feedPaused = false;
  metrics.bindMarketClock(marketNowMs);
  metrics.bindFeedPaused(() => feedPaused);
  metrics.watchSymbols(market.instruments.map((instrument) => instrument.symbol), Date.now());
  const feed: Subscription = marketDataPipeline({
    // the replay is paced by the tree (the next step once it is idle), as in the backtest
    source$: (replay ? steppedReplay$(replay, { ready: () => runtime.whenIdle(), onStep: (atMs) => (replayTimeMs = atMs) }) : syntheticTicks$(synthetic!, { mode: 'realtime', speed: config.market.speed })).pipe(filter(() => !feedPaused)),
    instruments: market.instruments,
    onRejected: (rejection) => {
      stats.rejectedTicks += 1;
      metrics.ticksRejected.inc({ reason: rejection.reason });
      log.warn({ rejection }, 'malformed tick dropped');
    },
    onTicks: (symbol, ticks) => {
      lastTickWallMs = Date.now();
      metrics.noteTicks(symbol, lastTickWallMs);
      stats.ticks += ticks.length;
      metrics.ticks.inc({ source }, ticks.length);
      if (runtime.offerTicks(symbol, ticks)) metrics.ticksDelivered.inc({ source }, ticks.length);
      else metrics.ticksDropped.inc({ source }, ticks.length);
      recorder?.offerTicks(ticks);
    },
    onBars: (bars) => {
      runtime.offerBars(bars);
      recorder?.offerBars(bars);
    },
    barIntervals: ['1m', '5m'],
  });

  const persistenceState = () =>
    ({
      journal: journalHealthy ? 'ok' : 'down',
      redis:
        stores.snapshots instanceof TieredSnapshotStore
          ? stores.redisHealth?.status().state === 'degraded' || stores.snapshots.status().redis === 'degraded'
            ? 'degraded'
            : 'ok'
          : 'not configured',
    }) as const;
  metrics.bindPersistence({
    dependencies: () => {
      const state = persistenceState();
      return { journal: state.journal === 'ok', ...(state.redis === 'not configured' ? {} : { redis: state.redis === 'ok' }) };
    },
    leases: () => leaseGauges(leases, leaseNames),
    ingest: () => recorder?.stats(),
  });
  bindOperationalMetrics(metrics, config, stores, () => leaseGauges(leases, leaseNames));
  let generatedAdmin: { readonly username: string; readonly password: string } | undefined;
  // users, keys and the audit trail in the database; rate-limit counters in Redis when configured (shared by every gateway)
  const rateLimitRedis = config.redisUrl === undefined ? undefined : await connectRedis(config.redisUrl, { keyPrefix: config.persistence.redisKeyPrefix });
  const gateway = await buildGateway({
    authStore: new PostgresAuthStore(stores.database),
    auditStore: new PostgresAuditStore(stores.database),
    stateStore: gatewayState,
    secretBox: openSecretBox(config.gateway.secretKey, config.dataDir),
    ...(rateLimitRedis ? { rateLimitRedis } : {}),
    onGeneratedAdmin: (username, password) => (generatedAdmin = { username, password }),
    runtime,
    config: config.gateway,
    startedAtMs,
    allowFaultInjection: config.allowFaultInjection,
    logger: log,
    feedControl: { paused: () => feedPaused, setPaused: (paused) => (feedPaused = paused) },
    ...(tls ? { tls } : {}),
    feedState: () => ({
      connected: !feed.closed,
      lastTickAgeMs: lastTickWallMs === undefined ? undefined : Date.now() - lastTickWallMs,
    }),
    persistenceState: () => persistenceState(),
  });
  const port = await listenGateway(gateway, config.port, config.host);
  if (!(await announceHalts(gateway, log, `Troupe started (port ${port})`))) {
    log.info({ port, symbols: market.instruments.length, ...(replay ? { replay: config.market.replayDataDir } : {}) }, replay ? 'Troupe is trading (paper, replay of a data folder)' : 'Troupe is trading (paper, synthetic NSE market)');
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    runtime,
    stats,
    gateway,
    generatedAdmin,
    persistence: persistenceState,
    stop(reason) {
      stopping ??= (async () => {
        log.info({ reason }, 'stopping: intake closed, draining actors');
        // the API first, while the tree still runs: no order is accepted once the runtime drains,
        // and a request in flight (a manual order waiting for its journal entry) completes first
        await gateway.close();
        feed.unsubscribe();
        await runtime.stop(8_000);
        await notifier?.stop();
        await checkpointer.stop();
        await recorder?.stop();
        await leases?.release();
        rateLimitRedis?.disconnect();
        await stores.close();
        log.info('stopped cleanly');
      })();
      return stopping;
    },
  };
}

