/**
 * Kite ticker binary packets (kite-reference §6): a frame is `[int16 count]` then, per
 * packet, `[int16 length][packet]`, all big-endian, prices in paise as int32.
 */
import type { DepthLevel } from '../model/market.js';
import type { Paise } from '../model/money.js';

/** Ticker streaming modes. */
export type TickerMode = 'ltp' | 'quote' | 'full';

/** Everything a packet may carry for a tradable instrument or an index. */
export interface PacketState {
  readonly token: number;
  /** False for indices (segment 9): they get 8/28/32-byte packets. */
  readonly tradable: boolean;
  readonly ltpPaise: Paise;
  readonly lastQuantity: number;
  readonly averagePricePaise: Paise;
  readonly volume: number;
  readonly totalBuyQuantity: number;
  readonly totalSellQuantity: number;
  readonly openPaise: Paise;
  readonly highPaise: Paise;
  readonly lowPaise: Paise;
  readonly closePaise: Paise;
  /** Epoch seconds, 0 = unknown. */
  readonly lastTradeTimeSec: number;
  readonly exchangeTimeSec: number;
  readonly depth: { readonly buy: readonly DepthLevel[]; readonly sell: readonly DepthLevel[] };
}

/** Packet length for a mode. */
export function packetLength(mode: TickerMode, tradable: boolean): number {
  if (mode === 'ltp') return 8;
  if (!tradable) return mode === 'quote' ? 28 : 32;
  return mode === 'quote' ? 44 : 184;
}

/** Writes one packet (without its length prefix) at `offset`; returns the next offset. */
export function writePacket(buffer: Buffer, offset: number, state: PacketState, mode: TickerMode): number {
  buffer.writeInt32BE(state.token | 0, offset);
  buffer.writeInt32BE(state.ltpPaise | 0, offset + 4);
  if (mode === 'ltp') return offset + 8;
  if (!state.tradable) {
    buffer.writeInt32BE(state.highPaise | 0, offset + 8);
    buffer.writeInt32BE(state.lowPaise | 0, offset + 12);
    buffer.writeInt32BE(state.openPaise | 0, offset + 16);
    buffer.writeInt32BE(state.closePaise | 0, offset + 20);
    buffer.writeInt32BE((state.ltpPaise - state.closePaise) | 0, offset + 24);
    if (mode === 'quote') return offset + 28;
    buffer.writeInt32BE(state.exchangeTimeSec | 0, offset + 28);
    return offset + 32;
  }
  buffer.writeInt32BE(state.lastQuantity | 0, offset + 8);
  buffer.writeInt32BE(state.averagePricePaise | 0, offset + 12);
  buffer.writeInt32BE(state.volume | 0, offset + 16);
  buffer.writeInt32BE(Math.min(state.totalBuyQuantity, 0x7fffffff) | 0, offset + 20);
  buffer.writeInt32BE(Math.min(state.totalSellQuantity, 0x7fffffff) | 0, offset + 24);
  buffer.writeInt32BE(state.openPaise | 0, offset + 28);
  buffer.writeInt32BE(state.highPaise | 0, offset + 32);
  buffer.writeInt32BE(state.lowPaise | 0, offset + 36);
  buffer.writeInt32BE(state.closePaise | 0, offset + 40);
  if (mode === 'quote') return offset + 44;
  buffer.writeInt32BE(state.lastTradeTimeSec | 0, offset + 44);
  buffer.writeInt32BE(0, offset + 48); // oi
  buffer.writeInt32BE(0, offset + 52); // oi day high
  buffer.writeInt32BE(0, offset + 56); // oi day low
  buffer.writeInt32BE(state.exchangeTimeSec | 0, offset + 60);
  let at = offset + 64;
  for (const side of [state.depth.buy, state.depth.sell]) {
    for (let k = 0; k < 5; k += 1) {
      const level = side[k];
      buffer.writeInt32BE(level ? Math.min(level.quantity, 0x7fffffff) | 0 : 0, at);
      buffer.writeInt32BE(level ? level.pricePaise | 0 : 0, at + 4);
      buffer.writeUInt16BE(level ? Math.min(level.orders, 0xffff) : 0, at + 8);
      buffer.writeUInt16BE(0, at + 10);
      at += 12;
    }
  }
  return at;
}

/** Largest number of packets in one frame (the count is an int16). */
export const MAX_PACKETS_PER_FRAME = 32_767;

/** Encodes a frame of packets; each item names its state and mode. */
export function encodeFrame(items: readonly { readonly state: PacketState; readonly mode: TickerMode }[]): Buffer {
  let size = 2;
  for (const item of items) size += 2 + packetLength(item.mode, item.state.tradable);
  const buffer = Buffer.allocUnsafe(size);
  buffer.writeUInt16BE(items.length, 0);
  let offset = 2;
  for (const item of items) {
    const length = packetLength(item.mode, item.state.tradable);
    buffer.writeUInt16BE(length, offset);
    offset = writePacket(buffer, offset + 2, item.state, item.mode);
  }
  return buffer;
}

/** A heartbeat: one byte, which the client counts as liveness and does not parse. */
export const HEARTBEAT_FRAME: Buffer = Buffer.alloc(1);
