/**
 * A small SMTP client (RFC 5321): one connection per message, EHLO, STARTTLS when the server
 * offers it (required before credentials leave this machine), AUTH PLAIN, MAIL/RCPT/DATA. The
 * body is UTF-8 text sent base64-encoded, so no server extension is needed for non-ASCII text.
 */
import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { DeliveryError } from './channel.js';

export interface SmtpMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
}

export interface SmtpOptions {
  /** `smtp://[user:password@]host[:port]` (STARTTLS when offered; port 587 by default) or `smtps://…` (TLS from the start; 465). */
  readonly url: string;
  /** PEM certificates to trust besides the system's (a private relay's CA). */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number;
}

interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** Reads SMTP replies (multi-line `250-…` then `250 …`) off a socket. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private readonly replies: Reply[] = [];
  private waiting: { resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.take(chunk));
    socket.on('error', (error: Error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      this.lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), lines: this.lines.map((l) => l.slice(4)) };
        this.lines = [];
        if (this.waiting) {
          const { resolve } = this.waiting;
          this.waiting = undefined;
          resolve(reply);
        } else this.replies.push(reply);
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    if (this.waiting) {
      const { reject } = this.waiting;
      this.waiting = undefined;
      reject(error);
    }
  }

  next(): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }
}

/** `=?UTF-8?B?…?=` for a header value that is not plain ASCII. */
function headerText(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

/** The RFC 5322 message: headers, then the UTF-8 text in base64 lines of 76. */
export function formatMessage(message: SmtpMessage, atMs: number): string {
  const domain = message.from.split('@')[1] ?? 'troupe.local';
  const body = Buffer.from(message.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${message.from}`,
    `To: ${message.to.join(', ')}`,
    `Subject: ${headerText(message.subject)}`,
    `Date: ${new Date(atMs).toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

/** Sends one message; throws a {@link DeliveryError} (retryable for 4xx replies and lost connections). */
export async function sendMail(options: SmtpOptions, message: SmtpMessage): Promise<void> {
  const url = new URL(options.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new DeliveryError(`SMTP URL must be smtp:// or smtps://, got ${url.protocol}`, false);
  const implicitTls = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port === '' ? (implicitTls ? 465 : 587) : Number(url.port);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tlsOptions = { servername: LOOPBACK.test(host) ? undefined : host, ...(options.ca ? { ca: options.ca } : {}) };

  let socket: Socket | TLSSocket = implicitTls ? tlsConnect({ host, port, ...tlsOptions }) : netConnect({ host, port });
  let reader = new ReplyReader();
  reader.attach(socket);
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)));
  const write = (line: string): void => void socket.write(`${line}\r\n`);
  const expect = async (what: string, ...codes: number[]): Promise<Reply> => {
    const reply = await reader.next();
    if (!codes.includes(reply.code)) {
      throw new DeliveryError(`SMTP ${what}: the server answered ${reply.code} ${reply.lines.join(' ')}`, reply.code >= 400 && reply.code < 500);
    }
    return reply;
  };
  try {
    await expect('greeting', 220);
    const name = hostname() || 'troupe';
    write(`EHLO ${name}`);
    let extensions = (await expect('EHLO', 250)).lines.map((line) => line.toUpperCase());
    let secure = implicitTls;
    if (!secure && extensions.some((line) => line.startsWith('STARTTLS'))) {
      write('STARTTLS');
      await expect('STARTTLS', 220);
      const plain = socket;
      plain.removeAllListeners('data');
      plain.removeAllListeners('close');
      plain.setTimeout(0);
      socket = tlsConnect({ socket: plain, ...tlsOptions });
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      reader = new ReplyReader();
      reader.attach(socket);
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)));
      secure = true;
      write(`EHLO ${name}`);
      extensions = (await expect('EHLO after STARTTLS', 250)).lines.map((line) => line.toUpperCase());
    }
    if (user !== '') {
      if (!secure && !LOOPBACK.test(host))
        throw new DeliveryError(`SMTP: ${host} offers no STARTTLS; refusing to send the password in clear text (use smtps://)`, false);
      if (!extensions.some((line) => line.startsWith('AUTH') && line.includes('PLAIN')))
        throw new DeliveryError('SMTP: the server does not offer AUTH PLAIN', false);
      write(`AUTH PLAIN ${Buffer.from(`\u0000${user}\u0000${password}`, 'utf8').toString('base64')}`);
      await expect('AUTH', 235);
    }
    write(`MAIL FROM:<${message.from}>`);
    await expect('MAIL FROM', 250);
    for (const to of message.to) {
      write(`RCPT TO:<${to}>`);
      await expect(`RCPT TO ${to}`, 250, 251);
    }
    write('DATA');
    await expect('DATA', 354);
    // dot-stuffing: a line that starts with "." gets another one (base64 never does; headers might)
    socket.write(`${formatMessage(message, Date.now()).replace(/^\./gm, '..')}\r\n.\r\n`);
    await expect('message', 250);
    write('QUIT');
    await reader.next().catch(() => undefined);
  } catch (error) {
    if (error instanceof DeliveryError) throw error;
    throw new DeliveryError(`SMTP ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`, true);
  } finally {
    socket.destroy();
  }
}
