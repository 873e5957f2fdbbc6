import { Type } from 'typebox';
import type { PortfolioMember } from '../../persistence/auth-store.types.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';

const err = { $ref: 'ErrorEnvelope#' } as const;
const common = { 400: err, 401: err, 403: err, 404: err, 429: err } as const;

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
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['portfolio'],
        summary: 'Owners and members of a portfolio (its members and admins may see them)',
        params: PortfolioParams,
        response: { 200: Type.Object({ items: Type.Array(MemberSchema) }), ...common },
      },
    },
    async (request) => {
      portfolioOr404(request.params.id);
      await ctx.authorizePortfolio(request, request.params.id, 'read', 'portfolio.members.list');
      return { items: await Promise.all((await auth.store.portfolioMembers(request.params.id)).map(view)) };
    },
  );

  app.put(
    '/api/v1/portfolios/:id/members/:userId',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Make a user an owner, trader or viewer member of a portfolio (or change their standing)',
        params: MemberParams,
        body: Type.Object({ role: MemberRoleSchema }, { additionalProperties: false }),
        response: { 200: MemberSchema, ...common },
      },
    },
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
    {
      config: { access: 'admin' },
      schema: { tags: ['admin'], summary: 'Remove a member from a portfolio', params: MemberParams, response: { 204: Type.Null(), ...common } },
    },
    async (request, reply) => {
      const { id, userId } = request.params;
      if (!(await auth.removePortfolioMember(id, userId))) throw new ApiError(404, 'not-found', `user ${userId} is not a member of portfolio "${id}"`);
      ctx.record(request, { action: 'portfolio.member.remove', target: id, outcome: 'ok', details: { userId } });
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
}
