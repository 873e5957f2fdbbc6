import {
  createActorSystem,
  InMemorySnapshotStore,
  type ActorContext,
  type ActorHealth,
  type ActorRef,
  type ActorSystem,
  type Behavior,
  type Inlet,
  type Snapshot,
  type SnapshotStore,
  type SpawnOptions,
} from '../actors/core/index.js';
import { executionBehavior, wrapExecutionTicks, type ExecutionActorDeps } from '../actors/execution/execution.actor.js';
import type { ExecutionInput } from '../actors/execution/execution.protocol.js';
import type { BrokerPort } from '../actors/execution/broker-port.js';
import { kiteBrokerAdapter, type KiteOrderApi } from '../brokers/kite/kite-adapter.js';
import { paperBrokerAdapter } from '../brokers/paper/paper-adapter.js';
import { ACTOR_PATHS } from '../actors/paths.js';
import { portfolioBehavior, wrapMarks } from '../actors/portfolio/portfolio.actor.js';
import type { PortfolioCommand, PortfolioView } from '../actors/portfolio/portfolio.protocol.js';
import { riskManagerBehavior } from '../actors/risk/risk-manager.actor.js';
import { wrapRiskMarks, type RiskManagerCommand } from '../actors/risk/risk-manager.protocol.js';
import { aggregatorBehavior } from '../actors/aggregator/aggregator.actor.js';
import { wrapAggregatorBars, type AggregatorCommand } from '../actors/aggregator/aggregator.protocol.js';
import { mlBehavior, type MlActorDeps } from '../actors/ml/ml.actor.js';
import { wrapMlBars, type MlCommand, type MlStatus } from '../actors/ml/ml.protocol.js';
import type { ModelSource } from '../ml/model-source.js';
import { regimeBehavior } from '../actors/regime/regime.actor.js';
import { wrapRegimeBars, type RegimeCommand } from '../actors/regime/regime.protocol.js';
import { strategyBehavior, wrapBars, wrapTicks, type StrategyInstance } from '../actors/strategy/strategy.actor.js';
import type { StrategyCommand, StrategyHostState, StrategyStatus } from '../actors/strategy/strategy.protocol.js';
import { symbolBehavior, wrapSymbolTicks } from '../actors/symbol/symbol.actor.js';
import type { SymbolCommand } from '../actors/symbol/symbol.protocol.js';
import type { PaperBrokerConfig } from '../brokers/paper/index.js';
import type { Journal } from '../actors/journal.js';
import {
  summarisePortfolio,
  type Bar,
  type BarInterval,
  type Instrument,
  type Paise,
  type PortfolioState,
  type Prediction,
  type Regime,
  type RegimeChanged,
  type Tick,
} from '../model/index.js';
import type { Aggregation, AggregatorConfig } from '../signals/index.js';
import { DEFAULT_RISK_MANAGER_LIMITS, type RiskManagerLimits } from '../risk/risk-manager.js';
import { strategyByKind } from '../strategies/index.js';
import { SymbolGrouper } from '../streams/operators/route-by-symbol.js';
import { Directory } from '../actors/directory.js';
import { LocalRuntimeFacade, type RuntimeDescription, type RuntimeFacade, type StrategySpec } from './facade.js';
import { EventBus } from '../observability/event-bus.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { MarketCache } from '../actors/market-cache.js';
import { Metrics, type ActorHealthSample } from '../observability/metrics.js';

export type { StrategySpec } from './facade.js';

