import { createProbe, type ActorSystem } from '../../src/actors/core/index.js';
import { Directory } from '../../src/actors/directory.js';
import type { ExecutionCommand } from '../../src/actors/execution/execution.protocol.js';
import { MarketCache } from '../../src/actors/market-cache.js';
import { riskManagerBehavior } from '../../src/actors/risk/risk-manager.actor.js';
import type { StrategyCommand } from '../../src/actors/strategy/strategy.protocol.js';
import type { Instrument } from '../../src/model/index.js';
import { EventBus } from '../../src/observability/event-bus.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { RiskManagerLimits } from '../../src/risk/risk-manager.js';

/** A risk actor at a fixed time, with probes for execution and strategy s1 (the risk and alerting tests drive it). */
export function spawnRisk(
  system: ActorSystem,
  options: {
    readonly limits: RiskManagerLimits;
    readonly nowMs: number;
    readonly metrics?: Metrics;
    readonly instrument?: (symbol: string) => Instrument | undefined;
  },
) {
  const directory = new Directory();
  const cache = new MarketCache();
  const execution = createProbe<ExecutionCommand>(system);
  const strategy = createProbe<StrategyCommand>(system);
  directory.execution = execution.ref;
  directory.strategies.set('s1', strategy.ref);
  const ref = system.spawn(
    'risk',
    riskManagerBehavior({
      directory,
      cache,
      bus: new EventBus(),
      metrics: options.metrics ?? new Metrics(),
      clock: { nowMs: () => options.nowMs },
      limits: options.limits,
      ...(options.instrument ? { instrument: options.instrument } : {}),
    }),
  );
  return { ref, cache, execution, strategy };
}
