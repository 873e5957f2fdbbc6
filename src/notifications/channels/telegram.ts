import type { Notification } from '../notification.js';
import { DeliveryError, postJson, type Channel } from './channel.js';

export interface TelegramOptions {
  readonly botToken: string;
  readonly chatId: string;
  /** The Bot API's base URL (default https://api.telegram.org; a local fake in tests). */
  readonly apiBase?: string;
  readonly timeoutMs?: number;
}

const ICON = { info: 'ℹ️', warning: '⚠️', critical: '🛑' } as const;

/** Escapes text for Telegram's HTML parse mode (only &, < and > are special). */
function html(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Telegram bot: `sendMessage` to one chat, HTML parse mode, title in bold. */
export function telegramChannel(options: TelegramOptions): Channel {
  const url = `${(options.apiBase ?? 'https://api.telegram.org').replace(/\/$/, '')}/bot${options.botToken}/sendMessage`;
  return {
    name: 'telegram',
    async send(notification: Notification): Promise<void> {
      const text = `${ICON[notification.severity]} <b>${html(notification.title)}</b>\n${html(notification.text)}`;
      try {
        const response = await postJson(
          url,
          { chat_id: options.chatId, text, parse_mode: 'HTML', disable_web_page_preview: true },
          {},
          options.timeoutMs ?? 5_000,
        );
        const answer = (await response.json().catch(() => undefined)) as { ok?: unknown } | undefined;
        if (answer?.ok !== true) throw new DeliveryError('Telegram answered without "ok": true', true);
      } catch (error) {
        // the Bot API says how long to wait in its JSON body (parameters.retry_after, seconds)
        if (error instanceof DeliveryError && error.retryAfterMs === undefined) {
          const match = /"retry_after"\s*:\s*(\d+)/.exec(error.message);
          if (match) throw new DeliveryError(error.message, true, Number(match[1]) * 1000);
        }
        throw error;
      }
    },
  };
}
