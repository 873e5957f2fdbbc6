import type { Behavior } from '../core/index.js';
import {
  applyFillToPortfolio,
  assertNever,
  markPortfolio,
  newPortfolio,
  positionKey,
  summarisePortfolio,
  type Paise,
  type PortfolioState,
  type PortfolioSummary,
  type Tick,
} from '../../model/index.js';
import type { EventBus } from '../../runtime/event-bus.js';
import type { PortfolioCommand } from './portfolio.protocol.js';

export interface PortfolioActorDeps {
  readonly bus: EventBus;
  /** Called with every new state, so readers outside the tree (metrics, API) see it without a round trip. */
  readonly onState?: (state: PortfolioState) => void;
}

/**
 * Owns one portfolio: cash, positions, realised and unrealised P&L, charges. Fills apply
 * exactly (integer paise); marks move unrealised P&L. Publishes PositionChanged per fill.
 */
export function portfolioBehavior(portfolioId: string, initialCashPaise: Paise, deps: PortfolioActorDeps): Behavior<PortfolioCommand, PortfolioState> {
  return {
    kind: 'portfolio',
    initial(_ctx, restored) {
      const state = restored ?? newPortfolio(portfolioId, initialCashPaise);
      deps.onState?.(state);
      return state;
    },
    snapshot: {
      codec: { version: 1, encode: (state) => state as never, decode: (json) => structuredClone(json) as unknown as PortfolioState },
      everyMessages: 1000,
      everyMs: 1000,
    },
    receive(state, message, ctx) {
      switch (message.type) {
        case 'ApplyFill': {
          const next = applyFillToPortfolio(state, message.fill);
          const position = next.positions[positionKey(message.fill.symbol, message.fill.product)];
          if (position && deps.bus.hasListeners('PositionChanged')) {
            deps.bus.publish({ type: 'PositionChanged', portfolioId, position, summary: summarisePortfolio(next) });
          }
          deps.onState?.(next);
          return next;
        }
        case 'Marks':
          return marks(state, message.ticks, deps);
        case 'GetPortfolio': {
          const summary: PortfolioSummary = summarisePortfolio(state);
          ctx.system.tell(message.replyTo, { state, summary });
          return state;
        }
        default:
          return assertNever(message, 'portfolio command');
      }
    },
  };
}

function marks(state: PortfolioState, ticks: readonly Tick[], deps: PortfolioActorDeps): PortfolioState {
  let next = state;
  for (const tick of ticks) next = markPortfolio(next, tick.symbol, tick.ltpPaise);
  if (next !== state) deps.onState?.(next);
  return next;
}

export const wrapMarks = (ticks: readonly Tick[]): PortfolioCommand => ({ type: 'Marks', ticks });
