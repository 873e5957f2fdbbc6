import { statfsSync } from 'node:fs';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import { isMarketOpenAt, type DomainEvent } from '../model/index.js';

/** A flattened view of one actor's health, as the metrics need it. */
export interface ActorHealthSample {
  readonly path: string;
  readonly kind: string;
  readonly mailboxDepth: number;
  readonly processed: number;
  readonly restarts: number;
  readonly failures: number;
  readonly running: boolean;
}

/** Portfolio figures for gauges, in rupees (display only). */
export interface PortfolioSample {
  readonly portfolioId: string;
  readonly equityRupees: number;
  readonly netPnlRupees: number;
  readonly grossExposureRupees: number;
}

/** Where the gateway's own gauges read from (bound by the gateway). */
export interface GatewayMetricsSources {
  wsClients(): number;
  activeApiKeys(): number;
  pausedStrategies(): number;
}

/** A market-data feed's counters (a `KiteFeed`'s stats fit), read at scrape time. */
export interface FeedMetricsSample {
  readonly ticks: number;
  readonly frames: number;
  readonly heartbeats: number;
  readonly reconnects: number;
  readonly stalls: number;
  readonly gaps: number;
  readonly gapMs: number;
  readonly badFrames: number;
  readonly orderUpdates: number;
  readonly connected: boolean;
  /** Wall time of the last frame (tick or heartbeat), epoch ms. */
  readonly lastFrameAtMs: number | undefined;
}

export interface MetricsSources {
  actors(): readonly ActorHealthSample[];
  deadLetters(): number;
  portfolios(): readonly PortfolioSample[];
}

/** Where the stores' gauges read from (bound by the app): dependencies, leases, tick ingest. */
export interface PersistenceMetricsSources {
  /** 1 up / 0 down per configured dependency (`journal`, `redis`). */
  dependencies(): Readonly<Record<string, boolean>>;
  /** Single-writer leases: held or not, with their fencing token. */
  leases(): readonly { readonly lease: string; readonly held: boolean; readonly token: number }[];
  /** Tick and bar ingest into the time series. */
  ingest(): IngestStats | undefined;
}

/** The time-series ingest's figures the metrics read (the recorder's stats have these and more). */
export interface IngestStats {
  readonly queueDepth: number;
  readonly shedTicks: number;
  readonly writtenTicks: number;
  readonly failedTicks: number;
  readonly shedBars: number;
  readonly writtenBars: number;
}

/**
 * Why order placement can be halted, each a `troupe_trading_halted{reason}` series:
 * `kill-switch` (risk: the day's loss reached the limit), `broker-session` (Kite refused the
 * session), `journal` (the order journal is unavailable: fail closed), `lease` (a single-writer
 * lease is not held, so journal writes are fenced off).
 */
export const HALT_REASONS = ['kill-switch', 'broker-session', 'journal', 'lease'] as const;
export type HaltReason = (typeof HALT_REASONS)[number];

/** The risk manager's figures, read at scrape time (bound by the risk actor). */
export interface RiskMetricsSample {
  readonly killSwitchEngaged: boolean;
  /** The day's loss that trips the kill switch, paise (positive). */
  readonly maxDailyLossPaise: number;
  /** Today's P&L per portfolio as risk computes it (realised + unrealised − charges since the day began), paise. */
  readonly portfolios: readonly { readonly portfolioId: string; readonly dayPnlPaise: number }[];
}

/** Dependencies whose request latency is measured (`troupe_dependency_latency_seconds{dependency}`). */
export type MeasuredDependency = 'journal' | 'redis';

/** How one metric the code updates directly is made: its name, help, labels and buckets, registered on `registers`. */
type MetricDefinition<M> = (registers: Registry[]) => M;

function counter(name: string, help: string): MetricDefinition<Counter>;
function counter<Label extends string>(name: string, help: string, labelNames: readonly Label[]): MetricDefinition<Counter<Label>>;
function counter(name: string, help: string, labelNames: readonly string[] = []): MetricDefinition<Counter> {
  return (registers) => new Counter({ name, help, labelNames, registers });
}

/**
 * A counter for the trading hot path: `inc` adds to a plain number kept per label value, and the
 * Prometheus counter mirrors those totals when the registry is read. prom-client's own `inc` hashes
 * and checks its labels and allocates on every call (a quarter of a microsecond); at tens of
 * thousands of orders and fills a second that was a few per cent of the trading thread. One label at
 * most (`status`), from a closed set.
 */
