import { Type, type Static } from 'typebox';
import { RuntimeUnavailable, type RiskReport, type RuntimeFacade } from '../../runtime/facade.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';
import { API_ERRORS, routeGroup } from './declare-routes.js';

const riskRoute = routeGroup('risk', API_ERRORS);
/** Order timestamps kept to count orders in the last market second. */
const RATE_WINDOW_MS = 1_000;

const Utilisation = Type.Object({
  id: Type.String({ description: 'the limit, as in `limits`' }),
  label: Type.String(),
  unit: Type.Enum(['paise', 'shares', 'orders/s']),
  used: Type.Number({ description: 'how much of the limit is in use now (paise, shares or orders in the last market second)' }),
  limit: Type.Number(),
  portfolioId: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String({ description: 'what the figure is about, e.g. the symbol or strategy nearest its limit' })),
});

const KillSwitch = Type.Object({
  portfolioId: Type.String(),
  trippedAtMs: Type.Integer(),
  dayPnlPaise: Type.Integer(),
  maxDailyLossPaise: Type.Integer(),
  message: Type.String(),
});

const RiskResponse = Type.Object({
  limits: Type.Object({
    maxOrderValuePaise: Type.Integer(),
    maxOrderQuantity: Type.Integer(),
    maxPositionQuantity: Type.Integer(),
    maxOrdersPerSecond: Type.Integer(),
    maxOrdersPerSecondPerStrategy: Type.Integer(),
    maxGrossExposurePaise: Type.Integer(),
    maxNetExposurePaise: Type.Integer(),
    maxDailyLossPaise: Type.Integer(),
    fatFingerBps: Type.Integer(),
  }),
  utilisation: Type.Array(Utilisation),
  killSwitch: Type.Union([KillSwitch, Type.Null()], { description: 'the daily-loss kill switch of the risk manager, when tripped' }),
  approved: Type.Integer(),
  rejected: Type.Integer(),
  pausedStrategies: Type.Array(Type.String()),
  atMs: Type.Integer({ description: 'market time of the figures' }),
});

type UtilisationView = Static<typeof Utilisation>;
type PortfolioRisk = RiskReport['portfolios'][string];
type RiskManagerLimits = RuntimeFacade['description']['riskLimits'];

/** A portfolio's use of its limits: the day's loss, gross and net exposure, the largest position with working orders. */
function portfolioUtilisation(portfolioId: string, portfolio: PortfolioRisk, limits: RiskManagerLimits): UtilisationView[] {
  const rows: UtilisationView[] = [];
  rows.push({
    id: 'maxDailyLossPaise',
    label: 'Daily loss',
    unit: 'paise',
    used: Math.max(0, 0 - portfolio.dayPnlPaise),
    limit: limits.maxDailyLossPaise,
    portfolioId,
  });
  rows.push({
    id: 'maxGrossExposurePaise',
    label: 'Gross exposure',
    unit: 'paise',
    used: portfolio.grossExposurePaise,
    limit: limits.maxGrossExposurePaise,
    portfolioId,
  });
  rows.push({
    id: 'maxNetExposurePaise',
    label: 'Net exposure',
    unit: 'paise',
    used: portfolio.netExposurePaise,
    limit: limits.maxNetExposurePaise,
    portfolioId,
  });
  let largest = { symbol: '', quantity: 0 };
  for (const [symbol, book] of Object.entries(portfolio.symbols)) {
    const worst = Math.max(Math.abs(book.net + book.workingBuy), Math.abs(book.net - book.workingSell));
    if (worst > largest.quantity) largest = { symbol, quantity: worst };
  }
  rows.push({
    id: 'maxPositionQuantity',
    label: 'Largest position (with working orders)',
    unit: 'shares',
    used: largest.quantity,
    limit: limits.maxPositionQuantity,
    portfolioId,
    ...(largest.symbol ? { detail: largest.symbol } : {}),
  });
  return rows;
}

/** Orders placed after `since` (market time), against the per-second limits: all strategies, and the busiest one. */
function orderRateUtilisation(
  recentOrders: readonly { readonly atMs: number; readonly strategyId: string }[],
  since: number,
  limits: RiskManagerLimits,
): UtilisationView[] {
  const rows: UtilisationView[] = [];
  const byStrategy = new Map<string, number>();
  let overall = 0;
  for (let index = recentOrders.length - 1; index >= 0; index -= 1) {
    const order = recentOrders[index]!;
    if (order.atMs <= since) break;
    overall += 1;
    byStrategy.set(order.strategyId, (byStrategy.get(order.strategyId) ?? 0) + 1);
  }
  const busiest = [...byStrategy].sort((a, b) => b[1] - a[1])[0];
  rows.push({
    id: 'maxOrdersPerSecond',
    label: 'Orders per second (all strategies)',
    unit: 'orders/s',
    used: overall,
    limit: limits.maxOrdersPerSecond,
  });
  rows.push({
    id: 'maxOrdersPerSecondPerStrategy',
    label: 'Orders per second (busiest strategy)',
    unit: 'orders/s',
    used: busiest?.[1] ?? 0,
    limit: limits.maxOrdersPerSecondPerStrategy,
    ...(busiest ? { detail: busiest[0] } : {}),
  });
  return rows;
}

