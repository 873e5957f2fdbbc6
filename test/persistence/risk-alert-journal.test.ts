import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RiskAlert } from '../../src/model/index.js';
import { PgliteDatabase, type Database } from '../../src/persistence/database.js';
import { SqlHistory } from '../../src/persistence/history-queries.js';
import { migrate } from '../../src/persistence/migrate.js';
import { coalesceAlerts, RiskAlertJournal, RiskAlertRecorder, RISK_ALERT_STREAM } from '../../src/persistence/risk-alert-journal.js';

const alert = (code: string, atMs: number, extra: Partial<RiskAlert> = {}): RiskAlert => ({
  type: 'RiskAlert',
  severity: 'warning',
  code,
  message: `${code} at ${atMs}`,
  atMs,
  ...extra,
});

describe('risk alerts: journaled, deduplicated, acknowledged', () => {
  let db: Database;
  beforeAll(async () => {
    db = await PgliteDatabase.open('memory://');
    await migrate(db);
  }, 120_000);
  afterAll(() => db.close());

  it('coalesces repeats of one (code, subject) within the window; other subjects and later windows stay apart', () => {
    const received = [
      { alert: alert('rate', 1, { strategyId: 's', symbol: 'INFY' }), seenAtMs: 1_000 },
      { alert: alert('rate', 2, { strategyId: 's', symbol: 'TCS' }), seenAtMs: 1_001 },
      { alert: alert('rate', 3, { strategyId: 's', symbol: 'INFY', severity: 'critical' }), seenAtMs: 30_000 },
      { alert: alert('rate', 4, { strategyId: 's', symbol: 'INFY' }), seenAtMs: 61_000 },
    ];
    const sightings = coalesceAlerts(received, 60_000);
    expect(sightings.map((s) => [s.subject, s.count, s.severity, s.firstAtMs, s.lastAtMs])).toEqual([
      ['s/INFY', 2, 'critical', 1, 3],
      ['s/TCS', 1, 'warning', 2, 2],
      ['s/INFY', 1, 'warning', 4, 4],
    ]);
  });

  it('a refused write keeps the alerts for the next flush (counted, not lost)', async () => {
    {
      // a process that holds no single-writer lease may not write
      const recorder = new RiskAlertRecorder(new RiskAlertJournal(db, { fences: () => [] }));
      recorder.offer(alert('x', 1));
      recorder.offer(alert('x', 2));
      await recorder.flush();
      await recorder.flush();
      expect(recorder.status()).toEqual({ received: 2, written: 0, dropped: 0 });
      expect(await db.query('SELECT 1 FROM risk_alerts')).toEqual([]);
    }
  });
  it('728 refusals in a minute are one row ×728; the journal has every sighting; an ack is journaled and closes the row', { timeout: 120_000 }, async () => {
    {
      let now = Date.parse('2026-05-20T04:00:00Z');
      const journal = new RiskAlertJournal(db, { windowMs: 60_000 });
      const recorder = new RiskAlertRecorder(journal, { nowMs: () => now });
      for (let n = 0; n < 728; n += 1) {
        recorder.offer(alert('max-orders-per-second', now, { strategyId: 'ema-cross-1', symbol: 'INFY' }));
        now += 50; // 728 × 50 ms = 36.4 s: one window
        if (n % 100 === 99) await recorder.flush();
      }
      recorder.offer(alert('kill-switch', now, { severity: 'critical' }));
      await recorder.stop();
      expect(recorder.status()).toEqual({ received: 729, written: 729, dropped: 0 });

      const history = new SqlHistory(db, journal);
      const page = await history.alerts({}, { limit: 10 });
      expect(page.items.map((row) => [row.code, row.subject, row.count, row.severity])).toEqual([
        ['kill-switch', '', 1, 'critical'],
        ['max-orders-per-second', 'ema-cross-1/INFY', 728, 'warning'],
      ]);
      // the journal holds the sightings: their counts add up to what was raised
      const entries = await db.query<{ type: string; payload: { count?: number } }>('SELECT type, payload FROM journal WHERE stream = $1 ORDER BY sequence', [
        RISK_ALERT_STREAM,
      ]);
      expect(entries.filter((entry) => entry.type === 'RiskAlertRaised').reduce((sum, entry) => sum + (entry.payload.count ?? 0), 0)).toBe(729);

      const rate = page.items[1]!;
      expect(await history.acknowledgeAlert(rate.id, 'ops', now, 'pacing fixed')).toMatchObject({
        outcome: 'acknowledged',
        acknowledgement: { by: 'ops', note: 'pacing fixed' },
      });
      expect(await history.acknowledgeAlert(rate.id, 'someone-else', now + 1)).toMatchObject({ outcome: 'already', acknowledgement: { by: 'ops' } });
      expect(await history.acknowledgeAlert(999_999, 'ops', now)).toEqual({ outcome: 'not-found' });
      expect((await db.query<{ type: string }>("SELECT type FROM journal WHERE type = 'RiskAlertAcknowledged'")).length).toBe(1);

      // the same alert after the ack opens a new row, even within the window
      recorder.offer(alert('max-orders-per-second', now, { strategyId: 'ema-cross-1', symbol: 'INFY' }));
      await recorder.flush();
      const open = await history.alerts({ acknowledged: false, code: 'max-orders-per-second' }, { limit: 10 });
      expect(open.items.map((row) => row.count)).toEqual([1]);
      const acknowledged = await history.alerts({ acknowledged: true }, { limit: 10 });
      expect(acknowledged.items).toEqual([expect.objectContaining({ id: rate.id, acknowledgedBy: 'ops', acknowledgedNote: 'pacing fixed', count: 728 })]);

      // a later window opens a new row; the keyset cursor pages newest first without gaps or repeats
      now += 120_000;
      recorder.offer(alert('max-orders-per-second', now, { strategyId: 'ema-cross-1', symbol: 'INFY' }));
      await recorder.flush();
      const ids: number[] = [];
      let after: number | undefined;
      for (;;) {
        const one = await history.alerts({}, { limit: 1, ...(after === undefined ? {} : { after }) });
        ids.push(...one.items.map((row) => row.id));
        if (one.next === undefined) break;
        after = one.next;
      }
      const all = (await db.query<{ id: number }>('SELECT id FROM risk_alerts ORDER BY id DESC')).map((row) => Number(row.id));
      expect(ids).toEqual(all);
      expect(all.length).toBe(4);
    }
  });
});
