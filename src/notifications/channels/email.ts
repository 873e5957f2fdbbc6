import type { Notification } from '../notification.js';
import type { Channel } from './channel.js';
import { sendMail, type SmtpOptions } from './smtp.js';

export interface EmailOptions extends SmtpOptions {
  readonly from: string;
  readonly to: readonly string[];
}

/** E-mail through an SMTP relay: the title as the subject (with the severity), the text and the fields as the body. */
export function emailChannel(options: EmailOptions): Channel {
  return {
    name: 'email',
    send(notification: Notification): Promise<void> {
      const fields = Object.entries(notification.fields)
        .map(([name, value]) => `${name}: ${value === null ? '-' : String(value)}`)
        .join('\n');
      return sendMail(options, {
        from: options.from,
        to: options.to,
        subject: `[Troupe ${notification.severity}] ${notification.title}`,
        text: `${notification.text}\n\n${fields}\n\nat ${new Date(notification.atMs).toISOString()}\n`,
      });
    },
  };
}
