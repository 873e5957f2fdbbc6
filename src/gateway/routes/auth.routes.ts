import { Type } from 'typebox';
import { AuthError } from '../auth/auth-service.js';
import type { ApiKeyRecord, User } from '../../persistence/auth-store.types.js';
import type { Principal } from '../auth/auth-service.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';
import {
  ApiKeySchema,
  ChangePasswordBody,
  CreateApiKeyBody,
  CreateUserBody,
  IdParams,
  LoginBody,
  RefreshBody,
  ResetPasswordBody,
  TokenPairSchema,
  TotpCodeBody,
  TotpEnrollment,
  UserSchema,
} from '../schemas.js';
import { routeGroup, routesOf } from './declare-routes.js';

/** What every auth and user-administration route can answer: invalid request, unauthenticated, forbidden. */
const AUTH_ERRORS = [400, 401, 403] as const;
const authRoute = routeGroup('auth', AUTH_ERRORS);
const adminRoute = routeGroup('admin', AUTH_ERRORS);

function keyView(key: ApiKeyRecord) {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    ownerUserId: key.ownerUserId,
    createdAtMs: key.createdAtMs,
    lastUsedAtMs: key.lastUsedAtMs ?? null,
    revokedAtMs: key.revokedAtMs ?? null,
    rateLimitPerMinute: key.rateLimitPerMinute === undefined ? ('role-default' as const) : key.rateLimitPerMinute,
  };
}

/** A password the policy refuses: 400 naming the field. */
function weakPassword(path: string, error: AuthError): ApiError {
  return new ApiError(400, 'invalid-request', `body ${path}: ${error.message}`, [{ in: 'body', path, message: error.message }]);
}

function userView({ id, username, role, createdAtMs, disabled, totpEnabled }: User) {
  return { id, username, role, createdAtMs, disabled, totpEnabled };
}

/** `/api/v1/auth/*` (login, refresh, logout, password, TOTP), `/api/v1/users`, `/api/v1/api-keys`. */
export const authRoutes = routesOf(sessionRoutes, accountRoutes, totpRoutes, userRoutes, apiKeyRoutes);

/** Sessions: login, refresh, logout (here or everywhere). */
function sessionRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { auth } = ctx;

  app.post(
    '/api/v1/auth/login',
    authRoute(
      { access: 'public', credential: 'login' },
      {
        summary: 'Log in: a short-lived access token and a refresh token',
        description: 'Users with two-factor login also send totpCode; without it the answer is 401 totp-required (only after the password matched).',
        body: LoginBody,
        response: { 200: TokenPairSchema },
      },
    ),
    async (request) => {
      try {
        const { user, tokens } = await auth.login(request.body.username, request.body.password, request.body.totpCode);
        ctx.runtime.metrics.logins.inc({ outcome: 'ok' });
        ctx.record(request, { actor: `user:${user.username}`, action: 'auth.login', outcome: 'ok' });
        return tokens;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        ctx.runtime.metrics.logins.inc({ outcome: 'failed' });
        const totp = error.code === 'totp-required' ? 'missing' : request.body.totpCode === undefined ? undefined : 'checked';
        ctx.record(request, {
          actor: `user:${request.body.username}`,
          action: 'auth.login',
          outcome: 'failed',
          ...(totp === undefined ? {} : { details: { totp } }),
        });
        throw new ApiError(401, error.code === 'totp-required' ? 'totp-required' : 'invalid-credentials', error.message);
      }
    },
  );

  app.post(
    '/api/v1/auth/refresh',
    authRoute(
      { access: 'public', credential: 'refresh' },
      { summary: 'Rotate a refresh token: a new pair; the old refresh token stops working', body: RefreshBody, response: { 200: TokenPairSchema } },
    ),
    async (request) => {
      try {
        const { user, tokens } = await auth.refresh(request.body.refreshToken);
        ctx.record(request, { actor: `user:${user.username}`, action: 'auth.refresh', outcome: 'ok' });
        return tokens;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        ctx.record(request, { action: 'auth.refresh', outcome: 'failed', details: { reason: error.message } });
        throw new ApiError(401, 'invalid-token', error.message);
      }
    },
  );

  app.post(
    '/api/v1/auth/logout',
    authRoute('public', { summary: 'Revoke a refresh token (and the tokens rotated from the same login)', body: RefreshBody, response: { 204: Type.Null() } }),
    async (request, reply) => {
      const user = await auth.logout(request.body.refreshToken);
      ctx.record(request, { actor: user ? `user:${user.username}` : 'anonymous', action: 'auth.logout', outcome: user ? 'ok' : 'failed' });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/logout-all',
    authRoute('viewer', {
      summary: 'Log out everywhere: every refresh token and every access token of yours stops working',
      response: { 200: Type.Object({ revokedSessions: Type.Integer() }) },
    }),
    async (request) => {
      const principal = request.principal;
      if (!principal || principal.kind !== 'user')
        throw new ApiError(403, 'forbidden', 'logging out everywhere is for a logged-in user, not an API key (revoke the key instead)');
      const revokedSessions = await auth.logoutAll(principal.userId);
      ctx.record(request, { action: 'auth.logout-all', target: principal.name, outcome: 'ok', details: { revokedSessions } });
      return { revokedSessions };
    },
  );
}