export interface RuntimeOptions {
  readonly instruments: readonly Instrument[];
  readonly strategies: readonly StrategySpec[];
  readonly portfolio: { readonly portfolioId: string; readonly initialCashPaise: Paise };
  readonly clock: { nowMs(): number };
  readonly broker?: Partial<PaperBrokerConfig>;
  readonly riskLimits?: Partial<RiskManagerLimits>;
  /**
   * The intraday (MIS) cut-off, minutes after IST midnight (default 15:20, `TROUPE_SQUARE_OFF_TIME`):
   * risk refuses MIS intents from then to the day's end, and the paper broker squares off open MIS
   * positions (overrides `broker.squareOffMinute`).
   */
  readonly squareOffMinute?: number;
  /** Bar interval the regime detector classifies (default 5m). */
  readonly regimeInterval?: BarInterval;
  /** The signal aggregator's vote (weights per strategy id, threshold, expiry, decay); defaults in `src/signals`. */
  readonly aggregator?: Partial<AggregatorConfig>;
  readonly snapshotStore?: SnapshotStore;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** Snapshot every N messages in every actor (tests use 1); default: each actor's own cadence. */
  readonly snapshotEveryMessages?: number;
  /** Tick-to-order latency of each order, in microseconds (benchmarks). */
  readonly onOrderLatencyUs?: (latencyUs: number) => void;
  /** Largest number of tick batches a strategy or the broker may have waiting before the oldest is shed. */
  readonly maxPendingBatches?: number;
  /** Trade through Kite: `/execution/kite` replaces the paper broker; orders are polled every `pollEveryMs` (default 5000) as a fallback to postbacks. */
  readonly kite?: { readonly broker: KiteOrderApi; readonly pollEveryMs?: number };
  /** Journal before acting (paper or Kite execution): orders, order changes and fills are durable before they are acted on. Backtests and benchmarks run without. */
  readonly journal?: Journal;
  /** Told when the journal goes down (false) or comes back (true). */
  readonly onJournalHealth?: (healthy: boolean) => void;
  /** An ML actor (`/ml/<kind>`) predicting from closed bars with this model source; absent: no ML (see also {@link Runtime.startMl}). */
  readonly ml?: RuntimeMlOptions;
}

/** The ML actor's source and observer (metrics). */
export interface RuntimeMlOptions {
  readonly source: ModelSource;
  readonly observe?: MlActorDeps['observe'];
}

/** Groups under the root, in start order: sinks first, sources last. */
const SUPERVISION = { strategy: 'restart', maxRestarts: 10, withinMs: 60_000, backoff: { minMs: 10, maxMs: 2_000, factor: 2 } } as const;

/**
 * The running tree and what surrounds it: the directory of refs, the market cache, the
 * event bus and metrics. Built once per process (or per backtest).
 */
export class Runtime {
  readonly system: ActorSystem;
  readonly directory = new Directory();
  readonly cache = new MarketCache();
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly instruments: ReadonlyMap<string, Instrument>;
  private readonly portfolioStates = new Map<string, PortfolioState>();
  /** Per portfolio: goes up on every change of its state (see `portfolioVersion`). */
  private readonly portfolioVersions = new Map<string, number>();
  private readonly strategyInstances: StrategyInstance[];
  private stopped = false;
  private riskManagerRef: ActorRef<RiskManagerCommand> | undefined;
  private readonly initialSnapshots = new Map<string, Snapshot>();
  private kitePoll: ReturnType<typeof setInterval> | undefined;
  /** Strategies added or changed at run time: the `/strategies` group's context, specs as given, inlets wired. */
  private strategiesCtx: ActorContext<never> | undefined;
  private readonly strategySpecs = new Map<string, StrategySpec>();
  /** The execution actor, when running in Kite mode (postbacks and polls go here). */
  kiteExecution: ActorRef<ExecutionInput> | undefined;
  /** The regime detector (`/regime`). */
  regime: ActorRef<RegimeCommand> | undefined;
  /** The signal aggregator (`/aggregator`). */
  aggregator: ActorRef<AggregatorCommand> | undefined;
  /** The latest regime per symbol (and `MARKET`), to brief strategies spawned later. */
  private readonly regimes: Record<string, Regime> = {};
  /** False while the execution actor finds the journal down (orders refused: fail closed). */
  private journalHealthy = true;
  /** Records the journal's health for `troupe_trading_halted{reason="journal"}`, then tells the owner. */
  private readonly onJournalHealth = (healthy: boolean): void => {
    this.journalHealthy = healthy;
    this.options.onJournalHealth?.(healthy);
  };
  /** The ML actor (`/ml/<kind>`), when ML runs. */
  ml: ActorRef<MlCommand> | undefined;
  /** Model loads and ONNX runs on their way back to the ML actor (counted as pending work). */
  private mlInFlight = 0;
  /** Strategy ids subscribed to each symbol's predictions (`predictions` subscriptions). */
  /** Groups closed bars per symbol (one `BarsClosed` per symbol actor and batch). */
  private readonly barGrouper = new SymbolGrouper<Bar>();
  /** What does not change while it runs (the gateway's view of it). */
  readonly description: RuntimeDescription;
  private localFacade: RuntimeFacade | undefined;

