import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayInstance } from '../context.js';

/** True when `ui/dist` (or the given directory) holds a built dashboard. */
export function dashboardBuilt(uiDir: string): boolean {
  return existsSync(join(uiDir, 'index.html'));
}

const LINKS =
  '<ul>' +
  '<li><a style="color:#8cf" href="/api/v1/docs">/api/v1/docs</a> (API reference)</li>' +
  '<li><a style="color:#8cf" href="/api/v1/health">/api/v1/health</a></li>' +
  '<li><a style="color:#8cf" href="/metrics">/metrics</a></li></ul>';

/** The page `/` answers when the dashboard is not built: how to build it, and what works meanwhile. */
export const NO_DASHBOARD_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Troupe</title><body style="font-family:sans-serif;background:#111;color:#ddd">' +
  '<h1>Troupe</h1><p>Trading is running, but the dashboard is not built (<code>ui/dist</code> is missing).</p>' +
  '<p>Build it with <code>npm run build:ui</code> (or restart with <code>npm start</code>, which builds it when needed), then reload this page.</p>' +
  `<p>The API works meanwhile:</p>${LINKS}</body>`;

/** Paths the dashboard never owns: the API, metrics, and anything that looks like a file. */
function isDashboardRoute(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0] ?? '';
  if (path.startsWith('/api/') || path === '/api' || path === '/metrics') return false;
  return !/\.[A-Za-z0-9]+$/.test(path);
}

/**
 * Serves the dashboard from `uiDir` (`ui/dist`) at `/` with @fastify/static, and returns the
 * not-found fallback that answers `index.html` for its client-side routes (GET, not under
 * `/api/`, not a file). Without a build, `/` answers {@link NO_DASHBOARD_PAGE} (never a 500)
 * and there is no fallback. Public and not rate limited (the page loads many assets).
 */
export async function uiRoutes(app: GatewayInstance, uiDir: string): Promise<((request: FastifyRequest, reply: FastifyReply) => boolean) | undefined> {
  if (!dashboardBuilt(uiDir)) {
    app.get('/', { config: { access: 'public', rateLimit: false }, schema: { hide: true } }, (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(NO_DASHBOARD_PAGE),
    );
    return undefined;
  }
  await app.register(fastifyStatic, {
    root: uiDir,
    prefix: '/',
    index: ['index.html'],
    wildcard: true,
    decorateReply: true,
    // the build writes .br/.gz beside each asset (ui/scripts/build-ui.ts): served as the client accepts
    preCompressed: true,
    cacheControl: false,
    setHeaders: (reply, path) => {
      // Vite's assets carry a content hash in their names: cache them for good; the rest revalidates
      void reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (request, reply) => {
    if (!isDashboardRoute(request)) return false;
    void reply.header('cache-control', 'no-cache').sendFile('index.html', uiDir);
    return true;
  };
}