/** The caller's own account: who am I, change your own password. */
function accountRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { auth } = ctx;

  app.get(
    '/api/v1/auth/me',
    authRoute('viewer', { summary: 'Who the caller is', response: { 200: Type.Object({ name: Type.String(), role: Type.String(), kind: Type.String() }) } }),
    (request) => {
      const principal = request.principal!;
      return { name: principal.name, role: principal.role, kind: principal.kind };
    },
  );

  app.post(
    '/api/v1/auth/password',
    authRoute(
      { access: 'viewer', credential: 'password' },
      {
        summary: 'Change your own password (the current one is required); every other session ends and a fresh token pair is returned',
        body: ChangePasswordBody,
        response: { 200: TokenPairSchema },
      },
    ),
    async (request) => {
      const principal = request.principal;
      if (!principal || principal.kind !== 'user') throw new ApiError(403, 'forbidden', 'a password is changed by its logged-in user, not by an API key');
      try {
        const { tokens } = await auth.changePassword(principal.userId, request.body.currentPassword, request.body.newPassword);
        ctx.record(request, { action: 'user.password.change', target: principal.name, outcome: 'ok' });
        return tokens;
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        ctx.record(request, { action: 'user.password.change', target: principal.name, outcome: 'failed', details: { reason: error.message } });
        if (error.code === 'invalid-credentials')
          throw new ApiError(400, 'invalid-request', 'body /currentPassword is wrong', [{ in: 'body', path: '/currentPassword', message: 'is wrong' }]);
        if (error.code === 'weak-password') throw weakPassword('/newPassword', error);
        throw new ApiError(401, 'invalid-token', error.message);
      }
    },
  );
}

/** Two-factor login (TOTP) of the logged-in user: enroll, confirm, disable. */
function totpRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { auth } = ctx;

  const loggedInUser = (principal: Principal | null): Principal => {
    if (!principal || principal.kind !== 'user') throw new ApiError(403, 'forbidden', 'two-factor login is managed by a logged-in user, not by an API key');
    return principal;
  };
  const totpFailure = (error: unknown): never => {
    if (!(error instanceof AuthError)) throw error;
    if (error.code === 'conflict') throw new ApiError(409, 'conflict', error.message);
    if (error.code === 'invalid-credentials')
      throw new ApiError(400, 'invalid-request', error.message, [{ in: 'body', path: '/code', message: 'is wrong or was already used' }]);
    throw new ApiError(401, 'invalid-token', error.message);
  };

  app.post(
    '/api/v1/auth/totp/enroll',
    authRoute(
      { access: 'viewer', credential: 'totp' },
      {
        summary: 'Start two-factor login (TOTP): a new secret and otpauth URI, shown once; confirm with a code to enable',
        response: { 200: TotpEnrollment },
        errors: [409],
      },
    ),
    async (request) => {
      const principal = loggedInUser(request.principal);
      try {
        const enrollment = await auth.enrollTotp(principal.userId);
        ctx.record(request, { action: 'auth.totp.enroll', target: principal.name, outcome: 'ok' });
        return { ...enrollment, confirmWith: 'POST /api/v1/auth/totp/confirm { "code": "123456" }' };
      } catch (error) {
        ctx.record(request, { action: 'auth.totp.enroll', target: principal.name, outcome: 'failed' });
        return totpFailure(error);
      }
    },
  );

  for (const step of ['confirm', 'disable'] as const) {
    app.post(
      `/api/v1/auth/totp/${step}`,
      authRoute(
        { access: 'viewer', credential: 'totp' },
        {
          summary: step === 'confirm' ? 'Enable two-factor login with a code from the enrolled secret' : 'Disable two-factor login (needs a current code)',
          body: TotpCodeBody,
          response: { 200: Type.Object({ totpEnabled: Type.Boolean() }) },
          errors: [409],
        },
      ),
      async (request) => {
        const principal = loggedInUser(request.principal);
        try {
          if (step === 'confirm') await auth.confirmTotp(principal.userId, request.body.code);
          else await auth.disableTotp(principal.userId, request.body.code);
          ctx.record(request, { action: `auth.totp.${step}`, target: principal.name, outcome: 'ok' });
          return { totpEnabled: step === 'confirm' };
        } catch (error) {
          ctx.record(request, { action: `auth.totp.${step}`, target: principal.name, outcome: 'failed' });
          return totpFailure(error);
        }
      },
    );
  }
}