  constructor(private readonly options: RuntimeOptions) {
    this.log = options.logger ?? silentLogger();
    this.metrics = options.metrics ?? new Metrics({ defaultMetrics: false });
    this.bus = new EventBus((error, event) => this.log.error({ err: error, event: event.type }, 'event listener failed'));
    this.instruments = new Map(options.instruments.map((instrument) => [instrument.symbol, instrument]));
    this.strategyInstances = options.strategies.map((spec) => this.instantiate(spec));
    this.description = {
      instruments: options.instruments,
      portfolioIds: [options.portfolio.portfolioId],
      riskLimits: { ...DEFAULT_RISK_MANAGER_LIMITS, ...options.riskLimits },
    };
    // strategies learn regimes from the detector's events (they gate new entries on them)
    this.bus.on('RegimeChanged', (event) => this.tellRegime(event));
    this.system = createActorSystem({
      name: 'troupe',
      snapshotStore: options.snapshotStore ?? new InMemorySnapshotStore(),
      logger: this.log,
      // snapshot cadence is about durability, so it runs on wall time even in a backtest
      clock: { nowMs: () => Date.now() },
    });
    // what alerting needs beyond the tree: the calendar on the market clock, the journal's fail-closed state
    this.metrics.bindMarketClock(() => options.clock.nowMs());
    if (options.journal) this.metrics.bindHalt('journal', () => !this.journalHealthy);
    this.metrics.bind({
      actors: () => flattenHealth(this.system.health()),
      deadLetters: () => this.system.deadLetters,
      portfolios: () =>
        [...this.portfolioStates.values()].map((state) => {
          const summary = summarisePortfolio(state);
          return {
            portfolioId: state.portfolioId,
            equityRupees: summary.equityPaise / 100,
            netPnlRupees: summary.netPnlPaise / 100,
            grossExposureRupees: summary.grossExposurePaise / 100,
          };
        }),
    });
  }

  private instantiate(spec: StrategySpec): StrategyInstance {
    const definition = strategyByKind(spec.kind);
    const raw = (spec.config ?? {}) as Record<string, unknown>;
    const withSymbols = raw.symbols === undefined ? { ...raw, symbols: this.options.instruments.map((i) => i.symbol) } : raw;
    const config: unknown = definition.parseConfig(withSymbols);
    this.strategySpecs.set(spec.strategyId, spec);
    return {
      strategyId: spec.strategyId,
      portfolioId: spec.portfolioId ?? this.options.portfolio.portfolioId,
      definition,
      config,
      ...(spec.regimes === undefined ? {} : { regimes: spec.regimes }),
    };
  }

  /** The MIS cut-off for risk: the runtime's, else the paper broker's, else risk's default. */
  private squareOffOption(): { readonly squareOffMinute?: number } {
    const minute = this.options.squareOffMinute ?? this.options.broker?.squareOffMinute;
    return minute === undefined ? {} : { squareOffMinute: minute };
  }

  /** Tells every strategy a regime change (in the regime actor's turn, so in bar order). */
  private tellRegime(event: RegimeChanged): void {
    this.regimes[event.symbol] = event.to;
    for (const ref of this.directory.strategies.values()) this.system.tell(ref, { type: 'RegimesChanged', regimes: { [event.symbol]: event.to } });
  }

  /** Hands a vote of the aggregator to the strategies trading on that symbol's aggregate. */
  private deliverAggregation(aggregation: Aggregation): void {
    const subscribers = this.directory.aggregateSubscribers.get(aggregation.symbol);
    if (!subscribers) return;
    const { symbol, decision, score, confidence, atMs, contributions, summary } = aggregation;
    for (const strategyId of new Set(subscribers)) {
      const ref = this.directory.strategies.get(strategyId);
      if (ref) this.system.tell(ref, { type: 'SignalsAggregated', decisions: [{ symbol, decision, score, confidence, atMs, contributions, summary }] });
    }
  }

  /** The limits the risk manager runs with: `RuntimeOptions.riskLimits` over the defaults. */
  get riskLimits(): RiskManagerLimits {
    return { ...DEFAULT_RISK_MANAGER_LIMITS, ...this.options.riskLimits };
  }

  /** Publishes predictions (`PredictionMade`) and hands them to the strategies subscribed to their symbols, one message per strategy and run. */
  private deliverPredictions(predictions: readonly Prediction[]): void {
    const perStrategy = new Map<string, Prediction[]>();
    for (const prediction of predictions) {
      this.bus.publish({ type: 'PredictionMade', prediction });
      for (const strategyId of this.directory.predictionSubscribers.get(prediction.symbol) ?? []) {
        const list = perStrategy.get(strategyId) ?? [];
        list.push(prediction);
        perStrategy.set(strategyId, list);
      }
    }
    for (const [strategyId, list] of perStrategy) {
      const ref = this.directory.strategies.get(strategyId);
      if (ref) this.system.tell(ref, { type: 'PredictionsMade', predictions: list });
    }
  }

