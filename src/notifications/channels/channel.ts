import type { Notification } from '../notification.js';

/** Why a delivery failed, and whether trying again later may help. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** False for a refusal that will not change (bad token, unknown chat, 4xx). */
    readonly retryable: boolean,
    /** How long the endpoint asked us to wait (Telegram's `retry_after`, HTTP `Retry-After`). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One way of telling people: it sends one notification, or throws a {@link DeliveryError}. */
export interface Channel {
  /** `webhook`, `telegram`, `email`: the metric label and the log's name for it. */
  readonly name: string;
  send(notification: Notification): Promise<void>;
}

/** A `Retry-After` header (seconds or an HTTP date) in ms, if usable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** POSTs JSON; 2xx is success, 429 and 5xx are retryable, other statuses are not. */
export async function postJson(url: string, body: unknown, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new DeliveryError(`POST ${redact(url)} failed: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  if (response.ok) return response;
  const text = (await response.text().catch(() => '')).slice(0, 300);
  const retryable = response.status === 429 || response.status >= 500;
  throw new DeliveryError(
    `POST ${redact(url)} answered ${response.status}${text ? `: ${text}` : ''}`,
    retryable,
    retryAfterMs(response.headers.get('retry-after'), Date.now()),
  );
}

/** A URL without credentials or a Telegram bot token, for logs and errors. */
export function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').replace(/\/bot[^/]+\//, '/bot***/');
}