/** User administration (admins): list, create, disable/enable, reset password, delete. */
function userRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { auth } = ctx;

  app.get('/api/v1/users', adminRoute('admin', { summary: 'Users', response: { 200: Type.Object({ items: Type.Array(UserSchema) }) } }), async () => ({
    items: (await auth.store.listUsers()).map(userView),
  }));

  app.post(
    '/api/v1/users',
    adminRoute('admin', { summary: 'Create a user', body: CreateUserBody, response: { 201: UserSchema }, errors: [409] }),
    async (request, reply) => {
      if (await auth.store.userByName(request.body.username)) throw new ApiError(409, 'conflict', `user "${request.body.username}" exists`);
      let user: User;
      try {
        user = await auth.createUser(request.body.username, request.body.password, request.body.role);
      } catch (error) {
        if (error instanceof AuthError && error.code === 'weak-password') throw weakPassword('/password', error);
        throw error;
      }
      ctx.record(request, { action: 'user.create', target: user.username, outcome: 'ok', details: { role: user.role } });
      return reply.code(201).send(userView(user));
    },
  );

  const userOr404 = async (id: string): Promise<User> => {
    const user = await auth.store.userById(id);
    if (!user) throw new ApiError(404, 'not-found', `no user ${id}`);
    return user;
  };

  for (const action of ['disable', 'enable'] as const) {
    app.post(
      `/api/v1/users/:id/${action}`,
      adminRoute('admin', {
        summary:
          action === 'disable'
            ? 'Disable a user: no login; their refresh tokens are revoked; their access tokens and API keys stop working'
            : 'Enable a disabled user (they log in again; revoked sessions stay revoked)',
        params: IdParams,
        response: { 200: UserSchema },
        errors: [404, 409],
      }),
      async (request) => {
        const user = await userOr404(request.params.id);
        if (action === 'disable' && request.principal?.kind === 'user' && request.principal.userId === user.id) {
          ctx.record(request, { action: 'user.disable', target: user.username, outcome: 'denied', details: { reason: 'self' } });
          throw new ApiError(409, 'conflict', 'you cannot disable yourself; ask another admin');
        }
        const { revokedSessions } = await auth.setDisabled(user.id, action === 'disable');
        // their open streams (by access token or by any of their API keys) end now, with the reason
        const closedStreams =
          action === 'disable'
            ? ctx.hub.disconnectWhere((principal) => principal.userId === user.id, `user-disabled: ${user.username} was disabled by an admin`)
            : 0;
        ctx.record(request, {
          action: `user.${action}`,
          target: user.username,
          outcome: 'ok',
          ...(action === 'disable' ? { details: { revokedSessions, closedStreams } } : {}),
        });
        return userView(await userOr404(user.id));
      },
    );
  }

  app.post(
    '/api/v1/users/:id/password',
    adminRoute('admin', {
      summary: "Reset a user's password; every session of theirs ends (refresh tokens revoked)",
      params: IdParams,
      body: ResetPasswordBody,
      response: { 204: Type.Null() },
      errors: [404],
    }),
    async (request, reply) => {
      const user = await userOr404(request.params.id);
      let revokedSessions: number;
      try {
        ({ revokedSessions } = await auth.resetPassword(user.id, request.body.password));
      } catch (error) {
        if (error instanceof AuthError && error.code === 'weak-password') throw weakPassword('/password', error);
        throw error;
      }
      ctx.record(request, { action: 'user.password.reset', target: user.username, outcome: 'ok', details: { revokedSessions } });
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/users/:id',
    adminRoute('admin', {
      summary: 'Delete a user: their sessions, API keys and portfolio memberships go too; their access tokens stop working at once',
      params: IdParams,
      response: { 204: Type.Null() },
      errors: [404, 409],
    }),
    async (request, reply) => {
      const user = await userOr404(request.params.id);
      if (request.principal?.userId === user.id) {
        ctx.record(request, { action: 'user.delete', target: user.username, outcome: 'denied', details: { reason: 'self' } });
        throw new ApiError(409, 'conflict', 'you cannot delete yourself; ask another admin');
      }
      await auth.deleteUser(user.id);
      const closedStreams = ctx.hub.disconnectWhere((principal) => principal.userId === user.id, `user-deleted: ${user.username} was deleted by an admin`);
      ctx.record(request, { action: 'user.delete', target: user.username, outcome: 'ok', details: { closedStreams } });
      return reply.code(204).send(null);
    },
  );
}