  /**
   * Starts the ML actor (`/ml/<kind>`) fed with every closed bar: at `start()` when the options
   * name a model source, or later (a model was promoted while running). Once per runtime.
   */
  startMl(options: RuntimeMlOptions): ActorRef<MlCommand> {
    if (this.ml) return this.ml;
    const { system, directory } = this;
    const kind = options.source.kind;
    const track = <T>(work: Promise<T>): Promise<T> => {
      this.mlInFlight += 1;
      return work.finally(() => {
        this.mlInFlight -= 1;
      });
    };
    const behavior = mlBehavior({
      source: options.source,
      publish: (predictions) => this.deliverPredictions(predictions),
      track,
      log: this.log,
      ...(options.observe ? { observe: options.observe } : {}),
    });
    let ref: ActorRef<MlCommand> | undefined;
    this.group('ml', (ctx) => {
      ref = ctx.spawn(kind, behavior, { supervision: SUPERVISION });
      const inlet = system.inlet(ref, wrapMlBars, { maxPending: 100_000, overflow: { kind: 'drop-oldest' } });
      directory.barSubscribers.release('/ml');
      for (const instrument of this.options.instruments) directory.barSubscribers.add('/ml', instrument.symbol, inlet);
    });
    this.ml = ref ?? { path: `/ml/${kind}` };
    return this.ml;
  }

  /** Tells the ML actor to load the live model again (after a promotion or rollback); false when ML does not run. */
  reloadMl(reason: string): boolean {
    if (this.stopped || !this.ml) return false;
    this.system.tell(this.ml, { type: 'ReloadModel', reason });
    return true;
  }

  /** The ML actor's status, or undefined when ML does not run. */
  async mlStatus(timeoutMs = 2000): Promise<MlStatus | undefined> {
    const ref = this.ml;
    if (!ref || this.stopped) return undefined;
    return this.system.ask<MlCommand, MlStatus>(ref, (replyTo) => ({ type: 'GetMlStatus', replyTo }), timeoutMs);
  }

  /** Every actor path that carries state (and so a snapshot), in start order. */
  statefulActorPaths(): string[] {
    const { options } = this;
    return [
      ACTOR_PATHS.portfolio(options.portfolio.portfolioId),
      ACTOR_PATHS.execution(options.kite ? 'kite' : 'paper'),
      ACTOR_PATHS.risk,
      ACTOR_PATHS.regime,
      ACTOR_PATHS.aggregator,
      ...this.strategyInstances.map((instance) => ACTOR_PATHS.strategy(instance.strategyId)),
      ...options.instruments.map((instrument) => ACTOR_PATHS.market(instrument.symbol)),
    ];
  }

  /**
   * Loads the last snapshot of every stateful actor from a store, so that `start()` brings
   * each actor back where the previous process left it. Call before `start()`.
   */
  async restoreFrom(store: SnapshotStore): Promise<number> {
    let restored = 0;
    for (const path of this.statefulActorPaths()) {
      const snapshot = await store.load(path);
      if (snapshot) {
        this.initialSnapshots.set(path, snapshot);
        restored += 1;
      }
    }
    return restored;
  }

  /** The snapshot `start()` will restore the actor at `path` from (after `restoreFrom`), if any. */
  restoredSnapshot(path: string): Snapshot | undefined {
    return this.initialSnapshots.get(path);
  }

  /** Sets the snapshot `start()` restores `snapshot.key` from: recovery corrects them from the journal. Call before `start()`. */
  setRestoredSnapshot(snapshot: Snapshot): void {
    this.initialSnapshots.set(snapshot.key, snapshot);
  }

  /** Spawn options of a child: supervision, and its latest snapshot when there is one. */
  private spawnOptions<S>(path: string): SpawnOptions<S> {
    // a child re-created by its group's restart comes back from the snapshot it took when it
    // stopped (its last state), not from the one this process started with
    const snapshot = this.system.lastSnapshot(path) ?? this.initialSnapshots.get(path);
    return snapshot ? { supervision: SUPERVISION, initialSnapshot: snapshot } : { supervision: SUPERVISION };
  }

  /** Applies the snapshot cadence override, if any. */
  private cadence<M, S>(behavior: Behavior<M, S>): Behavior<M, S> {
    const every = this.options.snapshotEveryMessages;
    if (every === undefined || !behavior.snapshot) return behavior;
    return { ...behavior, snapshot: { ...behavior.snapshot, everyMessages: every } };
  }

