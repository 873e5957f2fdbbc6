export { NOTIFICATION_KINDS, type NotificationKind } from '../config/notifications.js';
export { HALT_CODES, toNotification, type Notification, type Severity } from './notification.js';
export { Notifier, type ChannelRoute, type ChannelStats, type NotifierOptions, type Outcome } from './notifier.js';
export { DeliveryError, type Channel } from './channels/channel.js';
export { webhookChannel, type WebhookOptions } from './channels/webhook.js';
export { telegramChannel, type TelegramOptions } from './channels/telegram.js';
export { emailChannel, type EmailOptions } from './channels/email.js';
export { notifierFromConfig } from './from-config.js';
export { sendMail, formatMessage, type SmtpMessage, type SmtpOptions } from './channels/smtp.js';
