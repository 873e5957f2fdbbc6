/**
 * Kite ticker binary packets (kite-reference §6): a frame is `[int16 count]` then, per
 * packet, `[int16 length][packet]`, all big-endian, prices in paise as int32.
 *
 * The simulator's hot path allocates nothing per tick: the exchange fills one reusable
 * {@link PacketBuilder} per tick and each client's {@link FrameWriter} appends it to a
 * pre-allocated frame buffer; only a finished frame is copied out (one allocation per frame of
 * up to {@link DEFAULT_PACKETS_PER_FRAME} packets). {@link encodeFrame} is the same layout for
 * plain {@link PacketState} values (tests, tools).
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

/** Depth levels per side in a full packet. */
export const PACKET_DEPTH_LEVELS = 5;

/** Packet length for a mode. */
export function packetLength(mode: TickerMode, tradable: boolean): number {
  if (mode === 'ltp') return 8;
  if (!tradable) return mode === 'quote' ? 28 : 32;
  return mode === 'quote' ? 44 : 184;
}

/** Largest packet with its length prefix (a tradable full packet). */
const MAX_PACKET_BYTES = 2 + 184;
const INT32_MAX = 0x7fffffff;

/**
 * One packet's fields as plain mutable numbers, reused tick after tick (no object per tick).
 * Depth: `depthCount[0]` bid levels then `depthCount[1]` ask levels, in the typed arrays at
 * index `side * 5 + level`; missing levels are sent as zeros.
 */
export class PacketBuilder {
  token = 0;
  tradable = true;
  ltpPaise = 0;
  lastQuantity = 0;
  averagePricePaise = 0;
  volume = 0;
  totalBuyQuantity = 0;
  totalSellQuantity = 0;
  openPaise = 0;
  highPaise = 0;
  lowPaise = 0;
  closePaise = 0;
  lastTradeTimeSec = 0;
  exchangeTimeSec = 0;
  readonly depthPricePaise = new Float64Array(2 * PACKET_DEPTH_LEVELS);
  readonly depthQuantity = new Float64Array(2 * PACKET_DEPTH_LEVELS);
  readonly depthOrders = new Float64Array(2 * PACKET_DEPTH_LEVELS);
  /** Levels filled per side: [bids, asks]. */
  readonly depthCount = new Uint8Array(2);

  /** Copies a {@link PacketState} in: its fields as they are (so it carries no others), depth levels beyond five ignored. */
  load(state: PacketState): this {
    const { depth, ...fields } = state;
    Object.assign(this, fields);
    const sides = [depth.buy, depth.sell] as const;
    for (let side = 0; side < 2; side += 1) {
      const levels = sides[side]!;
      const count = Math.min(levels.length, PACKET_DEPTH_LEVELS);
      for (let k = 0; k < count; k += 1) {
        const level = levels[k]!;
        this.depthPricePaise[side * PACKET_DEPTH_LEVELS + k] = level.pricePaise;
        this.depthQuantity[side * PACKET_DEPTH_LEVELS + k] = level.quantity;
        this.depthOrders[side * PACKET_DEPTH_LEVELS + k] = level.orders;
      }
      this.depthCount[side] = count;
    }
    return this;
  }

  /** The fields as a {@link PacketState} (allocates: for REST answers and tests, not the ticker). */
  toState(): PacketState {
    const { depthPricePaise, depthQuantity, depthOrders, depthCount, ...fields } = this;
    const side = (s: number): DepthLevel[] => {
      const out: DepthLevel[] = [];
      for (let k = 0; k < depthCount[s]!; k += 1) {
        const i = s * PACKET_DEPTH_LEVELS + k;
        out.push({ pricePaise: depthPricePaise[i]!, quantity: depthQuantity[i]!, orders: depthOrders[i]! });
      }
      return out;
    };
    return { ...fields, depth: { buy: side(0), sell: side(1) } };
  }
}