  /** The Kite adapter of the execution actor. */
  private kiteAdapter(broker: KiteOrderApi) {
    return kiteBrokerAdapter({
      broker,
      instruments: this.instruments,
      log: this.log,
      countUpdate: (source) => this.metrics.brokerOrderUpdates.inc({ source }),
      ...this.squareOffOption(),
    });
  }

  /** Spawns `/execution/<venue>` over a broker adapter. */
  private spawnExecution<S, V>(ctx: ActorContext<never>, broker: BrokerPort<S, V>): ActorRef<ExecutionInput> {
    const { options } = this;
    const deps: ExecutionActorDeps<S, V> = {
      broker,
      directory: this.directory,
      bus: this.bus,
      metrics: this.metrics,
      clock: options.clock,
      instruments: this.instruments,
      log: this.log,
      ...(options.onOrderLatencyUs ? { onOrderLatencyUs: options.onOrderLatencyUs } : {}),
      // journal before acting (stream execution/<venue>)
      ...(options.journal ? { journal: options.journal, onJournalHealth: this.onJournalHealth } : {}),
    };
    return ctx.spawn(broker.venue, this.cadence(executionBehavior(deps)), this.spawnOptions(`/execution/${broker.venue}`));
  }

  /** Starts the tree in order: portfolios, execution, risk, strategies, market. */
  start(): void {
    const { system, directory, options } = this;
    const maxPending = options.maxPendingBatches ?? 10_000;

    this.group('portfolios', (ctx) => {
      // this group owns the portfolios' entries (and only those: risk's marks inlet stays)
      directory.portfolios.clear();
      directory.portfolioMarks.release('/portfolios');
      const { portfolioId, initialCashPaise } = options.portfolio;
      const ref: ActorRef<PortfolioCommand> = ctx.spawn(
        portfolioId,
        this.cadence(
          portfolioBehavior(portfolioId, initialCashPaise, {
            bus: this.bus,
            onState: (state) => {
              this.portfolioStates.set(portfolioId, state);
              this.bumpPortfolioVersion(portfolioId);
            },
            onChange: () => this.bumpPortfolioVersion(portfolioId),
          }),
        ),
        this.spawnOptions(`/portfolios/${portfolioId}`),
      );
      directory.portfolios.set(portfolioId, ref);
      directory.portfolioMarks.add(
        `/portfolios/${portfolioId}`,
        system.inlet(ref, wrapMarks, { maxPending: 100_000, overflow: { kind: 'conflate', key: (tick: Tick) => tick.symbol } }),
      );
    });

    this.group('execution', (ctx) => {
      // one execution actor; the venue is the adapter plugged in
      const ref = options.kite
        ? this.spawnExecution(ctx, this.kiteAdapter(options.kite.broker))
        : this.spawnExecution(
            ctx,
            paperBrokerAdapter({
              config: { ...options.broker, ...(options.squareOffMinute === undefined ? {} : { squareOffMinute: options.squareOffMinute }) },
              instruments: this.instruments,
            }),
          );
      this.kiteExecution = options.kite ? ref : undefined;
      directory.execution = ref;
      directory.executionTicks = options.kite
        ? undefined
        : system.inlet(ref, wrapExecutionTicks, { maxPending: maxPending, overflow: { kind: 'drop-oldest' } });
    });

    const risk: ActorRef<RiskManagerCommand> = system.spawn(
      'risk',
      this.cadence(
        riskManagerBehavior({
          directory,
          cache: this.cache,
          bus: this.bus,
          metrics: this.metrics,
          clock: options.clock,
          limits: this.description.riskLimits,
          instrument: (symbol) => this.instruments.get(symbol),
          ...this.squareOffOption(),
        }),
      ),
      this.spawnOptions('/risk'),
    );
    directory.risk = risk;
    this.riskManagerRef = risk;
    // last prices for exposure and the daily-loss kill switch, conflated per symbol
    directory.portfolioMarks.release('/risk');
    directory.portfolioMarks.add(
      '/risk',
      system.inlet(risk, wrapRiskMarks, { maxPending: 100_000, overflow: { kind: 'conflate', key: (tick: Tick) => tick.symbol } }),
    );

    // market regimes from closed bars: a sink, started before the market
    const regime: ActorRef<RegimeCommand> = system.spawn(
      'regime',
      this.cadence(regimeBehavior({ bus: this.bus, interval: options.regimeInterval ?? '5m' })),
      this.spawnOptions('/regime'),
    );
    this.regime = regime;
    const regimeBars = system.inlet(regime, wrapRegimeBars, { maxPending: 100_000, overflow: { kind: 'drop-oldest' } });
    // the regime detector and the aggregator see every closed bar, before the strategies do (registered first)
    directory.barSubscribers.release('/regime');
    for (const instrument of options.instruments) directory.barSubscribers.add('/regime', instrument.symbol, regimeBars);

    // the signal aggregator: strategies' signals in, votes out to the strategies trading on them
    const aggregator: ActorRef<AggregatorCommand> = system.spawn(
      'aggregator',
      this.cadence(
        aggregatorBehavior({
          bus: this.bus,
          clock: options.clock,
          ...(options.aggregator ? { config: options.aggregator } : {}),
          deliver: (aggregation) => this.deliverAggregation(aggregation),
          wants: (symbol) => (this.directory.aggregateSubscribers.get(symbol)?.length ?? 0) > 0,
        }),
      ),
      this.spawnOptions('/aggregator'),
    );
    this.aggregator = aggregator;
    const aggregatorBars = system.inlet(aggregator, wrapAggregatorBars, { maxPending: 100_000, overflow: { kind: 'drop-oldest' } });
    directory.barSubscribers.release('/aggregator');
    for (const instrument of options.instruments) directory.barSubscribers.add('/aggregator', instrument.symbol, aggregatorBars);

    if (options.ml) this.startMl(options.ml);

    this.group('strategies', (ctx) => {
      // this group owns the strategies' entries (and only those: the regime's and aggregator's bar inlets stay)
      directory.strategies.clear();
      directory.tickSubscribers.release('/strategies');
      directory.barSubscribers.release('/strategies');
      directory.aggregateSubscribers.release('/strategies');
      directory.predictionSubscribers.release('/strategies');
      this.strategiesCtx = ctx;
      for (const instance of this.strategyInstances) this.spawnStrategy(ctx, instance, this.spawnOptions(`/strategies/${instance.strategyId}`));
    });

    if (options.kite && this.kitePoll === undefined) {
      this.kitePoll = setInterval(() => this.tellKite({ type: 'PollOrders', reason: 'timer' }), options.kite.pollEveryMs ?? 5000);
      this.kitePoll.unref();
    }

    this.group('market', (ctx) => {
      directory.symbols.clear();
      directory.symbolInlets.clear();
      for (const instrument of options.instruments) {
        const ref: ActorRef<SymbolCommand> = ctx.spawn(
          instrument.symbol,
          this.cadence(symbolBehavior(instrument.symbol, { directory, cache: this.cache })),
          this.spawnOptions(`/market/${instrument.symbol}`),
        );
        directory.symbols.set(instrument.symbol, ref);
        directory.symbolInlets.set(instrument.symbol, system.inlet(ref, wrapSymbolTicks, { maxPending, overflow: { kind: 'drop-oldest' } }));
      }
    });
  }

