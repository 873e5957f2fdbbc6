import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';

/** Stable machine codes of the error envelope. Clients switch on these, never on messages. */
export type ApiErrorCode =
  | 'invalid-request'
  | 'invalid-json'
  | 'unsupported-media-type'
  | 'payload-too-large'
  | 'invalid-cursor'
  | 'unauthenticated'
  | 'invalid-credentials'
  | 'totp-required'
  | 'invalid-token'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'risk-rejected'
  | 'rate-limited'
  | 'fault-injection-disabled'
  | 'not-implemented'
  | 'not-ready'
  | 'unavailable'
  | 'bad-request'
  | 'internal';

/** One field problem, from schema validation. */
export const ErrorDetail = Type.Object({
  in: Type.String({ description: 'body, querystring, params or headers' }),
  path: Type.String({ description: 'JSON pointer of the field, "" for the whole part' }),
  message: Type.String(),
});

/** The one error envelope every non-2xx JSON answer uses. */
export const ErrorEnvelope = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable machine code' }),
      message: Type.String(),
      details: Type.Optional(Type.Array(ErrorDetail)),
    }),
  },
  { $id: 'ErrorEnvelope' },
);
export type ErrorEnvelope = Static<typeof ErrorEnvelope>;

/** An error that becomes a 4xx/5xx envelope as is. Throw it from handlers. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: readonly Static<typeof ErrorDetail>[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Seconds a client is told to wait (`Retry-After`) when a store it needs is unavailable. */
export const UNAVAILABLE_RETRY_AFTER_SEC = 5;

/** 503 `unavailable` with `Retry-After`: a store the request needs cannot be reached now; nothing was done. */
export function unavailable(message: string): ApiError {
  return new ApiError(503, 'unavailable', message, undefined, { 'retry-after': String(UNAVAILABLE_RETRY_AFTER_SEC) });
}

/**
 * Whether `error` says that a store cannot be reached (rather than that the request or the code
 * is wrong). Store adapters mark such errors with `unavailable: true` (the database's
 * `DatabaseUnavailableError`); an error caused by one counts too. The gateway knows its stores
 * only through their ports, so it reads the mark, not the adapter's class.
 */
export function isStoreUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; cause = (cause as { cause?: unknown }).cause, depth += 1) {
    if ((cause as { unavailable?: unknown }).unavailable === true) return true;
  }
  return false;
}

/** Builds the envelope body. */
export function envelope(code: string, message: string, details?: readonly Static<typeof ErrorDetail>[]): ErrorEnvelope {
  return { error: { code, message, ...(details && details.length > 0 ? { details: [...details] } : {}) } };
}

const FASTIFY_CODES: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid-json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid-json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_TYPE: 'bad-request',
  FST_JWT_NO_AUTHORIZATION_IN_HEADER: 'unauthenticated',
  FST_JWT_AUTHORIZATION_TOKEN_INVALID: 'invalid-token',
  FST_JWT_AUTHORIZATION_TOKEN_EXPIRED: 'invalid-token',
  FST_JWT_BAD_REQUEST: 'invalid-token',
};

/** The code of a 4xx a plugin raised without one of its own (e.g. @fastify/static's 403 for a path it refuses). */
const STATUS_CODES: Readonly<Record<number, ApiErrorCode>> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
};