/**
 * Risk: the limits in force and how much of each is used now (exposures, the day's loss, the
 * largest position, orders in the last second), the risk manager's kill switch with a reset
 * for admins (the risk alerts: `history.routes.ts`).
 */
export function riskRoutes(app: GatewayInstance, ctx: GatewayContext): Promise<void> {
  const { runtime } = ctx;
  /** createdAtMs (market clock) and strategy of recent orders. */
  const recentOrders: { atMs: number; strategyId: string }[] = [];
  const offs = [
    runtime.onEvent('OrderSubmitted', (event) => {
      recentOrders.push({ atMs: event.order.createdAtMs, strategyId: event.order.strategyId });
      if (recentOrders.length > 20_000) recentOrders.splice(0, recentOrders.length - 10_000);
    }),
  ];
  app.addHook('onClose', () => {
    for (const off of offs) off();
    return Promise.resolve();
  });

  /** Market time now: the newest exchange time in the market cache (the risk manager's clock runs on it). */
  const marketNowMs = (): number => runtime.quotes().reduce((newest, quote) => Math.max(newest, quote.exchangeTimeMs), 0) || Date.now();

  /** A risk manager that is not running is a 503 `not-ready`. */
  const notReady = (error: unknown): never => {
    if (error instanceof RuntimeUnavailable) throw new ApiError(503, 'not-ready', error.message);
    throw error;
  };
  const report = (): Promise<RiskReport> => runtime.riskReport().catch(notReady);

  app.get(
    '/api/v1/risk',
    riskRoute('viewer', { summary: 'Risk limits in force and their utilisation now; the daily-loss kill switch', response: { 200: RiskResponse } }),
    async () => {
      const limits = runtime.description.riskLimits;
      const figures = await report();
      const atMs = marketNowMs();
      const utilisation: UtilisationView[] = [];
      for (const [portfolioId, portfolio] of Object.entries(figures.portfolios)) utilisation.push(...portfolioUtilisation(portfolioId, portfolio, limits));
      utilisation.push(...orderRateUtilisation(recentOrders, atMs - RATE_WINDOW_MS, limits));
      return {
        limits: {
          maxOrderValuePaise: limits.maxOrderValuePaise,
          maxOrderQuantity: limits.maxOrderQuantity,
          maxPositionQuantity: limits.maxPositionQuantity,
          maxOrdersPerSecond: limits.maxOrdersPerSecond,
          maxOrdersPerSecondPerStrategy: limits.maxOrdersPerSecondPerStrategy,
          maxGrossExposurePaise: limits.maxGrossExposurePaise,
          maxNetExposurePaise: limits.maxNetExposurePaise,
          maxDailyLossPaise: limits.maxDailyLossPaise,
          fatFingerBps: limits.fatFingerBps,
        },
        utilisation,
        killSwitch: figures.killSwitch
          ? {
              portfolioId: figures.killSwitch.portfolioId,
              trippedAtMs: figures.killSwitch.trippedAtMs,
              dayPnlPaise: figures.killSwitch.dayPnlPaise,
              maxDailyLossPaise: figures.killSwitch.maxDailyLossPaise,
              message: figures.killSwitch.message,
            }
          : null,
        approved: figures.approved,
        rejected: figures.rejected,
        pausedStrategies: [...ctx.paused].sort(),
        atMs,
      };
    },
  );

  app.post(
    '/api/v1/risk/kill-switch/reset',
    riskRoute('admin', {
      summary: 'Re-arm trading after the daily-loss kill switch tripped (refuses again at once if the loss is still past the limit)',
      response: { 200: Type.Object({ reset: Type.Boolean() }) },
    }),
    async (request) => {
      const who = request.principal?.name ?? 'anonymous';
      const reset = await runtime.releaseKillSwitch(who).catch(notReady);
      ctx.record(request, { action: 'risk.kill-switch.reset', outcome: 'ok' });
      return { reset };
    },
  );
  return Promise.resolve();
}