  /** Spawns one strategy actor under `/strategies` and wires its tick and bar subscriptions. */
  private spawnStrategy(ctx: ActorContext<never>, instance: StrategyInstance, spawnOptions: SpawnOptions<StrategyHostState>): void {
    const { system, directory, options } = this;
    const owner = `/strategies/${instance.strategyId}`;
    const ref: ActorRef<StrategyCommand> = ctx.spawn(
      instance.strategyId,
      this.cadence(
        strategyBehavior(instance, {
          directory,
          cache: this.cache,
          clock: options.clock,
          log: this.log,
          portfolioCashPaise: (portfolioId) => this.portfolioStates.get(portfolioId)?.cashPaise,
          bus: this.bus,
          aggregator: () => this.aggregator,
        }),
      ),
      spawnOptions,
    );
    directory.strategies.set(instance.strategyId, ref);
    if (Object.keys(this.regimes).length > 0) system.tell(ref, { type: 'RegimesChanged', regimes: { ...this.regimes } });
    const ticks = system.inlet(ref, wrapTicks, { maxPending: options.maxPendingBatches ?? 10_000, overflow: { kind: 'drop-oldest' } });
    const bars = system.inlet(ref, wrapBars, { maxPending: 100_000, overflow: { kind: 'drop-oldest' } });
    for (const subscription of instance.definition.subscriptions(instance.config)) {
      // bars of the subscribed interval only: the feed may aggregate several (live: 1m and 5m)
      const barsOfInterval = subscription.kind === 'bars' ? onlyInterval(bars, subscription.interval) : undefined;
      for (const symbol of subscription.symbols) {
        if (subscription.kind === 'ticks') directory.tickSubscribers.add(owner, symbol, ticks);
        else if (subscription.kind === 'aggregates') directory.aggregateSubscribers.add(owner, symbol, instance.strategyId);
        else if (subscription.kind === 'predictions') directory.predictionSubscribers.add(owner, symbol, instance.strategyId);
        else if (barsOfInterval) directory.barSubscribers.add(owner, symbol, barsOfInterval);
      }
    }
  }

