/**
 * The `GatewayStateStore` port: what the gateway keeps besides users, keys and the audit trail.
 * Strategies created or changed through the API (their config in effect and the state the API
 * last asked for), and the numbering of manual orders. Implementations:
 * `InMemoryGatewayStateStore` (`src/gateway/gateway-state-store.ts`: tests, embedding; lost on restart) and
 * `PostgresGatewayStateStore` (`gateway-state-store.ts`, tables `strategies`
 * and `gateway_sequences`; what `npm start` uses).
 */

/** What the API last asked of a strategy. `stopped` places nothing, like `paused`, until started again. */
export type StrategyRunState = 'started' | 'paused' | 'stopped';

/** A strategy as the API created or last changed it. */
export interface StoredStrategy {
  readonly strategyId: string;
  readonly kind: string;
  readonly portfolioId: string;
  /** The raw settings in effect (the given ones merged over earlier ones; defaults not applied). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly state: StrategyRunState;
  /** Who created it (`user:<name>`), when known. */
  readonly createdBy?: string | undefined;
}

/** Persistence of API-made strategies and of the manual order sequence. */
export interface GatewayStateStore {
  /** Every stored strategy, oldest first. */
  loadStrategies(): Promise<readonly StoredStrategy[]>;
  /** Inserts or replaces one strategy (config, kind, portfolio, state). */
  saveStrategy(strategy: StoredStrategy): Promise<void>;
  /** Records a new state for a stored strategy; false when there is no row for it. */
  setStrategyState(strategyId: string, state: StrategyRunState): Promise<boolean>;
  /** The next manual order sequence (1, 2, 3…); never the same twice for one store. Atomic. */
  nextManualSequence(): Promise<number>;
}
