/**
 * Wire formats Kite uses: rupee numbers from paise, 19-character IST timestamps, candle
 * timestamps with `+0530`, and the SHA-256 checksums of sessions and postbacks.
 */
import { createHash } from 'node:crypto';
import type { Paise } from '../model/money.js';
import { IST_OFFSET_MS } from '../model/time.js';

/** Paise as the rupee number Kite's JSON carries (131990 → 1319.9). */
export function rupees(paise: Paise): number {
  return paise / 100;
}

/** An instant as Kite's 19-character IST timestamp: "2026-01-05 09:15:00". */
export function kiteTimestamp(epochMs: number): string {
  const iso = new Date(epochMs + IST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** An instant as a historical candle's timestamp: "2026-01-05T09:15:00+0530". */
export function candleTimestamp(epochMs: number): string {
  const iso = new Date(epochMs + IST_OFFSET_MS).toISOString();
  return `${iso.slice(0, 19)}+0530`;
}

/**
 * Parses "YYYY-MM-DD", "YYYY-MM-DD HH:mm" or "YYYY-MM-DD HH:mm:ss" as IST wall time
 * (what `getHistoricalData` sends when the client runs in Asia/Kolkata). NaN when malformed.
 */
export function parseIstDateTime(text: string): number {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (!match) return Number.NaN;
  const [, date = '', hour = '00', minute = '00', second = '00'] = match;
  const ms = Date.parse(`${date}T${hour}:${minute}:${second}Z`);
  return Number.isNaN(ms) ? Number.NaN : ms - IST_OFFSET_MS;
}

/** Lower-case hex SHA-256 of the concatenated parts. */
export function sha256Hex(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Kite's postback checksum: sha256(order_id + order_timestamp + api_secret). */
export function postbackChecksum(orderId: string, orderTimestamp: string, apiSecret: string): string {
  return sha256Hex(orderId, orderTimestamp, apiSecret);
}