  /** The spec a strategy runs with (as given at start, by {@link addStrategy} or {@link reconfigureStrategy}). */
  strategySpec(strategyId: string): StrategySpec | undefined {
    return this.strategySpecs.get(strategyId);
  }

  /**
   * Adds a strategy while running: validates its config (throws `StrategyConfigError` naming the
   * field, or an Error for an unknown kind or a taken id), spawns its actor under `/strategies`
   * and wires its subscriptions. A restart of the group re-creates it like the others.
   */
  addStrategy(spec: StrategySpec): void {
    const ctx = this.strategiesCtx;
    if (this.stopped || ctx === undefined) throw new Error('the runtime is not running');
    if (this.directory.strategies.has(spec.strategyId) || this.strategyInstances.some((existing) => existing.strategyId === spec.strategyId))
      throw new Error(`strategy "${spec.strategyId}" exists`);
    const instance = this.instantiate(spec);
    this.strategyInstances.push(instance);
    this.spawnStrategy(ctx, instance, { supervision: SUPERVISION });
  }

  /**
   * Changes a running strategy's parameters: `config` is merged over its current config and
   * validated (throws `StrategyConfigError` without changing anything), then the actor is
   * stopped (final snapshot) and spawned again with the new config from that snapshot, so
   * its positions, working orders, intent numbering and pause state carry over.
   */
  async reconfigureStrategy(strategyId: string, config: Readonly<Record<string, unknown>>): Promise<void> {
    const ctx = this.strategiesCtx;
    const spec = this.strategySpecs.get(strategyId);
    const index = this.strategyInstances.findIndex((instance) => instance.strategyId === strategyId);
    if (this.stopped || ctx === undefined) throw new Error('the runtime is not running');
    if (spec === undefined || index < 0) throw new Error(`no strategy "${strategyId}"`);
    const next: StrategySpec = { ...spec, config: { ...((spec.config ?? {}) as Record<string, unknown>), ...config } };
    const instance = this.instantiate(next);
    this.directory.tickSubscribers.release(`/strategies/${strategyId}`);
    this.directory.barSubscribers.release(`/strategies/${strategyId}`);
    this.directory.aggregateSubscribers.release(`/strategies/${strategyId}`);
    this.directory.predictionSubscribers.release(`/strategies/${strategyId}`);
    const ref = this.directory.strategies.get(strategyId);
    if (ref) await this.system.stop(ref);
    const snapshot = this.system.lastSnapshot(`/strategies/${strategyId}`);
    this.strategyInstances[index] = instance;
    this.spawnStrategy(ctx, instance, snapshot ? { supervision: SUPERVISION, initialSnapshot: snapshot } : { supervision: SUPERVISION });
  }

  /** A supervising group actor whose only job is to own (and re-create) its children. */
  private group(name: string, spawnChildren: (ctx: Parameters<Behavior<never, null>['initial']>[0]) => void): void {
    const behavior: Behavior<never, null> = {
      kind: 'supervisor',
      initial(ctx) {
        spawnChildren(ctx);
        return null;
      },
      receive: (state) => state,
    };
    this.system.spawn(name, behavior, { supervision: SUPERVISION });
  }

  /**
   * The narrow, typed queries and commands the gateway uses (never `system` or `directory`);
   * made on first use, so a backtest, which has no gateway, has no listeners for it.
   */
  get facade(): RuntimeFacade {
    this.localFacade ??= new LocalRuntimeFacade(this);
    return this.localFacade;
  }

  /** Hands ticks for one symbol to its actor (through its batching inlet). */
  offerTicks(symbol: string, ticks: readonly Tick[]): boolean {
    if (this.stopped) return false;
    const inlet = this.directory.symbolInlets.get(symbol);
    if (!inlet) return false;
    inlet.offer(ticks);
    return true;
  }

