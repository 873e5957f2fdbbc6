import type { GatewayStateStore, StoredStrategy, StrategyRunState } from '../persistence/gateway-state-store.types.js';

/** {@link GatewayStateStore} in memory. */
export class InMemoryGatewayStateStore implements GatewayStateStore {
  private readonly strategies = new Map<string, StoredStrategy>();
  private manual = 0;

  loadStrategies(): Promise<readonly StoredStrategy[]> {
    return Promise.resolve([...this.strategies.values()]);
  }

  saveStrategy(strategy: StoredStrategy): Promise<void> {
    const previous = this.strategies.get(strategy.strategyId);
    this.strategies.set(strategy.strategyId, { ...strategy, config: structuredClone(strategy.config), createdBy: strategy.createdBy ?? previous?.createdBy });
    return Promise.resolve();
  }

  setStrategyState(strategyId: string, state: StrategyRunState): Promise<boolean> {
    const previous = this.strategies.get(strategyId);
    if (previous) this.strategies.set(strategyId, { ...previous, state });
    return Promise.resolve(previous !== undefined);
  }

  nextManualSequence(): Promise<number> {
    this.manual += 1;
    return Promise.resolve(this.manual);
  }
}
