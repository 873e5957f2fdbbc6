import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import { AuthError, type Principal } from '../auth/auth-service.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { CLOSE_CODES } from './protocol.js';

/** How long an unauthenticated socket may wait before its `auth` message. */
const AUTH_TIMEOUT_MS = 5_000;

/**
 * `GET /api/v1/stream` (WebSocket). Authenticated by `?token=` (access token or API key)
 * or by a first message `{ "type": "auth", "token": "…" }`; then handed to the hub.
 */
export function streamRoute(app: GatewayInstance, ctx: GatewayContext): Promise<void> {
  const authenticate = async (token: string): Promise<Principal> =>
    token.startsWith('trp_') ? ctx.auth.principalFromApiKey(token) : ctx.auth.principalFromAccessToken(token);

  app.get(
    '/api/v1/stream',
    {
      websocket: true,
      config: { access: 'public' },
      schema: {
        tags: ['stream'],
        summary: 'WebSocket stream (see src/gateway/stream/protocol.ts): topics orders, positions, pnl, risk-alerts, actors, quotes:<SYMBOL>',
        querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 4096 })) }),
      },
    },
    (socket: WebSocket, request) => {
      const refuse = (message: string): void => {
        ctx.record(request, { action: 'stream.connect', outcome: 'denied', details: { reason: message } });
        socket.close(CLOSE_CODES.unauthenticated, message.slice(0, 120));
      };
      const accept = (principal: Principal): void => {
        ctx.hub.attach(socket, principal);
      };
      const token = request.query.token ?? (request.principal ? undefined : undefined);
      if (request.principal) return accept(request.principal);
      if (token !== undefined) {
        authenticate(token).then(accept, (error: unknown) => refuse(error instanceof AuthError ? error.message : 'authentication failed'));
        return;
      }
      const timer = setTimeout(() => refuse('no auth message within 5 s'), AUTH_TIMEOUT_MS);
      timer.unref();
      socket.once('message', (data: Buffer) => {
        clearTimeout(timer);
        let message: { type?: unknown; token?: unknown } | undefined;
        try {
          message = JSON.parse(data.toString('utf8')) as { type?: unknown; token?: unknown };
        } catch {
          message = undefined;
        }
        if (message?.type !== 'auth' || typeof message.token !== 'string') return refuse('the first message must be {"type":"auth","token":"…"}');
        authenticate(message.token).then(accept, (error: unknown) => refuse(error instanceof AuthError ? error.message : 'authentication failed'));
      });
    },
  );
  return Promise.resolve();
}