  /** Sends a message to the execution actor in Kite mode (postbacks, polls, a renewed session); false when not in Kite mode. */
  tellKite(message: ExecutionInput): boolean {
    if (this.stopped || !this.kiteExecution) return false;
    this.system.tell(this.kiteExecution, message);
    return true;
  }

  /** Now on the market's clock (the synthetic market's, a replay's or a backtest's simulated time). */
  marketNowMs(): number {
    return this.options.clock.nowMs();
  }

  /** The risk manager (`/risk`) with its full protocol (the directory holds it as the minimal gate every actor may tell). */
  get riskManager(): ActorRef<RiskManagerCommand> | undefined {
    return this.riskManagerRef;
  }

  /** Hands closed bars to their symbol actors. */
  offerBars(bars: readonly Bar[]): void {
    if (this.stopped) return;
    for (const { symbol, items } of this.barGrouper.group(bars)) {
      const ref = this.directory.symbols.get(symbol);
      if (ref) this.system.tell(ref, { type: 'BarsClosed', bars: items });
    }
  }

  /** Messages and batched items waiting anywhere in the tree. */
  pendingWork(): number {
    return this.system.pendingWork() + this.mlInFlight;
  }

  /** Runs queued actor work now (see `ActorSystem.runPending`); returns what is left. */
  runPending(budgetMs?: number): number {
    return this.system.runPending(budgetMs) + this.mlInFlight;
  }

  /** Resolves once every mailbox is empty (all consequences of what was offered have run). */
  async whenIdle(maxTurns = 1_000_000): Promise<void> {
    for (let turn = 0; turn < maxTurns; turn += 1) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.pendingWork() === 0) {
        // one more turn: a handler that just ran may have told someone
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.pendingWork() === 0) return;
      }
    }
    throw new Error('the actor tree did not become idle');
  }

  portfolio(portfolioId = this.options.portfolio.portfolioId): PortfolioState | undefined {
    return this.portfolioStates.get(portfolioId);
  }

  /**
   * A number that goes up whenever `portfolio(portfolioId)` changes (a fill, a mark that moved a
   * position, a restart): readers that derive something from the live state (the API's
   * positions body) compare it instead of the state. 0 before the portfolio started.
   */
  portfolioVersion(portfolioId: string): number {
    return this.portfolioVersions.get(portfolioId) ?? 0;
  }

  private bumpPortfolioVersion(portfolioId: string): void {
    this.portfolioVersions.set(portfolioId, (this.portfolioVersions.get(portfolioId) ?? 0) + 1);
  }

  async askPortfolio(portfolioId = this.options.portfolio.portfolioId, timeoutMs = 2000): Promise<PortfolioView> {
    const ref = this.directory.portfolios.get(portfolioId);
    if (!ref) throw new Error(`no portfolio "${portfolioId}"`);
    return this.system.ask<PortfolioCommand, PortfolioView>(ref, (replyTo) => ({ type: 'GetPortfolio', replyTo }), timeoutMs);
  }

  async strategyStatus(strategyId: string, timeoutMs = 2000): Promise<StrategyStatus> {
    const ref = this.directory.strategies.get(strategyId);
    if (!ref) throw new Error(`no strategy "${strategyId}"`);
    return this.system.ask<StrategyCommand, StrategyStatus>(ref, (replyTo) => ({ type: 'GetStatus', replyTo }), timeoutMs);
  }

  /** Graceful stop: no more intake, drain, final snapshots. */
  async stop(timeoutMs = 8000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.kitePoll) clearInterval(this.kitePoll);
    await this.system.shutdown(timeoutMs);
  }
}

/** An inlet that passes on only the bars of one interval (a strategy gets the bars it subscribed to, not every interval the feed makes). */
function onlyInterval(inlet: Inlet<Bar>, interval: BarInterval): Inlet<Bar> {
  return {
    offer: (bar) => {
      if (bar.interval === interval) inlet.offer(bar);
    },
    get pending() {
      return inlet.pending;
    },
    get shed() {
      return inlet.shed;
    },
  };
}

/** The health tree as a flat list for metrics. */
export function flattenHealth(nodes: readonly ActorHealth[], into: ActorHealthSample[] = []): ActorHealthSample[] {
  for (const node of nodes) {
    into.push({
      path: node.path,
      kind: node.kind,
      mailboxDepth: node.mailboxDepth,
      processed: node.processed,
      restarts: node.restarts,
      failures: node.failures,
      running: node.status === 'running',
    });
    flattenHealth(node.children, into);
  }
  return into;
}
