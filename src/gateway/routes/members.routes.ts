import { Type } from 'typebox';
import type { PortfolioMember } from '../../persistence/auth-store.types.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';
import { API_ERRORS, routeGroup } from './declare-routes.js';

/** Every membership route can answer 404: no such portfolio (or user, or membership). */
const MEMBER_ERRORS = [...API_ERRORS, 404] as const;
const portfolioRoute = routeGroup('portfolio', MEMBER_ERRORS);
const adminRoute = routeGroup('admin', MEMBER_ERRORS);

const MemberRoleSchema = Type.Enum(['owner', 'trader', 'viewer']);
const MemberSchema = Type.Object({
  portfolioId: Type.String(),
  userId: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  role: MemberRoleSchema,
});
const PortfolioParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const MemberParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }), userId: Type.String({ minLength: 1, maxLength: 128 }) });

/**
 * Portfolio ownership: `GET /api/v1/portfolios/:id/members` (members of it and admins),
 * `PUT`/`DELETE /api/v1/portfolios/:id/members/:userId` (admins). A member acts on the portfolio
 * (orders, cancels, strategies) when they are a trader and an owner or trader member; reads it
 * when a member at all. Admins act on every portfolio without being members.
 */
export function memberRoutes(app: GatewayInstance, ctx: GatewayContext): Promise<void> {
  const { auth, runtime } = ctx;
  const portfolioOr404 = (id: string): void => {
    if (!runtime.description.portfolioIds.includes(id)) throw new ApiError(404, 'not-found', `no portfolio "${id}"`);
  };
  const view = async (member: PortfolioMember) => ({ ...member, username: (await auth.store.userById(member.userId))?.username ?? null });

  app.get(
    '/api/v1/portfolios/:id/members',
    portfolioRoute('viewer', {
      summary: 'Owners and members of a portfolio (its members and admins may see them)',
      params: PortfolioParams,
      response: { 200: Type.Object({ items: Type.Array(MemberSchema) }) },
    }),
    async (request) => {
      portfolioOr404(request.params.id);
      await ctx.authorizePortfolio(request, request.params.id, 'read', 'portfolio.members.list');
      return { items: await Promise.all((await auth.store.portfolioMembers(request.params.id)).map(view)) };
    },
  );

  app.put(
    '/api/v1/portfolios/:id/members/:userId',
    adminRoute('admin', {
      summary: 'Make a user an owner, trader or viewer member of a portfolio (or change their standing)',
      params: MemberParams,
      body: Type.Object({ role: MemberRoleSchema }, { additionalProperties: false }),
      response: { 200: MemberSchema },
    }),
    async (request) => {
      const { id, userId } = request.params;
      portfolioOr404(id);
      const user = await auth.store.userById(userId);
      if (!user) throw new ApiError(404, 'not-found', `no user ${userId}`);
      const member: PortfolioMember = { portfolioId: id, userId, role: request.body.role };
      await auth.setPortfolioMember(member);
      ctx.record(request, { action: 'portfolio.member.set', target: id, outcome: 'ok', details: { user: user.username, role: member.role } });
      return { ...member, username: user.username };
    },
  );

  app.delete(
    '/api/v1/portfolios/:id/members/:userId',
    adminRoute('admin', { summary: 'Remove a member from a portfolio', params: MemberParams, response: { 204: Type.Null() } }),
    async (request, reply) => {
      const { id, userId } = request.params;
      if (!(await auth.removePortfolioMember(id, userId))) throw new ApiError(404, 'not-found', `user ${userId} is not a member of portfolio "${id}"`);
      ctx.record(request, { action: 'portfolio.member.remove', target: id, outcome: 'ok', details: { userId } });
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
}
