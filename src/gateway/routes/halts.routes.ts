import type { GatewayContext, GatewayInstance } from '../context.js';
import { HaltsSchema } from '../schemas.js';
import { routeGroup } from './declare-routes.js';

const riskRoute = routeGroup('risk', [401, 403, 429]);

/** `GET /api/v1/halts`: why trading is stopped now, for the desk's banner and for scripts. */
export function haltRoutes(app: GatewayInstance, ctx: GatewayContext): Promise<void> {
  app.get(
    '/api/v1/halts',
    riskRoute('viewer', {
      summary:
        'Why trading is stopped now: the kill switch, the journal failing closed, an expired broker session, a silent feed (empty when trading normally)',
      response: { 200: HaltsSchema },
    }),
    async () => {
      const halts = await ctx.halts.current();
      return { halted: halts.some((halt) => halt.severity === 'critical'), halts: [...halts] };
    },
  );
  return Promise.resolve();
}
