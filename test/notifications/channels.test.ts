import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { DeliveryError, emailChannel, Notifier, telegramChannel, webhookChannel, type Channel, type Notification } from '../../src/notifications/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { startHttpFake, startSmtpFake, type HttpFake, type SmtpFake } from '../support/notification-fakes.js';

const fill: Notification = {
  kind: 'fill',
  severity: 'info',
  title: 'BUY 10 INFY @ ₹1,519.50',
  text: 'Order o-1 (ema) filled; charges ₹3.21.',
  atMs: Date.parse('2026-05-20T04:00:00Z'),
  key: 'o-1',
  fields: { clientOrderId: 'o-1', symbol: 'INFY', quantity: 10, pricePaise: 151_950 },
};
const halt: Notification = {
  kind: 'halt',
  severity: 'critical',
  title: 'Trading halted: kill-switch',
  text: 'day loss ₹-5,100.00 <beyond> the limit & more',
  atMs: fill.atMs,
  key: 'kill-switch',
  fields: { code: 'kill-switch' },
};

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});
async function http(respond: Parameters<typeof startHttpFake>[0]): Promise<HttpFake> {
  const fake = await startHttpFake(respond);
  closers.push(() => fake.close());
  return fake;
}
async function smtp(options: Parameters<typeof startSmtpFake>[0]): Promise<SmtpFake> {
  const fake = await startSmtpFake(options);
  closers.push(() => fake.close());
  return fake;
}
/** A notifier with one channel, every kind, no rate limit worth the name, quick retries. */
function notifierFor(channel: Channel, attempts = 3): Notifier {
  return new Notifier({
    routes: [
      {
        channel,
        kinds: new Set(['fill', 'halt', 'risk', 'rejection', 'square-off', 'restart', 'compliance']),
        minSeverity: 'info',
        rate: { count: 1000, perMs: 60_000 },
      },
    ],
    log: silentLogger(),
    retry: { attempts, minMs: 5, maxMs: 20 },
  });
}

describe('webhook', () => {
  it('posts the notification as JSON, signed with HMAC-SHA256 over "<timestamp>.<body>"', async () => {
    const receiver = await http(() => ({ status: 204 }));
    await webhookChannel({ url: `${receiver.url}/hooks/troupe`, secret: 's3cret' }).send(fill);
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.url).toBe('/hooks/troupe');
    expect(request!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      source: 'troupe',
      kind: 'fill',
      severity: 'info',
      title: fill.title,
      key: 'o-1',
      at: '2026-05-20T04:00:00.000Z',
      fields: { symbol: 'INFY', quantity: 10 },
    });
    // the receiver's own check: recompute the HMAC from the secret, the timestamp header and the raw body
    const timestamp = request!.headers['x-troupe-timestamp'] as string;
    const expected = createHmac('sha256', 's3cret').update(`${timestamp}.${request!.body}`).digest('hex');
    expect(request!.headers['x-troupe-signature']).toBe(`sha256=${expected}`);
  });

  it('retries a 503 and a dropped connection, gives up at once on a 400, and counts both', async () => {
    const receiver = await http((_, index) => (index < 2 ? { status: 503 } : { status: 200 }));
    const notifier = notifierFor(webhookChannel({ url: receiver.url }));
    notifier.notify(fill);
    await notifier.flush();
    expect(receiver.requests).toHaveLength(3);
    expect(notifier.stats()[0]).toMatchObject({ sent: 1, failed: 0 });

    const refusing = await http(() => ({ status: 400, body: { error: 'bad' } }));
    const strict = notifierFor(webhookChannel({ url: refusing.url }));
    strict.notify(fill);
    await strict.flush();
    expect(refusing.requests).toHaveLength(1);
    expect(strict.stats()[0]).toMatchObject({ sent: 0, failed: 1 });
    expect(strict.stats()[0]!.lastError).toContain('400');

    // nothing listens on a closed port: retryable, then failed after the attempts
    const closed = await startHttpFake(() => ({ status: 200 }));
    const deadUrl = closed.url;
    await closed.close();
    const dead = notifierFor(webhookChannel({ url: deadUrl }), 2);
    dead.notify(fill);
    await dead.flush();
    expect(dead.stats()[0]).toMatchObject({ sent: 0, failed: 1 });
  });
});

