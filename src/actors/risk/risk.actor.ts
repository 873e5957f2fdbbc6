import type { Behavior } from '../core/index.js';
import { assertNever, newOrder } from '../../model/index.js';
import { RiskGate, type ExposureView, type RiskLimits } from '../../risk/risk-gate.js';
import type { Directory } from '../../runtime/directory.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { MarketCache } from '../../runtime/market-cache.js';
import type { Metrics } from '../../runtime/metrics.js';
import type { RiskCommand, RiskState, RiskStatus } from './risk.protocol.js';

export interface RiskActorDeps {
  readonly directory: Directory;
  readonly cache: MarketCache;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly clock: { nowMs(): number };
  readonly limits: RiskLimits;
}

interface EncodedRisk {
  approved: number;
  rejected: number;
  exposures: Record<string, ExposureView>;
}

/**
 * The gate between every intent and every order. Approves (the intent becomes an order at
 * the execution actor) or refuses with a reason: a RiskAlert on the bus and an
 * IntentRejected back to the strategy. Never places anything itself.
 */
export function riskBehavior(deps: RiskActorDeps): Behavior<RiskCommand, RiskState> {
  let gate = new RiskGate(deps.limits);
  return {
    kind: 'risk',
    initial(_ctx, restored) {
      gate = new RiskGate(deps.limits);
      if (!restored) return { approved: 0, rejected: 0 };
      const encoded = restored as unknown as EncodedRisk;
      gate.restore(encoded.exposures);
      return { approved: encoded.approved, rejected: encoded.rejected };
    },
    snapshot: {
      codec: {
        version: 1,
        encode: (state) => ({ approved: state.approved, rejected: state.rejected, exposures: gate.encode() as never }),
        decode: (json) => structuredClone(json) as unknown as RiskState,
      },
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'EvaluateIntent': {
          const { intent, clientOrderId } = message;
          const nowMs = deps.clock.nowMs();
          const rejection = gate.evaluate(intent, deps.cache.lastPrice(intent.symbol), nowMs);
          if (rejection) {
            state.rejected += 1;
            deps.metrics.riskRejections.inc({ code: rejection.code });
            deps.bus.publish({
              type: 'RiskAlert',
              severity: 'warning',
              code: rejection.code,
              message: rejection.message,
              atMs: nowMs,
              intent,
              strategyId: intent.strategyId,
              symbol: intent.symbol,
            });
            const strategy = deps.directory.strategies.get(intent.strategyId);
            if (strategy) {
              ctx.system.tell(strategy, {
                type: 'OrderEvent',
                event: { type: 'IntentRejected', intentId: intent.intentId, symbol: intent.symbol, reason: rejection.message },
              });
            }
            if (message.replyTo) ctx.system.tell(message.replyTo, { approved: false, rejection });
            return state;
          }
          state.approved += 1;
          ctx.system.tell(deps.directory.requireExecution(), {
            type: 'PlaceOrder',
            order: newOrder(intent, clientOrderId, nowMs),
            ...(intent.triggerReceivedMonoMs === undefined ? {} : { triggerReceivedMonoMs: intent.triggerReceivedMonoMs }),
          });
          if (message.replyTo) ctx.system.tell(message.replyTo, { approved: true, clientOrderId });
          return state;
        }
        case 'FillApplied':
          gate.onFill(message.portfolioId, message.symbol, message.signedQuantity);
          return state;
        case 'OrderClosed':
          gate.onOrderClosed(message.portfolioId, message.symbol, message.signedRemainder);
          return state;
        case 'GetStatus': {
          const status: RiskStatus = { approved: state.approved, rejected: state.rejected, exposures: gate.encode() };
          ctx.system.tell(message.replyTo, status);
          return state;
        }
        default:
          return assertNever(message, 'risk command');
      }
    },
  };
}
