import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { summarisePortfolio } from '../model/index.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * The minimal HTTP surface of the core runtime: liveness and readiness, Prometheus
 * metrics, the actor tree and the portfolio. The full gateway (auth, REST, WebSocket)
 * builds on the same runtime handles.
 */
export interface StatusServerOptions {
  readonly runtime: Runtime;
  readonly startedAtMs: number;
  /** Whether `POST /api/v1/actors/fault` may crash actors. */
  readonly allowFaultInjection?: boolean;
  /** Whether market data is flowing (the feed reports it). */
  readonly feedState: () => { readonly connected: boolean; readonly lastTickAgeMs: number | undefined };
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}

export function buildStatusServer(options: StatusServerOptions): Server {
  const { runtime } = options;
  const routes = new Map<string, Handler>();
  routes.set('/api/v1/health', (_request, response) => {
    const feed = options.feedState();
    const actors = runtime.system.health();
    const down = flatten(actors).filter((actor) => actor.status !== 'running');
    const ready = feed.connected && down.length === 0;
    json(response, ready ? 200 : 503, {
      status: ready ? 'ok' : 'degraded',
      uptimeSec: Math.round((Date.now() - options.startedAtMs) / 1000),
      checks: {
        marketData: { ok: feed.connected, lastTickAgeMs: feed.lastTickAgeMs ?? null },
        actors: { ok: down.length === 0, notRunning: down.map((actor) => actor.path) },
      },
    });
  });
  routes.set('/metrics', async (_request, response) => {
    const text = await runtime.metrics.text();
    response.writeHead(200, { 'content-type': runtime.metrics.contentType });
    response.end(text);
  });
  routes.set('/api/v1/actors', (_request, response) => {
    json(response, 200, { deadLetters: runtime.system.deadLetters, tree: runtime.system.health() });
  });
  routes.set('/api/v1/positions', (_request, response) => {
    const state = runtime.portfolio();
    if (!state) return json(response, 503, { error: { code: 'not-ready', message: 'the portfolio has not started yet' } });
    json(response, 200, { portfolioId: state.portfolioId, summary: summarisePortfolio(state), positions: Object.values(state.positions) });
  });
  routes.set('/', (_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      '<!doctype html><meta charset="utf-8"><title>Troupe</title><body style="font-family:sans-serif;background:#111;color:#ddd">' +
        '<h1>Troupe</h1><p>Paper trading is running.</p><ul>' +
        '<li><a style="color:#8cf" href="/api/v1/health">/api/v1/health</a></li>' +
        '<li><a style="color:#8cf" href="/api/v1/positions">/api/v1/positions</a></li>' +
        '<li><a style="color:#8cf" href="/api/v1/actors">/api/v1/actors</a></li>' +
        '<li><a style="color:#8cf" href="/metrics">/metrics</a></li></ul></body>',
    );
  });

  const faultRoute = (request: IncomingMessage, response: ServerResponse): void => {
    if (!options.allowFaultInjection) {
      return json(response, 403, { error: { code: 'fault-injection-disabled', message: 'set TROUPE_ALLOW_FAULT_INJECTION=true to crash actors on purpose' } });
    }
    const target = new URL(request.url ?? '/', 'http://localhost').searchParams.get('path');
    if (!target) return json(response, 400, { error: { code: 'missing-path', message: 'give the actor path, e.g. ?path=/market/INFY' } });
    const known = flatten(runtime.system.health()).some((actor) => actor.path === target);
    if (!known) return json(response, 404, { error: { code: 'unknown-actor', message: `no actor at ${target}` } });
    runtime.system.injectFault(target, 'fault injected through the API');
    json(response, 202, { injected: target });
  };

  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const handler = routes.get(path);
    if (path === '/api/v1/actors/fault' && request.method === 'POST') return faultRoute(request, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return json(response, 405, { error: { code: 'method-not-allowed', message: `${request.method ?? ''} is not allowed on ${path}` } });
    }
    if (!handler) return json(response, 404, { error: { code: 'not-found', message: `no route ${path}` } });
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      json(response, 500, { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } });
    });
  });
}

function flatten<T extends { children: readonly T[] }>(nodes: readonly T[], into: T[] = []): T[] {
  for (const node of nodes) {
    into.push(node);
    flatten(node.children, into);
  }
  return into;
}

/** Listens and resolves with the bound port. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