describe('telegram', () => {
  it('calls sendMessage of the bot for the chat, HTML-escaped, the title in bold', async () => {
    const api = await http(() => ({ status: 200, body: { ok: true, result: { message_id: 1 } } }));
    await telegramChannel({ botToken: '123:ABC', chatId: '-1001', apiBase: api.url }).send(halt);
    expect(api.requests).toHaveLength(1);
    const [request] = api.requests;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/bot123:ABC/sendMessage');
    const body = JSON.parse(request!.body) as { chat_id: string; text: string; parse_mode: string };
    expect(body.chat_id).toBe('-1001');
    expect(body.parse_mode).toBe('HTML');
    expect(body.text).toBe('🛑 <b>Trading halted: kill-switch</b>\nday loss ₹-5,100.00 &lt;beyond&gt; the limit &amp; more');
  });

  it('waits as a 429 asks (retry_after) and tries again; a wrong token (401) is not retried', async () => {
    const api = await http((_, index) =>
      index === 0
        ? { status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } } }
        : { status: 200, body: { ok: true, result: {} } },
    );
    const notifier = notifierFor(telegramChannel({ botToken: 't', chatId: '1', apiBase: api.url }));
    notifier.notify(halt);
    await notifier.flush();
    expect(api.requests).toHaveLength(2);
    expect(notifier.stats()[0]).toMatchObject({ sent: 1, failed: 0 });

    const unauthorised = await http(() => ({ status: 401, body: { ok: false, error_code: 401, description: 'Unauthorized' } }));
    const wrong = notifierFor(telegramChannel({ botToken: 'bad', chatId: '1', apiBase: unauthorised.url }));
    wrong.notify(halt);
    await wrong.flush();
    expect(unauthorised.requests).toHaveLength(1);
    expect(wrong.stats()[0]).toMatchObject({ sent: 0, failed: 1 });
    // the token never reaches the error text
    expect(wrong.stats()[0]!.lastError).not.toContain('bad/');
    expect(wrong.stats()[0]!.lastError).toContain('/bot***/sendMessage');
  });
});

describe('email (SMTP)', () => {
  const decodeBody = (data: string): string => {
    const [, body = ''] = data.split('\r\n\r\n');
    return Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8');
  };
  const header = (data: string, name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(data.split('\r\n\r\n')[0]!)?.[1];

  it('upgrades with STARTTLS, authenticates with AUTH PLAIN over TLS only, and delivers a UTF-8 message', async () => {
    const certificate = selfSignedCertificate();
    const server = await smtp({ tls: certificate, users: { alerts: 'p@ss word' } });
    const channel = emailChannel({
      url: `smtp://alerts:${encodeURIComponent('p@ss word')}@127.0.0.1:${server.port}`,
      ca: certificate.cert,
      from: 'troupe@desk.example',
      to: ['trader@desk.example', 'ops@desk.example'],
    });
    await channel.send(halt);
    expect(server.messages).toHaveLength(1);
    const [mail] = server.messages;
    expect(mail).toMatchObject({ from: 'troupe@desk.example', to: ['trader@desk.example', 'ops@desk.example'], tls: true, user: 'alerts' });
    // AUTH came after STARTTLS: the password never crossed in clear text
    const auth = server.commands.findIndex((line) => line.startsWith('AUTH'));
    expect(auth).toBeGreaterThan(server.commands.indexOf('STARTTLS'));
    expect(header(mail!.data, 'Subject')).toBe('[Troupe critical] Trading halted: kill-switch');
    expect(header(mail!.data, 'Content-Type')).toBe('text/plain; charset=utf-8');
    const text = decodeBody(mail!.data);
    expect(text).toContain('day loss ₹-5,100.00 <beyond> the limit & more');
    expect(text).toContain('code: kill-switch');
  });

  it('encodes a non-ASCII subject as an RFC 2047 word; a refused recipient fails without retries', async () => {
    const server = await smtp({ refuse: ['nobody@desk.example'] });
    await emailChannel({ url: `smtp://127.0.0.1:${server.port}`, from: 'troupe@desk.example', to: ['trader@desk.example'] }).send(fill);
    const subject = header(server.messages[0]!.data, 'Subject')!;
    const match = /^=\?UTF-8\?B\?(.+)\?=$/.exec(subject);
    expect(match).not.toBeNull();
    expect(Buffer.from(match![1]!, 'base64').toString('utf8')).toBe('[Troupe info] BUY 10 INFY @ ₹1,519.50');

    const refusing = emailChannel({ url: `smtp://127.0.0.1:${server.port}`, from: 'troupe@desk.example', to: ['nobody@desk.example'] });
    const error = await refusing.send(fill).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as DeliveryError).retryable).toBe(false);
    expect((error as DeliveryError).message).toContain('550');
  });

  it('refuses wrong credentials with a clear error', async () => {
    const server = await smtp({ users: { alerts: 'right' } });
    const channel = emailChannel({ url: `smtp://alerts:wrong@127.0.0.1:${server.port}`, from: 'troupe@desk.example', to: ['trader@desk.example'] });
    await expect(channel.send(halt)).rejects.toThrow(/AUTH: the server answered 535/);
    expect(server.messages).toHaveLength(0);
  });
});

describe('delivery never blocks the caller', () => {
  it('notify returns at once while a channel hangs; the queue is bounded and what it drops is counted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sent: string[] = [];
    const slow: Channel = {
      name: 'slow',
      async send(notification) {
        await gate;
        sent.push(notification.key);
      },
    };
    const notifier = new Notifier({
      routes: [{ channel: slow, kinds: new Set(['fill']), minSeverity: 'info', rate: { count: 1000, perMs: 1000 } }],
      log: silentLogger(),
      queueCapacity: 3,
    });
    for (let i = 0; i < 10; i += 1) notifier.notify({ ...fill, key: `o-${i}` });
    // the first is in flight; of the nine waiting, the three newest are kept
    expect(notifier.stats()[0]).toMatchObject({ dropped: 6, queued: 3, sent: 0 });
    release();
    await eventually(() => expect(sent).toEqual(['o-0', 'o-7', 'o-8', 'o-9']));
  });
});
