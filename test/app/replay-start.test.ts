/**
 * Paper trading from a file (`troupe start --data dir`, TROUPE_REPLAY_DATA): what the replay
 * leaves out is counted in metrics and logged with the first examples (file and line), and
 * strict mode refuses to start on it. Real PostgreSQL, the app started in process.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../src/actors/core/index.js';
import { startTroupe, type Running } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { suiteTroupeStore } from '../support/databases.js';
import { startHttpFake } from '../support/notification-fakes.js';

const store = suiteTroupeStore('troupe-replay-start-');
const root = mkdtempSync(join(tmpdir(), 'troupe-replay-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let running: Running | undefined;
afterEach(async () => {
  await running?.stop('test over');
  running = undefined;
});

const HEADER = 'timestamp,open,high,low,close,volume,oi';

/** A data folder: INFY with 30 five-minute bars and one bad row (line 5: high below low), and a header-only TCS. */
function dataFolder(): string {
  const dir = join(root, 'data');
  mkdirSync(dir, { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < 30; i += 1) {
    const minutes = 9 * 60 + 15 + 5 * i;
    const time = `2026-05-20 ${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:00+05:30`;
    const close = 1500 + (i % 7) - 3;
    rows.push(`${time},${close - 1},${close + 2},${close - 3},${close},${100 + i},0`);
  }
  rows.splice(3, 0, '2026-05-21 09:15:00+05:30,1500,1490,1495,1496,10,0');
  writeFileSync(join(dir, 'INFY.csv'), `${[HEADER, ...rows].join('\n')}\n`);
  writeFileSync(join(dir, 'TCS.csv'), `${HEADER}\n`);
  return dir;
}

function config(dir: string, strict: boolean, extra: Record<string, string> = {}) {
  return loadConfig({
    ...extra,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    DATABASE_URL: store().url,
    TROUPE_DATA_DIR: store().dataDir,
    TROUPE_REPLAY_DATA: dir,
    ...(strict ? { TROUPE_REPLAY_STRICT: 'true' } : {}),
    ADMIN_USER: 'ops',
    ADMIN_PASSWORD: 'replay-test-password',
  });
}

describe('paper trading on a replay of a data folder', () => {
  it('counts the files and rows left out in metrics, logs them with examples, and trades the rest', async () => {
    const dir = dataFolder();
    const logged: Array<{ msg: string; examples?: Array<{ file: string; line: number; reason: string }> }> = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line) as (typeof logged)[number]) });
    running = await startTroupe(config(dir, false), log);
    const text = await running.runtime.metrics.text();
    expect(text).toContain('troupe_data_rejected_total{kind="file"} 1');
    expect(text).toContain('troupe_data_rejected_total{kind="row"} 1');
    const warning = logged.find((entry) => entry.msg === 'replay data: 1 file and 1 row left out');
    expect(warning?.examples).toEqual([
      { file: join(dir, 'TCS.csv'), line: 0, reason: 'no data rows (the file has a header only)' },
      { file: join(dir, 'INFY.csv'), line: 5, reason: expect.stringContaining('high 149000 is below') as unknown },
    ]);
    // the good bars are replayed
    await eventually(async () => expect(await running!.runtime.metrics.text()).toMatch(/troupe_ticks_total\{source="replay"\} [1-9]/));
  });

  it('strict mode refuses to start on the same folder, naming what it would leave out', async () => {
    await expect(startTroupe(config(dataFolder(), true), pino({ level: 'silent' }))).rejects.toThrow(
      /1 file and 1 row rejected and strict mode is on:[\s\S]*INFY\.csv:5: high/,
    );
  });

  it('sends the fills of the replay to a configured webhook (TROUPE_NOTIFY_WEBHOOK_URL) and counts them', async () => {
    const receiver = await startHttpFake(() => ({ status: 204 }));
    try {
      running = await startTroupe(
        config(dataFolder(), false, { TROUPE_NOTIFY_WEBHOOK_URL: `${receiver.url}/fills`, TROUPE_NOTIFY_WEBHOOK_EVENTS: 'fill' }),
        pino({ level: 'silent' }),
      );
      await eventually(() => expect(receiver.requests.length).toBeGreaterThan(0), { timeoutMs: 20_000 });
      const first = JSON.parse(receiver.requests[0]!.body) as { kind: string; fields: { clientOrderId: string } };
      expect(first.kind).toBe('fill');
      await eventually(async () =>
        expect(await running!.runtime.metrics.text()).toMatch(/troupe_notifications_total\{channel="webhook",kind="fill",outcome="sent"\} [1-9]/),
      );
    } finally {
      await running?.stop('test over');
      running = undefined;
      await receiver.close();
    }
  });
});