/** API keys: list, create, revoke. */
function apiKeyRoutes(app: GatewayInstance, ctx: GatewayContext): void {
  const { auth } = ctx;

  app.get(
    '/api/v1/api-keys',
    authRoute('viewer', { summary: 'API keys: your own (admins: all)', response: { 200: Type.Object({ items: Type.Array(ApiKeySchema) }) } }),
    async (request) => {
      const principal = request.principal!;
      const keys = await auth.store.listApiKeys(principal.role === 'admin' ? undefined : principal.userId);
      return { items: keys.map(keyView) };
    },
  );

  app.post(
    '/api/v1/api-keys',
    authRoute('viewer', {
      summary: 'Create an API key (the key is shown once; send it as X-API-Key)',
      body: CreateApiKeyBody,
      response: { 201: Type.Object({ key: Type.String({ description: 'shown only now' }), apiKey: ApiKeySchema }) },
      errors: [409],
    }),
    async (request, reply) => {
      const principal = request.principal!;
      if (principal.kind !== 'user') throw new ApiError(403, 'forbidden', 'API keys are created by a logged-in user, not by another key');
      try {
        const { record, key } = await auth.createApiKey(principal, request.body);
        ctx.record(request, { action: 'api-key.create', target: record.id, outcome: 'ok', details: { name: record.name, role: record.role } });
        return reply.code(201).send({ key, apiKey: keyView(record) });
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        ctx.record(request, { action: 'api-key.create', outcome: 'denied', details: { reason: error.message } });
        if (error.code === 'conflict') throw new ApiError(409, 'conflict', error.message);
        throw new ApiError(403, 'forbidden', error.message);
      }
    },
  );

  app.delete(
    '/api/v1/api-keys/:id',
    authRoute('viewer', { summary: 'Revoke an API key (yours; admins: any)', params: IdParams, response: { 204: Type.Null() }, errors: [404] }),
    async (request, reply) => {
      const principal = request.principal!;
      const key = await auth.store.apiKeyById(request.params.id);
      if (!key || (principal.role !== 'admin' && key.ownerUserId !== principal.userId)) throw new ApiError(404, 'not-found', `no API key ${request.params.id}`);
      await auth.revokeApiKey(key.id);
      const closedStreams = ctx.hub.disconnectWhere(
        (streamPrincipal) => streamPrincipal.apiKeyId === key.id,
        `api-key-revoked: the API key ${key.name} was revoked`,
      );
      ctx.record(request, { action: 'api-key.revoke', target: key.id, outcome: 'ok', details: { name: key.name, closedStreams } });
      return reply.code(204).send(null);
    },
  );
}
