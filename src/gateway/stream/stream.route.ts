import type { WebSocket } from 'ws';
import { Type } from 'typebox';
import { AuthError, type Principal } from '../auth/auth-service.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { CLOSE_CODES } from './protocol.js';

/** How long an unauthenticated socket may wait before its `auth` message. */
const AUTH_TIMEOUT_MS = 5_000;
/** Messages kept while a connection is being authenticated (beyond: dropped). */
const MAX_PENDING_MESSAGES = 16;

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
      // what the client sends while its token is being checked (a subscribe right after connecting) waits for the hub
      const pending: string[] = [];
      const hold = (data: Buffer): void => {
        if (pending.length < MAX_PENDING_MESSAGES) pending.push(data.toString('utf8'));
      };
      const refuse = (message: string): void => {
        socket.off('message', hold);
        ctx.record(request, { action: 'stream.connect', outcome: 'denied', details: { reason: message } });
        socket.close(CLOSE_CODES.unauthenticated, message.slice(0, 120));
      };
      const accept = (principal: Principal): void => {
        socket.off('message', hold);
        if (socket.readyState !== socket.OPEN) return;
        ctx.hub.attach(socket, principal, pending);
      };
      const token = request.query.token;
      if (request.principal) return accept(request.principal);
      if (token !== undefined) {
        socket.on('message', hold);
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
        socket.on('message', hold);
        authenticate(message.token).then(accept, (error: unknown) => refuse(error instanceof AuthError ? error.message : 'authentication failed'));
      });
    },
  );
  return Promise.resolve();
}