/** Writes one packet (without its length prefix) at `offset` of `view`; returns the next offset. */
function writeBuilt(view: DataView, offset: number, p: PacketBuilder, mode: TickerMode): number {
  view.setInt32(offset, p.token | 0);
  view.setInt32(offset + 4, p.ltpPaise | 0);
  if (mode === 'ltp') return offset + 8;
  if (!p.tradable) {
    view.setInt32(offset + 8, p.highPaise | 0);
    view.setInt32(offset + 12, p.lowPaise | 0);
    view.setInt32(offset + 16, p.openPaise | 0);
    view.setInt32(offset + 20, p.closePaise | 0);
    view.setInt32(offset + 24, (p.ltpPaise - p.closePaise) | 0);
    if (mode === 'quote') return offset + 28;
    view.setInt32(offset + 28, p.exchangeTimeSec | 0);
    return offset + 32;
  }
  view.setInt32(offset + 8, p.lastQuantity | 0);
  view.setInt32(offset + 12, p.averagePricePaise | 0);
  view.setInt32(offset + 16, p.volume | 0);
  view.setInt32(offset + 20, Math.min(p.totalBuyQuantity, INT32_MAX) | 0);
  view.setInt32(offset + 24, Math.min(p.totalSellQuantity, INT32_MAX) | 0);
  view.setInt32(offset + 28, p.openPaise | 0);
  view.setInt32(offset + 32, p.highPaise | 0);
  view.setInt32(offset + 36, p.lowPaise | 0);
  view.setInt32(offset + 40, p.closePaise | 0);
  if (mode === 'quote') return offset + 44;
  view.setInt32(offset + 44, p.lastTradeTimeSec | 0);
  view.setInt32(offset + 48, 0); // oi
  view.setInt32(offset + 52, 0); // oi day high
  view.setInt32(offset + 56, 0); // oi day low
  view.setInt32(offset + 60, p.exchangeTimeSec | 0);
  let at = offset + 64;
  for (let side = 0; side < 2; side += 1) {
    const count = p.depthCount[side]!;
    for (let k = 0; k < PACKET_DEPTH_LEVELS; k += 1) {
      const i = side * PACKET_DEPTH_LEVELS + k;
      const present = k < count;
      view.setInt32(at, present ? Math.min(p.depthQuantity[i]!, INT32_MAX) | 0 : 0);
      view.setInt32(at + 4, present ? p.depthPricePaise[i]! | 0 : 0);
      view.setUint16(at + 8, present ? Math.min(p.depthOrders[i]!, 0xffff) : 0);
      view.setUint16(at + 10, 0);
      at += 12;
    }
  }
  return at;
}

const scratchBuilder = new PacketBuilder();

/** Writes one packet (without its length prefix) at `offset`; returns the next offset. */
export function writePacket(buffer: Buffer, offset: number, state: PacketState, mode: TickerMode): number {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  return writeBuilt(view, offset, scratchBuilder.load(state), mode);
}

/** Largest number of packets in one frame (the count is an int16). */
export const MAX_PACKETS_PER_FRAME = 32_767;
/** Packets per frame the simulator sends at most (real Kite frames are smaller; a frame is one `ticks` event). */
export const DEFAULT_PACKETS_PER_FRAME = 1000;

/** Encodes a frame of packets; each item names its state and mode. */
export function encodeFrame(items: readonly { readonly state: PacketState; readonly mode: TickerMode }[]): Buffer {
  const writer = new FrameWriter(Math.max(1, items.length));
  for (const item of items) writer.append(scratchBuilder.load(item.state), item.mode);
  return writer.take() ?? Buffer.from([0, 0]);
}

/**
 * Accumulates packets into one frame in a buffer allocated once; {@link take} copies the
 * finished frame out (the socket may hold a sent buffer for a while, so it is never reused).
 */
export class FrameWriter {
  private readonly buffer: Buffer;
  private readonly view: DataView;
  private count = 0;
  private offset = 2;

  constructor(readonly maxPackets: number = DEFAULT_PACKETS_PER_FRAME) {
    if (!Number.isSafeInteger(maxPackets) || maxPackets < 1 || maxPackets > MAX_PACKETS_PER_FRAME)
      throw new RangeError(`maxPackets must be 1..${MAX_PACKETS_PER_FRAME}`);
    this.buffer = Buffer.allocUnsafeSlow(2 + maxPackets * MAX_PACKET_BYTES);
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  /** Packets in the frame so far. */
  get packets(): number {
    return this.count;
  }

  /** True when no further packet fits (take the frame first). */
  get full(): boolean {
    return this.count >= this.maxPackets;
  }

  /** Appends a packet; returns false (and writes nothing) when the frame is full. */
  append(packet: PacketBuilder, mode: TickerMode): boolean {
    if (this.count >= this.maxPackets) return false;
    const length = packetLength(mode, packet.tradable);
    this.view.setUint16(this.offset, length);
    this.offset = writeBuilt(this.view, this.offset + 2, packet, mode);
    this.count += 1;
    return true;
  }

  /** Drops the packets written so far. */
  clear(): void {
    this.count = 0;
    this.offset = 2;
  }

  /** The frame so far as its own buffer (undefined when empty); the writer starts a new frame. */
  take(): Buffer | undefined {
    if (this.count === 0) return undefined;
    this.view.setUint16(0, this.count);
    const frame = Buffer.allocUnsafe(this.offset);
    this.buffer.copy(frame, 0, 0, this.offset);
    this.clear();
    return frame;
  }
}

/** A heartbeat: one byte, which the client counts as liveness and does not parse. */
export const HEARTBEAT_FRAME: Buffer = Buffer.alloc(1);
