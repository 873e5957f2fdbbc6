import type { Behavior, Json } from '../core/index.js';
import { assertNever, type DomainEvent } from '../../model/index.js';
import { decide, DEFAULT_AGGREGATOR_CONFIG, emptyAggregatorState, recordSignal, toSignalAggregated, type AggregatorConfig } from '../../signals/index.js';
import type { AggregatorActorState, AggregatorCommand } from './aggregator.protocol.js';

/** What the aggregator actor needs. */
export interface AggregatorActorDeps {
  /** Where `SignalAggregated` goes (the runtime's event bus). */
  readonly bus: { publish(event: DomainEvent): void };
  /** Market time in backtests, wall time live (signal freshness is judged against it). */
  readonly clock: { nowMs(): number };
  readonly config?: AggregatorConfig;
}

/**
 * The signal aggregator as an actor: keeps each strategy's latest signal per symbol, votes
 * (rules in `src/signals/aggregator.ts`) on every new signal and publishes the decision when
 * it changes. Answers `GetDecision` at any time.
 */
export function aggregatorBehavior(deps: AggregatorActorDeps): Behavior<AggregatorCommand, AggregatorActorState> {
  const config = deps.config ?? DEFAULT_AGGREGATOR_CONFIG;
  return {
    kind: 'aggregator',
    initial: (_ctx, restored) => restored ?? emptyAggregatorState(),
    snapshot: {
      codec: { version: 1, encode: (state) => state as unknown as Json, decode: (json) => json as unknown as AggregatorActorState },
      everyMs: 5000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'SubmitSignal': {
          const step = decide(recordSignal(state, message.signal), message.signal.symbol, deps.clock.nowMs(), config);
          if (step.changed) deps.bus.publish(toSignalAggregated(step.aggregation));
          return step.state;
        }
        case 'GetDecision': {
          const step = decide(state, message.symbol, deps.clock.nowMs(), config);
          ctx.system.tell(message.replyTo, step.aggregation);
          return state;
        }
        default:
          return assertNever(message, 'aggregator command');
      }
    },
  };
}
