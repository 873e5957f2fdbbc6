/**
 * Local fakes of the endpoints notifications go to: an HTTP server that records requests
 * (webhook receivers, Telegram's Bot API) and a small ESMTP server (STARTTLS with a given
 * certificate, AUTH PLAIN, captured messages). Loopback only; each on a free port.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpFake {
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

/** `respond` answers each request (status, body, headers); it sees the ones before it in `requests`. */
export async function startHttpFake(
  respond: (request: RecordedRequest, index: number) => { status: number; body?: unknown; headers?: Record<string, string> },
): Promise<HttpFake> {
  const requests: RecordedRequest[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const answer = respond(recorded, requests.length);
      requests.push(recorded);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface CapturedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly data: string;
  readonly tls: boolean;
  readonly user: string | undefined;
}

export interface SmtpFake {
  readonly port: number;
  readonly messages: CapturedMail[];
  /** Every command line the server received (AUTH arguments included), in order. */
  readonly commands: string[];
  close(): Promise<void>;
}

export interface SmtpFakeOptions {
  /** Offer STARTTLS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Accepted AUTH PLAIN credentials (none: AUTH is not offered). */
  readonly users?: Readonly<Record<string, string>>;
  /** RCPT TO addresses answered with 550. */
  readonly refuse?: readonly string[];
}

/** A small ESMTP server (RFC 5321 subset): EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT. */
export async function startSmtpFake(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const messages: CapturedMail[] = [];
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    let socket: Socket = raw;
    let secure = false;
    let user: string | undefined;
    let from = '';
    let to: string[] = [];
    let inData = false;
    let data: string[] = [];
    let buffer = '';
    const reply = (line: string): void => void socket.write(`${line}\r\n`);
    const onLine = (line: string): void => {
      if (inData) {
        if (line === '.') {
          inData = false;
          messages.push({ from, to, data: data.join('\r\n'), tls: secure, user });
          data = [];
          reply('250 2.0.0 queued');
        } else data.push(line.startsWith('..') ? line.slice(1) : line);
        return;
      }
      commands.push(line);
      const verb = line.split(' ')[0]!.toUpperCase();
      if (verb === 'EHLO') {
        const extensions = ['fake.smtp', '8BITMIME', ...(options.tls && !secure ? ['STARTTLS'] : []), ...(options.users ? ['AUTH PLAIN'] : [])];
        extensions.forEach((ext, i) => reply(`250${i === extensions.length - 1 ? ' ' : '-'}${ext}`));
      } else if (verb === 'STARTTLS' && options.tls && !secure) {
        reply('220 2.0.0 ready to start TLS');
        socket.removeAllListeners('data');
        const upgraded = new TLSSocket(socket, { isServer: true, key: options.tls.key, cert: options.tls.cert });
        socket = upgraded;
        secure = true;
        buffer = '';
        upgraded.on('data', onData);
        upgraded.on('error', () => undefined);
      } else if (verb === 'AUTH') {
        const [, mechanism, encoded] = line.split(' ');
        const [, name, password] = Buffer.from(encoded ?? '', 'base64')
          .toString('utf8')
          .split('\u0000');
        if (mechanism?.toUpperCase() === 'PLAIN' && name !== undefined && options.users?.[name] === password) {
          user = name;
          reply('235 2.7.0 authenticated');
        } else reply('535 5.7.8 bad credentials');
      } else if (verb === 'MAIL') {
        if (options.users && user === undefined) return reply('530 5.7.0 authentication required');
        from = /<(.*)>/.exec(line)?.[1] ?? '';
        to = [];
        reply('250 2.1.0 ok');
      } else if (verb === 'RCPT') {
        const address = /<(.*)>/.exec(line)?.[1] ?? '';
        if (options.refuse?.includes(address)) return reply('550 5.1.1 no such user');
        to.push(address);
        reply('250 2.1.5 ok');
      } else if (verb === 'DATA') {
        inData = true;
        reply('354 end with <CRLF>.<CRLF>');
      } else if (verb === 'QUIT') {
        reply('221 2.0.0 bye');
        socket.end();
      } else reply('502 5.5.2 not implemented');
    };
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 2);
        onLine(line);
      }
    };
    raw.on('data', onData);
    raw.on('error', () => undefined);
    reply('220 fake.smtp ESMTP ready');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    messages,
    commands,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