interface ValidationIssue {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** A validator's issue in plain words ("must not be empty", not "must NOT have fewer than 1 characters"). */
export function plainIssue(issue: ValidationIssue): string {
  const params = issue.params ?? {};
  const limit = typeof params.limit === 'number' ? params.limit : undefined;
  switch (issue.keyword) {
    case 'minLength':
      return limit === 1 ? 'must not be empty' : `must be at least ${limit ?? '?'} characters long`;
    case 'maxLength':
      return `must be at most ${limit ?? '?'} characters long`;
    case 'minimum':
      return `must be ${limit ?? '?'} or more`;
    case 'maximum':
      return `must be ${limit ?? '?'} or less`;
    case 'exclusiveMinimum':
      return `must be more than ${limit ?? '?'}`;
    case 'exclusiveMaximum':
      return `must be less than ${limit ?? '?'}`;
    case 'type':
      return `must be ${params.type === 'integer' ? 'a whole number' : params.type === 'number' ? 'a number' : params.type === 'boolean' ? 'true or false' : `of type ${String(params.type)}`}`;
    case 'enum':
      return Array.isArray(params.allowedValues) ? `must be one of ${params.allowedValues.map(String).join(', ')}` : 'is not one of the allowed values';
    case 'const':
      return `must be ${String(params.allowedValue)}`;
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'pattern':
      return typeof params.pattern === 'string' ? `is not in the expected format (${params.pattern})` : 'is not in the expected format';
    default:
      return issue.message ?? 'is invalid';
  }
}

function isFastifyError(error: unknown): error is FastifyError {
  return typeof error === 'object' && error !== null && 'message' in error;
}

/**
 * Installs the error and not-found handlers: validation failures are 400 with field
 * details, client errors keep their 4xx with a stable code, a store that cannot be reached
 * (auth lookups, API keys, history, audit: {@link isStoreUnavailable}) is 503 `unavailable`
 * with `Retry-After` on every route, anything else is a logged 500 `internal` whose message
 * reveals nothing. `fallback` may answer an unmatched request instead (true when it did): the
 * dashboard's single-page routes.
 */
export function installErrorHandling(
  app: FastifyInstance,
  options: { readonly fallback?: (request: FastifyRequest, reply: FastifyReply) => boolean } = {},
): void {
  // an outage fails every request that needs the store: say so in the log when it starts, not on each request
  let lastUnavailableLogMs = Number.NEGATIVE_INFINITY;
  let unavailableSinceLog = 0;
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    // the dashboard's client-side routes (e.g. /orders) answer its index.html
    if (options.fallback?.(request, reply)) return;
    void reply.code(404).send(envelope('not-found', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ApiError) {
      if (error.headers) void reply.headers(error.headers);
      return reply.code(error.statusCode).send(envelope(error.code, error.message, error.details));
    }
    if (isFastifyError(error) && Array.isArray(error.validation)) {
      const part = error.validationContext ?? 'request';
      const details = (error.validation as ValidationIssue[]).slice(0, 20).map((issue) => {
        const missing = typeof issue.params?.missingProperty === 'string' ? `/${issue.params.missingProperty}` : '';
        const extra = typeof issue.params?.additionalProperty === 'string' ? `/${issue.params.additionalProperty}` : '';
        return { in: part, path: `${issue.instancePath ?? ''}${missing}${extra}`, message: plainIssue(issue) };
      });
      const first = details[0];
      const message = first ? `${part}${first.path ? ` ${first.path}` : ''} ${first.message}` : `${part} is invalid`;
      return reply.code(400).send(envelope('invalid-request', message, details));
    }
    if (isStoreUnavailable(error)) {
      unavailableSinceLog += 1;
      const nowMs = Date.now();
      if (nowMs - lastUnavailableLogMs >= 10_000) {
        request.log.warn(
          { err: error, route: request.routeOptions.url, requests: unavailableSinceLog },
          'a store is unavailable: requests that need it are answered 503',
        );
        lastUnavailableLogMs = nowMs;
        unavailableSinceLog = 0;
      }
      const answer = unavailable('a store this request needs is unavailable; try again shortly');
      return reply
        .code(answer.statusCode)
        .headers(answer.headers ?? {})
        .send(envelope(answer.code, answer.message));
    }
    const status = isFastifyError(error) ? error.statusCode : undefined;
    if (isFastifyError(error) && status !== undefined && status >= 400 && status < 500) {
      const code = FASTIFY_CODES[error.code] ?? STATUS_CODES[status] ?? 'bad-request';
      return reply.code(status).send(envelope(code, error.message));
    }
    request.log.error({ err: error, route: request.routeOptions.url }, 'unexpected error in the gateway');
    return reply.code(500).send(envelope('internal', 'an unexpected error happened; it has been logged'));
  });
}