export class HotCounter<Label extends string = never> {
  /** Totals by label value ('' without a label). */
  private readonly totals = new Map<string, number>();

  constructor(
    registers: Registry[],
    name: string,
    help: string,
    private readonly label?: Label,
  ) {
    scrapedCounter(registers, name, help, label === undefined ? [] : [label], () =>
      [...this.totals].map(([value, total]) => {
        const labels: LabelValues<Label> = {};
        if (label !== undefined) labels[label] = value;
        return [labels, total] as const;
      }),
    );
  }

  /** Adds `value` (default 1) to the series of `labels` (or to the only series, without a label). */
  inc(this: HotCounter, value?: number): void;
  inc(labels: Readonly<Record<Label, string>>, value?: number): void;
  inc(first?: Readonly<Record<Label, string>> | number, second?: number): void {
    const key = typeof first === 'object' && this.label !== undefined ? first[this.label] : '';
    const value = typeof first === 'number' ? first : (second ?? 1);
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
  }
}

function hotCounter(name: string, help: string): MetricDefinition<HotCounter>;
function hotCounter<Label extends string>(name: string, help: string, label: Label): MetricDefinition<HotCounter<Label>>;
function hotCounter(name: string, help: string, label?: string): MetricDefinition<HotCounter<string>> {
  return (registers) => new HotCounter(registers, name, help, label);
}

/** One sample of a metric as prom-client's registry reads it (`get()`). */
interface SampleValue {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

/** What prom-client's registry reads of a metric it renders (`registry.js`: its name, `get`, `reset`). */
interface CollectableMetric {
  readonly name: string;
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: SampleValue[] }>;
  reset(): void;
}

// prom-client's typings list only its own metric classes for `registerMetric`; its registry takes any
// object with the members above (a metric of our own, here {@link HotHistogram})
declare module 'prom-client' {
  interface Registry {
    registerMetric(metric: CollectableMetric): void;
  }
}

/**
 * An unlabelled histogram for the trading hot path: `observe` finds the bucket and adds to plain
 * numbers. prom-client's own `observe` makes a closure and two objects, checks and hashes its
 * labels on every call; at one call per order and per fill that was a few per cent of the actor
 * tree's time in the runtime benchmark. The registry reads it in prom-client's histogram form
 * (cumulative `_bucket{le}` series, `+Inf`, `_sum`, `_count`), so the exposition is the same.
 */
export class HotHistogram implements CollectableMetric {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last counts those above every bound. */
  private readonly counts: number[];
  private sum = 0;

  constructor(
    registers: Registry[],
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
    this.counts = new Array<number>(this.bounds.length + 1).fill(0);
    for (const registry of registers) registry.registerMetric(this);
  }

