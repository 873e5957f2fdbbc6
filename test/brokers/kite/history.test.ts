process.env.TZ = 'Asia/Kolkata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { candlesCsv, historyChunks, istDateTime, KITE_MAX_DAYS, KiteHistory } from '../../../src/brokers/kite/history.js';
import { KiteBroker } from '../../../src/brokers/kite/index.js';
import { fetchHistoryCommand, parseIstDate } from '../../../src/cli/fetch-history.js';
import type { KiteSimulator } from '../../../src/sim/index.js';
import { API_KEY, API_SECRET, startSimulator } from '../../sim/support.js';

let sim: KiteSimulator;
let accessToken: string;
const dirs: string[] = [];
const DAY = 86_400_000;

beforeAll(async () => {
  // Kite's own historical limit on the server side: a client going faster gets 429s
  sim = await startSimulator({
    rateLimits: { quotePerSecond: 1000, historicalPerSecond: 3, ordersPerSecond: 1000, ordersPerMinute: 100_000, otherPerSecond: 1000 },
  });
  const broker = new KiteBroker({ apiKey: API_KEY, root: sim.url });
  accessToken = await broker.createSession(sim.admin.createRequestToken(), API_SECRET);
  sim.admin.step(400); // some traded minutes to have candles of
});
afterAll(async () => {
  await sim.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('historical candles', () => {
  it('cuts a range into Kite’s per-interval maximum spans, contiguous and inclusive', () => {
    const from = Date.parse('2026-01-01T00:00:00+05:30');
    const chunks = historyChunks('minute', from, from + 130 * DAY);
    expect(chunks).toHaveLength(3);
    expect(chunks[0]).toEqual({ fromMs: from, toMs: from + 60 * DAY - 1000 });
    expect(chunks[1]!.fromMs).toBe(from + 60 * DAY);
    expect(chunks.at(-1)!.toMs).toBe(from + 130 * DAY);
    for (const chunk of chunks) expect(chunk.toMs - chunk.fromMs).toBeLessThanOrEqual(KITE_MAX_DAYS.minute * DAY);
    expect(historyChunks('day', from, from + 3000 * DAY)).toHaveLength(2);
    expect(historyChunks('60minute', from, from)).toEqual([{ fromMs: from, toMs: from }]);
    expect(() => historyChunks('day', from, from - 1)).toThrow(RangeError);
    expect(istDateTime(from)).toBe('2026-01-01 00:00:00');
    expect(parseIstDate('2026-01-01', 'from', false)).toBe(from);
    expect(parseIstDate('2026-01-01', 'to', true)).toBe(from + DAY - 1000);
    expect(parseIstDate('2026-01-01 09:15', 'from', false)).toBe(from + (9 * 60 + 15) * 60_000);
    expect(() => parseIstDate('2026-02-30', 'from', false)).toThrow(/real date/);
  });

  it('fetches a long range in chunks at 3 requests a second (no 429 from Kite), candles exact in paise, oldest first, no duplicates', async () => {
    const history = new KiteHistory({ apiKey: API_KEY, accessToken, root: sim.url, attempts: 1 });
    const token = sim.admin.instruments[0]!.token;
    const now = sim.admin.nowMs();
    const from = now - 400 * DAY;
    const started = Date.now();
    const progress: number[] = [];
    const candles = await history.candles(token, 'minute', from, now + DAY, (done) => progress.push(done));
    const chunks = historyChunks('minute', from, now + DAY).length;
    expect(chunks).toBe(7);
    expect(history.requests).toBe(chunks); // attempts: 1: a single 429 would have failed the fetch
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // 7 requests at 3/s need more than a second
    expect(candles.length).toBeGreaterThan(0);
    // the same candles as one request over the traded days (through the limiter: Kite's budget is shared)
    const direct = await history.candles(token, 'minute', now - 30 * DAY, now + DAY);
    expect(history.requests).toBe(chunks + 1);
    expect(candles).toEqual(direct);
    for (const [i, c] of candles.entries()) {
      expect(Number.isSafeInteger(c.openPaise) && Number.isSafeInteger(c.closePaise)).toBe(true);
      if (i > 0) expect(c.atMs).toBeGreaterThan(candles[i - 1]!.atMs);
    }
    expect(candlesCsv(candles.slice(0, 1))).toMatch(/^timestamp,open,high,low,close,volume,oi\n\d{4}-\d\d-\d\d \d\d:\d\d:00\+05:30,\d+\.\d\d,/);
  });

  it('troupe fetch-history writes one CSV per symbol in the shared layout with a progress bar on stderr; --help; bad input is a usage error', async () => {
    const out = mkdtempSync(join(tmpdir(), 'troupe-history-'));
    dirs.push(out);
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-history-data-'));
    dirs.push(dataDir);
    const env = { KITE_API_KEY: API_KEY, KITE_ACCESS_TOKEN: accessToken, KITE_ROOT: sim.url, TROUPE_DATA_DIR: dataDir };
    const symbols = sim.admin.instruments.slice(0, 2).map((i) => i.symbol);
    const day = new Date(sim.admin.nowMs() + 330 * 60_000).toISOString().slice(0, 10);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = { stdout: (t: string) => stdout.push(t), stderr: (t: string) => stderr.push(t), stderrIsTty: true, env };
    const code = await fetchHistoryCommand(['--symbols', symbols.join(','), '--interval', '5minute', '--from', day, '--to', day, '--out', out], io);
    expect(stderr.join('')).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(stderr.join('')).toMatch(/\r\[#{30}\] 1\/2 /);
    expect(stdout.join('')).toMatch(/candles of 2 symbol\(s\), 5minute, in \d+ request\(s\)/);
    for (const symbol of symbols) {
      const lines = readFileSync(join(out, `${symbol}.csv`), 'utf8')
        .trim()
        .split('\n');
      expect(lines[0]).toBe('timestamp,open,high,low,close,volume,oi');
      expect(lines.length).toBeGreaterThan(1);
      expect(lines[1]).toMatch(new RegExp(`^${day} \\d\\d:\\d[05]:00\\+05:30,`));
    }
    const help: string[] = [];
    expect(await fetchHistoryCommand(['--help'], { ...io, stdout: (t) => help.push(t) })).toBe(0);
    expect(help.join('')).toMatch(/--interval[\s\S]*--from[\s\S]*--out/);
    const bad: string[] = [];
    expect(
      await fetchHistoryCommand(['--symbols', 'INFY', '--interval', '2minute', '--from', day, '--to', day, '--out', out], {
        ...io,
        stderr: (t) => bad.push(t),
      }),
    ).toBe(2);
    expect(bad.join('')).toMatch(/--interval must be one of/);
    // an unknown symbol is an input error, named (exit 2)
    expect(
      await fetchHistoryCommand(['--symbols', `${symbols[0]},NOSUCH`, '--interval', 'day', '--from', day, '--to', day, '--out', out], {
        ...io,
        stderr: (t) => bad.push(t),
      }),
    ).toBe(2);
    expect(bad.join('')).toMatch(/unknown NSE symbol NOSUCH \(not in Kite's instrument list\)/);
  });

  it('troupe fetch-history leaves out the candles that are not candles and names each; --strict writes nothing and fails', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'troupe-history-data-'));
    dirs.push(dataDir);
    const env = { KITE_API_KEY: API_KEY, KITE_ACCESS_TOKEN: accessToken, KITE_ROOT: sim.url, TROUPE_DATA_DIR: dataDir };
    sim.admin.step(20_000); // several traded minutes
    const symbol = sim.admin.instruments[0]!.symbol;
    const day = new Date(sim.admin.nowMs() + 330 * 60_000).toISOString().slice(0, 10);
    const args = ['--symbols', symbol, '--interval', 'minute', '--from', day, '--to', day];
    const clean = await new KiteHistory({ apiKey: API_KEY, accessToken, root: sim.url }).candles(
      sim.admin.instruments[0]!.token,
      'minute',
      parseIstDate(day, 'from', false),
      parseIstDate(day, 'to', true),
    );
    expect(clean.length).toBeGreaterThan(3);
    sim.admin.setFaults({ corruptCandles: true });
    try {
      const out = mkdtempSync(join(tmpdir(), 'troupe-history-'));
      dirs.push(out);
      const stderr: string[] = [];
      const stdout: string[] = [];
      expect(await fetchHistoryCommand([...args, '--out', out], { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env })).toBe(0);
      const text = stderr.join('');
      expect(text).toContain('3 rows left out');
      expect(text).toMatch(new RegExp(`${symbol} \\(Kite minute candles\\):1: .* IST: high \\d+ is below`));
      expect(text).toMatch(new RegExp(`${symbol} \\(Kite minute candles\\):2: .*volume must be a non-negative integer, got -5`));
      expect(text).toMatch(new RegExp(`${symbol} \\(Kite minute candles\\):3: .*open must be a positive rupee amount, got null`));
      expect(stdout.join('')).toContain('3 bad candle(s) left out');
      // the CSV has every other candle and none of the three
      const lines = readFileSync(join(out, `${symbol}.csv`), 'utf8')
        .trim()
        .split('\n');
      expect(lines.length - 1).toBe(clean.length - 3);
      expect(lines[1]).toBe(candlesCsv(clean.slice(3, 4)).trim().split('\n')[1]);

      const strictOut = join(out, 'strict');
      const strictErr: string[] = [];
      expect(await fetchHistoryCommand([...args, '--out', strictOut, '--strict'], { stdout: () => undefined, stderr: (t) => strictErr.push(t), env })).toBe(1);
      expect(strictErr.join('')).toContain('--strict: Kite sent 3 bad candle(s) (listed above); nothing was written');
      expect(() => readFileSync(join(strictOut, `${symbol}.csv`))).toThrow();
    } finally {
      sim.admin.setFaults({ corruptCandles: false });
    }
  });
});
