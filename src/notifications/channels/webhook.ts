import { createHmac } from 'node:crypto';
import type { Notification } from '../notification.js';
import { postJson, type Channel } from './channel.js';

export interface WebhookOptions {
  readonly url: string;
  /**
   * Signs each body: `X-Troupe-Signature: sha256=<hex HMAC-SHA256 of the body>` with
   * `X-Troupe-Timestamp` (epoch ms) inside the signed text as `<timestamp>.<body>`, so a
   * receiver can refuse replays.
   */
  readonly secret?: string | undefined;
  readonly timeoutMs?: number;
}

/** Generic JSON webhook: `{ source: "troupe", ...notification }`. */
export function webhookChannel(options: WebhookOptions): Channel {
  return {
    name: 'webhook',
    async send(notification: Notification): Promise<void> {
      const body = JSON.stringify({ source: 'troupe', ...notification, at: new Date(notification.atMs).toISOString() });
      const headers: Record<string, string> = {};
      if (options.secret !== undefined) {
        const timestamp = String(Date.now());
        headers['x-troupe-timestamp'] = timestamp;
        headers['x-troupe-signature'] = `sha256=${createHmac('sha256', options.secret).update(`${timestamp}.${body}`).digest('hex')}`;
      }
      await postJson(options.url, body, headers, options.timeoutMs ?? 5_000);
    },
  };
}
