import { readFileSync } from 'node:fs';
import { Counter, type Registry } from 'prom-client';
import type { NotificationsConfig } from '../config/notifications.js';
import type { Logger } from '../observability/logger.js';
import type { Channel } from './channels/channel.js';
import { redact } from './channels/channel.js';
import { emailChannel } from './channels/email.js';
import { telegramChannel } from './channels/telegram.js';
import { webhookChannel } from './channels/webhook.js';
import type { ChannelFilter } from '../config/notifications.js';
import { Notifier, type ChannelRoute } from './notifier.js';

const route = (channel: Channel, filter: ChannelFilter): ChannelRoute => ({
  channel,
  kinds: new Set(filter.kinds),
  minSeverity: filter.minSeverity,
  rate: { count: filter.perMinute, perMs: 60_000 },
});

/**
 * The notifier for the configured channels (undefined when none is), counting every outcome in
 * `troupe_notifications_total{channel,kind,outcome}` on `registry`.
 */
export function notifierFromConfig(config: NotificationsConfig, options: { readonly log: Logger; readonly registry?: Registry }): Notifier | undefined {
  const routes: ChannelRoute[] = [];
  if (config.webhook) routes.push(route(webhookChannel({ url: config.webhook.url, secret: config.webhook.secret }), config.webhook));
  if (config.telegram)
    routes.push(
      route(telegramChannel({ botToken: config.telegram.botToken, chatId: config.telegram.chatId, apiBase: config.telegram.apiBase }), config.telegram),
    );
  if (config.email) {
    const ca = config.email.caFile === undefined ? undefined : readFileSync(config.email.caFile, 'utf8');
    routes.push(route(emailChannel({ url: config.email.smtpUrl, ca, from: config.email.from, to: config.email.to }), config.email));
  }
  if (routes.length === 0) return undefined;
  const counter = options.registry
    ? new Counter({
        name: 'troupe_notifications_total',
        help: 'Notifications by channel, kind and outcome (sent, failed, held-back by the rate limit, dropped from a full queue)',
        labelNames: ['channel', 'kind', 'outcome'] as const,
        registers: [options.registry],
      })
    : undefined;
  options.log.info(
    {
      channels: routes.map((r) => ({ channel: r.channel.name, kinds: [...r.kinds], minSeverity: r.minSeverity, perMinute: r.rate.count })),
      ...(config.webhook ? { webhook: redact(config.webhook.url) } : {}),
      ...(config.email ? { smtp: redact(config.email.smtpUrl) } : {}),
    },
    'notifications on',
  );
  return new Notifier({ routes, log: options.log, onOutcome: (channel, kind, outcome) => counter?.inc({ channel, kind, outcome }) });
}
