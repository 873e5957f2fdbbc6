/**
 * Notification channels from the environment (`src/config` alone reads it). A channel is on
 * when its address is set; each takes the kinds it wants, a minimum severity and a rate:
 *
 * | channel | on when | defaults |
 * |---|---|---|
 * | webhook | `TROUPE_NOTIFY_WEBHOOK_URL` (+ `TROUPE_NOTIFY_WEBHOOK_SECRET` signs bodies) | every kind, info and up, 60/min |
 * | telegram | `TROUPE_NOTIFY_TELEGRAM_BOT_TOKEN` and `TROUPE_NOTIFY_TELEGRAM_CHAT_ID` (`TROUPE_NOTIFY_TELEGRAM_API` for another Bot API server) | all but restarts, info and up, 20/min |
 * | email | `TROUPE_NOTIFY_SMTP_URL`, `TROUPE_NOTIFY_EMAIL_FROM`, `TROUPE_NOTIFY_EMAIL_TO` (comma list; `TROUPE_NOTIFY_SMTP_CA_FILE` trusts a private CA) | halts, square-offs, risk, compliance; warning and up, 6/min |
 *
 * Per channel (`WEBHOOK`, `TELEGRAM`, `EMAIL`): `TROUPE_NOTIFY_<CHANNEL>_EVENTS` (comma list of
 * fill, rejection, halt, risk, square-off, restart, compliance), `…_MIN_SEVERITY` (info,
 * warning, critical), `…_PER_MINUTE` (1–600).
 */
import type { RiskSeverity as Severity } from '../model/events.js';
import { ConfigError } from './errors.js';

/** The kinds of notification a channel can subscribe to (`src/notifications` makes them from domain events). */
export const NOTIFICATION_KINDS = ['fill', 'rejection', 'halt', 'risk', 'square-off', 'restart', 'compliance'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

type Env = Readonly<Record<string, string | undefined>>;

export interface ChannelFilter {
  readonly kinds: readonly NotificationKind[];
  readonly minSeverity: Severity;
  readonly perMinute: number;
}

export interface NotificationsConfig {
  readonly webhook?: ChannelFilter & { readonly url: string; readonly secret: string | undefined };
  readonly telegram?: ChannelFilter & { readonly botToken: string; readonly chatId: string; readonly apiBase: string };
  readonly email?: ChannelFilter & { readonly smtpUrl: string; readonly from: string; readonly to: readonly string[]; readonly caFile: string | undefined };
}

const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];
const text = (env: Env, name: string): string | undefined => (env[name] === undefined || env[name]?.trim() === '' ? undefined : env[name].trim());

function address(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a URL');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  return raw;
}

function filter(env: Env, channel: string, defaults: ChannelFilter): ChannelFilter {
  const prefix = `TROUPE_NOTIFY_${channel}`;
  const events = text(env, `${prefix}_EVENTS`);
  let kinds = defaults.kinds;
  if (events !== undefined) {
    const asked = events
      .split(',')
      .map((kind) => kind.trim())
      .filter(Boolean);
    const unknown = asked.filter((kind) => !(NOTIFICATION_KINDS as readonly string[]).includes(kind));
    if (unknown.length > 0 || asked.length === 0)
      throw new ConfigError(`${prefix}_EVENTS`, `must list some of ${NOTIFICATION_KINDS.join(', ')}; unknown: ${unknown.join(', ') || '(empty)'}`);
    kinds = asked as NotificationKind[];
  }
  const severity = text(env, `${prefix}_MIN_SEVERITY`) ?? defaults.minSeverity;
  if (!(SEVERITIES as readonly string[]).includes(severity))
    throw new ConfigError(`${prefix}_MIN_SEVERITY`, `must be one of ${SEVERITIES.join(', ')}, got "${severity}"`);
  const rawRate = text(env, `${prefix}_PER_MINUTE`);
  const perMinute = rawRate === undefined ? defaults.perMinute : Number(rawRate);
  if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > 600)
    throw new ConfigError(`${prefix}_PER_MINUTE`, `must be an integer from 1 to 600, got "${rawRate}"`);
  return { kinds, minSeverity: severity as Severity, perMinute };
}

export function notificationsConfig(env: Env): NotificationsConfig {
  const config: { -readonly [K in keyof NotificationsConfig]: NotificationsConfig[K] } = {};
  const webhookUrl = address(env, 'TROUPE_NOTIFY_WEBHOOK_URL', ['http:', 'https:']);
  if (webhookUrl !== undefined) {
    config.webhook = {
      url: webhookUrl,
      secret: text(env, 'TROUPE_NOTIFY_WEBHOOK_SECRET'),
      ...filter(env, 'WEBHOOK', { kinds: NOTIFICATION_KINDS, minSeverity: 'info', perMinute: 60 }),
    };
  }
  const botToken = text(env, 'TROUPE_NOTIFY_TELEGRAM_BOT_TOKEN');
  const chatId = text(env, 'TROUPE_NOTIFY_TELEGRAM_CHAT_ID');
  if ((botToken === undefined) !== (chatId === undefined)) {
    throw new ConfigError(
      botToken === undefined ? 'TROUPE_NOTIFY_TELEGRAM_BOT_TOKEN' : 'TROUPE_NOTIFY_TELEGRAM_CHAT_ID',
      'is needed too: Telegram needs both the bot token and the chat id',
    );
  }
  if (botToken !== undefined && chatId !== undefined) {
    config.telegram = {
      botToken,
      chatId,
      apiBase: address(env, 'TROUPE_NOTIFY_TELEGRAM_API', ['http:', 'https:']) ?? 'https://api.telegram.org',
      ...filter(env, 'TELEGRAM', { kinds: NOTIFICATION_KINDS.filter((kind) => kind !== 'restart'), minSeverity: 'info', perMinute: 20 }),
    };
  }
  const smtpUrl = address(env, 'TROUPE_NOTIFY_SMTP_URL', ['smtp:', 'smtps:']);
  if (smtpUrl !== undefined) {
    const from = text(env, 'TROUPE_NOTIFY_EMAIL_FROM');
    const to =
      text(env, 'TROUPE_NOTIFY_EMAIL_TO')
        ?.split(',')
        .map((a) => a.trim())
        .filter(Boolean) ?? [];
    if (from === undefined || !from.includes('@'))
      throw new ConfigError('TROUPE_NOTIFY_EMAIL_FROM', 'must be an e-mail address when TROUPE_NOTIFY_SMTP_URL is set');
    const bad = to.filter((a) => !/^[^@\s]+@[^@\s]+$/.test(a));
    if (to.length === 0 || bad.length > 0)
      throw new ConfigError(
        'TROUPE_NOTIFY_EMAIL_TO',
        `must be a comma list of e-mail addresses when TROUPE_NOTIFY_SMTP_URL is set${bad.length ? `; not addresses: ${bad.join(', ')}` : ''}`,
      );
    config.email = {
      smtpUrl,
      from,
      to,
      caFile: text(env, 'TROUPE_NOTIFY_SMTP_CA_FILE'),
      ...filter(env, 'EMAIL', { kinds: ['halt', 'square-off', 'risk', 'compliance'], minSeverity: 'warning', perMinute: 6 }),
    };
  }
  return config;
}
