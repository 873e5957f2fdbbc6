/**
 * Declaring routes: each route states only what is its own (who may call it, its summary,
 * schemas and answers, the errors only it gives); its group adds the OpenAPI tag, the error
 * answers every route of the group can give and, for a public route, that it needs no
 * credentials. Every error answer's body is the shared ErrorEnvelope (`errors.ts`).
 */
import type { FastifyContextConfig, FastifySchema } from 'fastify';
import type { Access, GatewayContext, GatewayInstance } from '../context.js';

/** The statuses the API's errors are answered with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 429 | 503;

/** What a logged-in, rate-limited route can answer, whatever it does: invalid request, unauthenticated, forbidden, rate limited. */
export const API_ERRORS = [400, 401, 403, 429] as const;

const errorEnvelope = { $ref: 'ErrorEnvelope#' } as const;
type ErrorAnswers<Status extends ErrorStatus> = { readonly [S in Status]: typeof errorEnvelope };

/** A route's own part of its declaration: its OpenAPI schema without its group's parts. */
export interface RouteSpec extends Omit<FastifySchema, 'tags' | 'security' | 'response'> {
  readonly summary: string;
  /** The answers with a body of their own (the successes, mostly), by status. */
  readonly response?: Readonly<Record<number, unknown>>;
  /** The errors only this route gives (e.g. 404), beyond its group's. */
  readonly errors?: readonly ErrorStatus[];
}

type OwnErrors<Spec extends RouteSpec> = Spec['errors'] extends readonly (infer Status extends ErrorStatus)[] ? Status : never;
type OwnAnswers<Spec extends RouteSpec> = Spec['response'] extends object ? Spec['response'] : unknown;
type Answers<Spec extends RouteSpec, GroupErrors extends ErrorStatus> = OwnAnswers<Spec> & ErrorAnswers<GroupErrors | OwnErrors<Spec>>;
/** The `response` of a schema: none when a route has no answer of any kind declared (as `/metrics`). */
type ResponsePart<A> = [keyof A] extends [never] ? unknown : { readonly response: A };

/** The options of a route as Fastify takes them: its config (who may call it) and its full schema. */
export interface RouteOptions<Spec extends RouteSpec, GroupErrors extends ErrorStatus> {
  readonly config: FastifyContextConfig;
  readonly schema: Omit<Spec, 'errors' | 'response'> & { readonly tags: readonly string[] } & ResponsePart<Answers<Spec, GroupErrors>>;
}

/** Who may call a route, with any further config of it (e.g. `{ access: 'public', rateLimit: false }`). */
export type RouteAccess = Access | (FastifyContextConfig & { readonly access: Access });

/**
 * The routes of one OpenAPI tag that share their error answers. The function it returns gives
 * the options of one of them, e.g.
 * `app.get(url, orderRoute('viewer', { summary, params: IdParams, response: { 200: OrderSchema }, errors: [404] }), handler)`.
 */
export function routeGroup<const GroupErrors extends ErrorStatus = never>(tag: string, groupErrors: readonly GroupErrors[] = []) {
  return <const Spec extends RouteSpec>(access: RouteAccess, spec: Spec): RouteOptions<Spec, GroupErrors> => {
    const config = typeof access === 'string' ? { access } : access;
    const { errors = [], response, ...schema } = spec;
    const answers: Record<number, unknown> = { ...response };
    for (const status of [...groupErrors, ...errors]) answers[status] = errorEnvelope;
    const security = config.access === 'public' ? { security: [] } : {};
    const fullSchema = { tags: [tag], ...security, ...schema, ...(Object.keys(answers).length === 0 ? {} : { response: answers }) };
    return { config, schema: fullSchema } as RouteOptions<Spec, GroupErrors>;
  };
}

/** Declares one topic's routes of a module (e.g. the sessions of `auth.routes.ts`). */
export type RoutePart = (app: GatewayInstance, ctx: GatewayContext) => void;

/** A module's routes, as the gateway registers them: each part declares its own, in order. */
export function routesOf(...parts: readonly RoutePart[]): (app: GatewayInstance, ctx: GatewayContext) => Promise<void> {
  return (app, ctx) => {
    for (const part of parts) part(app, ctx);
    return Promise.resolve();
  };
}