  /** Counts `value` (seconds) in its bucket: the first whose bound is at least the value. */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite number: ${value}`);
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket += 1;
    this.counts[bucket]! += 1;
    this.sum += value;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: SampleValue[] }> {
    const bucketName = `${this.name}_bucket`;
    let cumulative = 0;
    const values: SampleValue[] = this.bounds.map((le, index) => {
      cumulative += this.counts[index]!;
      return { labels: { le }, value: cumulative, metricName: bucketName };
    });
    const count = cumulative + this.counts[this.bounds.length]!;
    values.push(
      { labels: { le: '+Inf' }, value: count, metricName: bucketName },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: count, metricName: `${this.name}_count` },
    );
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
  }
}

function hotHistogram(name: string, help: string, buckets: number[]): MetricDefinition<HotHistogram> {
  return (registers) => new HotHistogram(registers, name, help, buckets);
}

function gauge(name: string, help: string): MetricDefinition<Gauge> {
  return (registers) => new Gauge({ name, help, registers });
}

function histogram(name: string, help: string, buckets: number[]): MetricDefinition<Histogram>;
function histogram<Label extends string>(name: string, help: string, buckets: number[], labelNames: readonly Label[]): MetricDefinition<Histogram<Label>>;
function histogram(name: string, help: string, buckets: number[], labelNames: readonly string[] = []): MetricDefinition<Histogram> {
  return (registers) => new Histogram({ name, help, labelNames, buckets, registers });
}

/**
 * The metrics the code updates directly, each a typed field of {@link Metrics} under its key here
 * (`metrics.orders.inc({ status })`). The others are read from bound sources at scrape time.
 */
const UPDATED_METRICS = {
  // market data
  ticks: counter('troupe_ticks_total', 'Valid ticks taken in, by source', ['source']),
  ticksRejected: counter('troupe_ticks_rejected_total', 'Malformed ticks dropped, by reason', ['reason']),
  dataRejected: counter('troupe_data_rejected_total', 'Files and rows of a replayed data folder left out, by kind (file, row)', ['kind']),
  /** Ticks handed to symbol actors, by source. */
  ticksDelivered: counter('troupe_ticks_delivered_total', 'Ticks handed to symbol actors, by source', ['source']),
  /** Valid ticks not handed on (unknown symbol, runtime stopping), by source. */
  ticksDropped: counter('troupe_ticks_dropped_total', 'Valid ticks not handed on (unknown symbol or stopping), by source', ['source']),
  tickToOrderSeconds: hotHistogram(
    'troupe_tick_to_order_seconds',
    'From tick arrival to order at the broker adapter',
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
  ),

  // orders, fills and risk
  orders: hotCounter('troupe_orders_total', 'Order status changes, by status', 'status'),
  fills: hotCounter('troupe_fills_total', 'Executions received'),
  riskRejections: counter('troupe_risk_rejections_total', 'Intents refused by risk, by reason code', ['code']),
  /** Orders the broker placed to square off MIS positions at the cut-off (Zerodha's RMS). */
  autoSquareOffOrders: counter('troupe_auto_square_off_orders_total', 'Orders the broker placed to square off open MIS positions at the intraday cut-off'),
  /** Intents risk queued because only the orders-per-second limits refused them, by kind (`exit` or `entry`). */
  pacedIntents: counter('troupe_risk_paced_intents_total', 'Intents queued by risk for the orders-per-second limits, by kind (exit, entry)', ['kind']),
  /** Intents waiting in risk's pacing queue now. */
  pacedQueueDepth: gauge('troupe_risk_paced_queue_depth', "Intents waiting in risk's pacing queue"),
  /** Queued intents sent on once the windows allowed. */
  pacedReleased: counter('troupe_risk_paced_released_total', 'Queued intents sent on once the orders-per-second windows allowed'),
  /** Queued entries dropped as stale (each also a `pacing-expired` RiskAlert). */
  pacedExpired: counter('troupe_risk_paced_expired_total', 'Queued entries dropped as stale (a pacing-expired RiskAlert each)'),
  /** Broker order state updates taken in, by how they came (`postback` over the ticker, `poll` over REST). */
  brokerOrderUpdates: counter(
    'troupe_broker_order_updates_total',
    "Broker order updates taken in: postback (one per order update over the feed), poll (one per REST poll of the day's orders)",
    ['source'],
  ),
  /** Market-clock time from an order's creation to each of its fills. */
  orderTimeToFillSeconds: hotHistogram(
    'troupe_order_time_to_fill_seconds',
    "Market-clock time from an order's creation to each of its fills",
    [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
  ),
  /** Epoch seconds at which the Kite access token expires (06:00 IST after the login); 0 outside Kite mode. */
  kiteSessionExpiry: gauge('troupe_kite_session_expiry_timestamp_seconds', 'When the Kite access token expires (06:00 IST after the login), epoch seconds'),

  // domain events on the bus (counted by attachBus)
  riskAlerts: counter('troupe_risk_alerts_total', 'Risk alerts published, by severity and code', ['severity', 'code']),
  orderEvents: hotCounter('troupe_order_events_total', 'Order events on the bus, by event', 'event'),
  filledQuantity: hotCounter('troupe_filled_quantity_total', 'Shares filled, by side', 'side'),
  filledValueRupees: hotCounter('troupe_filled_value_rupees_total', 'Traded value of fills in rupees (display), by side', 'side'),
  chargesRupees: hotCounter('troupe_charges_rupees_total', 'Charges and brokerage paid in rupees (display)'),
  positionUpdates: hotCounter('troupe_position_updates_total', 'Position changes published'),

  // the API and the WebSocket
  httpRequestSeconds: histogram(
    'troupe_http_request_duration_seconds',
    'API request latency by method, route pattern and status',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    ['method', 'route', 'status'],
  ),
  httpRequests: counter('troupe_http_requests_total', 'API requests by method, route pattern and status', ['method', 'route', 'status']),
  rateLimited: counter('troupe_http_rate_limited_total', 'Requests refused with 429'),
  logins: counter('troupe_auth_logins_total', 'Login attempts by outcome', ['outcome']),
  auditEntries: counter('troupe_audit_entries_total', 'Audit log entries by action', ['action']),
  wsMessagesSent: counter('troupe_ws_messages_sent_total', 'WebSocket messages sent, by topic family', ['topic']),
  wsMessagesReceived: counter('troupe_ws_messages_received_total', 'WebSocket messages received from clients'),
  wsDisconnects: counter('troupe_ws_disconnects_total', 'WebSocket connections closed, by reason', ['reason']),
  wsConflated: counter('troupe_ws_conflated_total', 'Events replaced by a newer one for a slow WebSocket client'),
  wsReplayed: counter('troupe_ws_replayed_total', 'Events replayed to resuming WebSocket clients'),
  /** WebSocket control messages refused by a connection's rate limit (token bucket). */
  wsRateLimited: counter('troupe_ws_rate_limited_total', 'WebSocket client messages refused by the connection rate limit'),

  // stores
  /** Latency of requests to a store: journal appends (PostgreSQL/PGlite), Redis health PINGs. */
  dependencyLatencySeconds: histogram(
    'troupe_dependency_latency_seconds',
    'Latency of store requests: journal appends (PostgreSQL/PGlite), Redis health PINGs',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ['dependency'],
  ),
  /** Journal appends that failed (each one keeps new orders refused until an append succeeds). */
  journalAppendFailures: counter('troupe_journal_append_failures_total', 'Order journal appends that failed (new orders are refused until one succeeds)'),
};

/** The metrics made from `definitions`, by the same keys. */
type MadeMetrics<Definitions> = { readonly [Field in keyof Definitions]: Definitions[Field] extends MetricDefinition<infer M> ? M : never };

/** A base class with one field per definition: the metric made on the registers its constructor is given, in the table's order. */
function metricFields<Definitions extends Record<string, MetricDefinition<unknown>>>(
  definitions: Definitions,
): new (registers: Registry[]) => MadeMetrics<Definitions> {
  return class {
    constructor(registers: Registry[]) {
      // own writable fields, as declared class fields are
      Object.assign(this, Object.fromEntries(Object.entries(definitions).map(([field, make]) => [field, make(registers)])));
    }
  } as new (registers: Registry[]) => MadeMetrics<Definitions>;
}

/**
 * Troupe's Prometheus metrics. Labels are bounded: symbols, actor paths, reasons and
 * statuses come from closed sets; never an order id.
 */
export class Metrics extends metricFields(UPDATED_METRICS) {
  readonly registry: Registry;
  private sources: MetricsSources | undefined;
  private gatewaySources: GatewayMetricsSources | undefined;
  private persistenceSources: PersistenceMetricsSources | undefined;
  private readonly feedSources = new Map<string, () => FeedMetricsSample>();
  /** Wall time (epoch ms) of each symbol's last tick, or of the feed's start before its first. */
  private readonly lastTickWallMs = new Map<string, number>();
  /** Whether an operator paused the feed (`troupe_feed_paused`), when the feed can be paused. */
  private feedPausedSource: (() => boolean) | undefined;
  private readonly haltSources = new Map<HaltReason, () => boolean>();
  private riskSource: (() => RiskMetricsSample) | undefined;
  private marketClock: (() => number) | undefined;
  private dataDir: string | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registry = new Registry();
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'troupe_process_' });
    const registers = [registry];
    super(registers);
    this.registry = registry;
    this.registerRuntimeGauges(registers);
    this.registerGatewayGauges(registers);
    this.registerStoreGauges(registers);
    this.registerFeedMetrics(registers);
    this.registerIngestMetrics(registers);
    this.registerRiskGauges(registers);
    registerHostMetrics(registers, () => this.dataDir);
  }

  /** Actors (`troupe_actor_*{actor,kind}`), dead letters and portfolios, read from {@link bind}'s sources at scrape time. */
  private registerRuntimeGauges(registers: Registry[]): void {
    const actorGauge = (name: string, help: string, pick: (actor: ActorHealthSample) => number): void => {
      scrapedGauge(registers, name, help, ['actor', 'kind'], () =>
        (this.sources?.actors() ?? []).map((actor) => [{ actor: actor.path, kind: actor.kind }, pick(actor)] as const),
      );
    };
    actorGauge('troupe_actor_mailbox_depth', 'Messages and batched items waiting per actor', (actor) => actor.mailboxDepth);
    actorGauge('troupe_actor_restarts', 'Restarts per actor since the process started', (actor) => actor.restarts);
    actorGauge('troupe_actor_processed', 'Messages processed per actor', (actor) => actor.processed);
    actorGauge('troupe_actor_failures', 'Failures (thrown errors) per actor', (actor) => actor.failures);
    actorGauge('troupe_actor_up', '1 when the actor is running', (actor) => (actor.running ? 1 : 0));
    readGauge(registers, 'troupe_dead_letters', 'Messages sent to actors that were not there', () => this.sources?.deadLetters() ?? 0);
    const portfolioGauge = (name: string, help: string, pick: (portfolio: PortfolioSample) => number): void => {
      scrapedGauge(registers, name, help, ['portfolio'], () =>
        (this.sources?.portfolios() ?? []).map((portfolio) => [{ portfolio: portfolio.portfolioId }, pick(portfolio)] as const),
      );
    };
    portfolioGauge('troupe_portfolio_equity_rupees', 'Cash plus market value', (p) => p.equityRupees);
    portfolioGauge('troupe_portfolio_pnl_rupees', 'Realised + unrealised − charges', (p) => p.netPnlRupees);
    portfolioGauge('troupe_portfolio_gross_exposure_rupees', 'Σ |market value| of open positions', (p) => p.grossExposureRupees);
  }

  /** The gateway's gauges (WebSocket clients, API keys, paused strategies), 0 until {@link bindGateway}. */
  private registerGatewayGauges(registers: Registry[]): void {
    const gatewayGauge = (name: string, help: string, pick: (sources: GatewayMetricsSources) => number): void => {
      readGauge(registers, name, help, () => (this.gatewaySources ? pick(this.gatewaySources) : 0));
    };
    gatewayGauge('troupe_ws_clients', 'Connected WebSocket clients', (sources) => sources.wsClients());
    gatewayGauge('troupe_api_keys_active', 'API keys not revoked', (sources) => sources.activeApiKeys());
    gatewayGauge('troupe_strategies_paused', 'Strategies paused through the API', (sources) => sources.pausedStrategies());
  }

  /** Stores: dependencies up or down, and the single-writer leases ({@link bindPersistence}). */
  private registerStoreGauges(registers: Registry[]): void {
    scrapedGauge(
      registers,
      'troupe_dependency_up',
      '1 when a configured store is reachable (journal = PostgreSQL/PGlite, redis = hot tier), 0 when degraded',
      ['dependency'],
      () => Object.entries(this.persistenceSources?.dependencies() ?? {}).map(([dependency, ok]) => [{ dependency }, ok ? 1 : 0] as const),
    );
    const leaseGauge = (name: string, help: string, pick: (lease: { held: boolean; token: number }) => number): void => {
      scrapedGauge(registers, name, help, ['lease'], () =>
        (this.persistenceSources?.leases() ?? []).map((lease) => [{ lease: lease.lease }, pick(lease)] as const),
      );
    };
    leaseGauge('troupe_lease_held', '1 while this process holds the single-writer lease', (lease) => (lease.held ? 1 : 0));
    leaseGauge('troupe_lease_fencing_token', 'Fencing token of the single-writer lease this process holds', (lease) => lease.token);
  }

  /** Market-data feeds (label `feed`: one value per feed kind, e.g. kite), each symbol's last tick, and the operator's pause. */
  private registerFeedMetrics(registers: Registry[]): void {
    const feedCounter = (name: string, help: string, pick: (sample: FeedMetricsSample) => number): void => {
      scrapedCounter(registers, name, help, ['feed'], () => [...this.feedSources].map(([feed, sample]) => [{ feed }, pick(sample())] as const));
    };
    feedCounter('troupe_feed_ticks_total', 'Ticks received from the feed socket (before validation)', (s) => s.ticks);
    feedCounter('troupe_feed_frames_total', 'Frames received from the feed socket, heartbeats included', (s) => s.frames);
    feedCounter('troupe_feed_heartbeats_total', 'Heartbeat frames received', (s) => s.heartbeats);
    feedCounter('troupe_feed_reconnects_total', 'Reconnection attempts of the feed', (s) => s.reconnects);
    feedCounter('troupe_feed_stalls_total', 'Times the feed went silent on an open socket (watchdog)', (s) => s.stalls);
    feedCounter('troupe_feed_gaps_total', 'Outages after which data may be missing (reconnected after a drop or stall)', (s) => s.gaps);
    feedCounter('troupe_feed_gap_seconds_total', 'Total length of the feed outages', (s) => s.gapMs / 1000);
    feedCounter('troupe_feed_bad_frames_total', 'Malformed frames dropped', (s) => s.badFrames);
    feedCounter('troupe_feed_order_postbacks_total', 'Order postbacks received over the feed', (s) => s.orderUpdates);
    const feedGauge = (name: string, help: string, pick: (sample: FeedMetricsSample, nowMs: number) => number): void => {
      scrapedGauge(registers, name, help, ['feed'], () => {
        const now = Date.now();
        return [...this.feedSources].map(([feed, sample]) => [{ feed }, pick(sample(), now)] as const);
      });
    };
    feedGauge('troupe_feed_connected', '1 while the feed socket is open', (s) => (s.connected ? 1 : 0));
    feedGauge('troupe_feed_heartbeat_age_seconds', 'Seconds since the last frame (tick or heartbeat); -1 before the first', (s, now) =>
      s.lastFrameAtMs === undefined ? -1 : (now - s.lastFrameAtMs) / 1000,
    );
    scrapedGauge(
      registers,
      'troupe_symbol_last_tick_timestamp_seconds',
      'Wall time (Unix seconds) the last valid tick of the symbol arrived, or the feed started when none has yet',
      ['symbol'],
      () => [...this.lastTickWallMs].map(([symbol, atMs]) => [{ symbol }, atMs / 1000] as const),
    );
    readGauge(registers, 'troupe_feed_paused', '1 while an operator has paused the market-data feed through the API (PUT /api/v1/market/feed)', () =>
      this.feedPausedSource?.() === true ? 1 : 0,
    );
  }

  /** Tick and bar ingest into the time series ({@link bindPersistence}). */
  private registerIngestMetrics(registers: Registry[]): void {
    readGauge(
      registers,
      'troupe_ingest_queue_depth',
      'Ticks and bars waiting to be written to the time series',
      () => this.persistenceSources?.ingest()?.queueDepth ?? 0,
    );
    const ingestCounter = (name: string, help: string, pick: (stats: IngestStats) => number): void => {
      scrapedCounter(registers, name, help, [], () => {
        const stats = this.persistenceSources?.ingest();
        return stats ? [[{}, pick(stats)] as const] : [];
      });
    };
    ingestCounter('troupe_ingest_ticks_shed_total', 'Ticks not stored because the ingest buffer was full (never orders or fills)', (stats) => stats.shedTicks);
    ingestCounter('troupe_ingest_ticks_written_total', 'Ticks committed to the time series', (stats) => stats.writtenTicks);
    ingestCounter('troupe_ingest_ticks_failed_total', 'Ticks lost in failed ingest batches', (stats) => stats.failedTicks);
    ingestCounter('troupe_ingest_bars_shed_total', 'Bars not stored because the bar buffer was full', (stats) => stats.shedBars);
    ingestCounter('troupe_ingest_bars_written_total', 'Bars committed to the time series', (stats) => stats.writtenBars);
  }

  /** Halts, the kill switch and the day's loss ({@link bindHalt}, {@link bindRisk}), and whether the market is open. */
  private registerRiskGauges(registers: Registry[]): void {
    scrapedGauge(
      registers,
      'troupe_trading_halted',
      'Order placement halted, by reason (kill-switch, broker-session, journal, lease): 1 halted, 0 not; absent when the reason does not apply',
      ['reason'],
      () => {
        const risk = this.riskSource?.();
        const series = risk ? [[{ reason: 'kill-switch' }, risk.killSwitchEngaged ? 1 : 0] as const] : [];
        return [...series, ...[...this.haltSources].map(([reason, isHalted]) => [{ reason }, isHalted() ? 1 : 0] as const)];
      },
    );
    readGauge(registers, 'troupe_risk_kill_switch_engaged', '1 while the kill switch is tripped (every intent refused until an operator resets it)', () =>
      this.riskSource?.().killSwitchEngaged === true ? 1 : 0,
    );
    readGauge(registers, 'troupe_risk_daily_loss_limit_rupees', "The day's loss that trips the kill switch, rupees", () => {
      const risk = this.riskSource?.();
      return risk ? risk.maxDailyLossPaise / 100 : undefined;
    });
    const riskPortfolioGauge = (name: string, help: string, pick: (dayPnlPaise: number, maxDailyLossPaise: number) => number): void => {
      scrapedGauge(registers, name, help, ['portfolio'], () => {
        const risk = this.riskSource?.();
        return (risk?.portfolios ?? []).map(
          (portfolio) => [{ portfolio: portfolio.portfolioId }, pick(portfolio.dayPnlPaise, risk!.maxDailyLossPaise)] as const,
        );
      });
    };
    riskPortfolioGauge(
      'troupe_risk_day_pnl_rupees',
      "Today's P&L per portfolio as risk computes it (realised + unrealised − charges since the day began), rupees",
      (pnl) => pnl / 100,
    );
    riskPortfolioGauge(
      'troupe_risk_daily_loss_used_ratio',
      "Today's loss as a share of the daily loss limit (0 when in profit; 1 trips the kill switch)",
      (pnl, limit) => (limit > 0 ? Math.max(0, -pnl) / limit : 0),
    );
    readGauge(
      registers,
      'troupe_market_open',
      '1 while an NSE session is open on the market clock (holidays, weekends and special sessions from the calendar)',
      () => (this.marketClock ? (isMarketOpenAt(this.marketClock()) ? 1 : 0) : undefined),
    );
  }

  /** Connects a halt condition (`troupe_trading_halted{reason}`); the kill switch comes from {@link bindRisk}. Returns the unbind function. */
  bindHalt(reason: Exclude<HaltReason, 'kill-switch'>, isHalted: () => boolean): () => void {
    this.haltSources.set(reason, isHalted);
    return () => {
      if (this.haltSources.get(reason) === isHalted) this.haltSources.delete(reason);
    };
  }

  /** Connects the risk manager's gauges (kill switch, the day's P&L and loss limit); the risk actor binds itself. */
  bindRisk(sample: () => RiskMetricsSample): void {
    this.riskSource = sample;
  }

  /** Connects the market clock (`troupe_market_open`, judged by the NSE calendar). */
  bindMarketClock(nowMs: () => number): void {
    this.marketClock = nowMs;
  }

  /** Connects the data directory (`troupe_data_dir_*` bytes of its file system). */
  bindDataDir(dir: string): void {
    this.dataDir = dir;
  }

  /** Connects the stores' gauges (dependencies, leases, ingest). */
  bindPersistence(sources: PersistenceMetricsSources): void {
    this.persistenceSources = sources;
  }

  /** Connects a market-data feed's counters (`troupe_feed_*{feed}`); `feed` is a kind such as `kite`, not an instance. Returns the unbind function. */
  bindFeed(feed: string, sample: () => FeedMetricsSample): () => void {
    this.feedSources.set(feed, sample);
    return () => {
      if (this.feedSources.get(feed) === sample) this.feedSources.delete(feed);
    };
  }

  /** Connects `troupe_feed_paused` (feeds an operator can pause). */
  bindFeedPaused(paused: () => boolean): void {
    this.feedPausedSource = paused;
  }

  /**
   * Starts `troupe_symbol_last_tick_timestamp_seconds` for these symbols at `wallMs` (the feed's
   * start), so a symbol that never ticks ages from then instead of being absent.
   */
  watchSymbols(symbols: readonly string[], wallMs: number): void {
    for (const symbol of symbols) if (!this.lastTickWallMs.has(symbol)) this.lastTickWallMs.set(symbol, wallMs);
  }

  /** Records that valid ticks of `symbol` arrived at `wallMs` (the feed's tick path calls it per batch). */
  noteTicks(symbol: string, wallMs: number): void {
    this.lastTickWallMs.set(symbol, wallMs);
  }

  /** Connects the gateway's gauges (WebSocket clients, API keys…). */
  bindGateway(sources: GatewayMetricsSources): void {
    this.gatewaySources = sources;
  }

  /**
   * Counts domain events (orders, fills, risk alerts, positions) from the event bus.
   * Returns the unsubscribe function.
   */
  attachBus(bus: { onAny(listener: (event: DomainEvent) => void): () => void }): () => void {
    return bus.onAny((event) => {
      switch (event.type) {
        case 'OrderSubmitted':
        case 'OrderUpdated':
          this.orderEvents.inc({ event: event.type });
          break;
        case 'OrderFilled':
          this.orderEvents.inc({ event: event.type });
          this.filledQuantity.inc({ side: event.fill.side }, event.fill.quantity);
          this.filledValueRupees.inc({ side: event.fill.side }, (event.fill.quantity * event.fill.pricePaise) / 100);
          this.chargesRupees.inc(event.fill.chargesPaise / 100);
          break;
        case 'RiskAlert':
          this.riskAlerts.inc({ severity: event.severity, code: event.code });
          break;
        case 'PositionChanged':
          this.positionUpdates.inc();
          break;
        case 'MarketDataUpdate':
        case 'BarClosed':
        case 'ActorRestarted':
        case 'RegimeChanged':
        case 'SignalAggregated':
        case 'PredictionMade':
        case 'AutoSquareOff':
          break;
      }
    });
  }

  /** Connects the gauges that read the runtime on each scrape. */
  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Prometheus text exposition. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** An unlabelled gauge read at scrape time; where `read` gives undefined (its source is not bound) it is reset (prom-client: to 0). */
function readGauge(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  const gauge: Gauge = new Gauge({
    name,
    help,
    registers,
    collect: () => {
      const value = read();
      if (value === undefined) gauge.reset();
      else gauge.set(value);
    },
  });
}

/** One series of a metric read at scrape time: its labels and its value. */
type Series<Label extends string> = readonly [labels: LabelValues<Label>, value: number];

/** A gauge read at scrape time: its old series are dropped, then each series `read` gives is set. */
function scrapedGauge<Label extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly Label[],
  read: () => readonly Series<Label>[],
): void {
  const gauge: Gauge<Label> = new Gauge({
    name,
    help,
    labelNames,
    registers,
    collect: () => {
      gauge.reset();
      for (const [labels, value] of read()) gauge.set(labels, value);
    },
  });
}

/** A counter that mirrors counts kept elsewhere, read at scrape time: reset, then each series `read` gives is added. */
function scrapedCounter<Label extends string>(
  registers: Registry[],
  name: string,
  help: string,
  labelNames: readonly Label[],
  read: () => readonly Series<Label>[],
): void {
  const counter: Counter<Label> = new Counter({
    name,
    help,
    labelNames,
    registers,
    collect: () => {
      counter.reset();
      for (const [labels, value] of read()) counter.inc(labels, value);
    },
  });
}

/** The host, read at scrape time: CPU by mode, memory, load, and the file system of the data directory (`dataDir()`, once bound). */
function registerHostMetrics(registers: Registry[], dataDir: () => string | undefined): void {
  scrapedCounter(
    registers,
    'troupe_host_cpu_seconds_total',
    'CPU time of the host summed over its CPUs, by mode (user, nice, system, idle, irq)',
    ['mode'],
    () => {
      const total = { user: 0, nice: 0, system: 0, idle: 0, irq: 0 };
      for (const cpu of cpus()) {
        total.user += cpu.times.user;
        total.nice += cpu.times.nice;
        total.system += cpu.times.sys;
        total.idle += cpu.times.idle;
        total.irq += cpu.times.irq;
      }
      return Object.entries(total).map(([mode, ms]) => [{ mode }, ms / 1000] as const);
    },
  );
  const hostGauge = (name: string, help: string, read: () => number): void => readGauge(registers, name, help, read);
  hostGauge('troupe_host_cpus', 'CPUs of the host', () => cpus().length);
  hostGauge('troupe_host_load1', 'One-minute load average of the host', () => loadavg()[0] ?? 0);
  hostGauge('troupe_host_memory_bytes', 'Memory of the host', () => totalmem());
  hostGauge('troupe_host_memory_available_bytes', 'Memory of the host available to new work (MemAvailable on Linux)', () => freemem());
  const dataDirGauge = (name: string, help: string, pick: (stats: { bavail: number; blocks: number; bsize: number }) => number): void => {
    // labelled (`path`: the one data directory) so that an unbound registry exposes no sample rather than a 0
    scrapedGauge(registers, name, help, ['path'], () => {
      const path = dataDir();
      if (path === undefined) return [];
      try {
        return [[{ path }, pick(statfsSync(path))] as const];
      } catch {
        return []; // the directory is gone or unreadable: no sample (an absent series alerts too)
      }
    });
  };
  dataDirGauge('troupe_data_dir_available_bytes', "Free space of the data directory's file system available to Troupe", (stats) => stats.bavail * stats.bsize);
  dataDirGauge('troupe_data_dir_size_bytes', "Size of the data directory's file system", (stats) => stats.blocks * stats.bsize);
}
