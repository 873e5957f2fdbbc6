/**
 * The simulator's order book for one symbol, with price-time priority.
 *
 * Two kinds of liquidity sit in it:
 * - **client orders** from every user of the simulator, resting in FIFO queues per price;
 * - a **market ladder**: five passive levels each side around the last market tick
 *   (its bid/ask when the source has them, else one tick either side of the last price),
 *   rebuilt on every market tick. Whatever clients take from the ladder stays taken until
 *   the next tick replaces it.
 *
 * At the same price a resting client order comes before the ladder (it was there first:
 * the ladder is renewed with every tick). Trades happen at the resting side's price.
 */
import { roundToTick, type Instrument } from '../model/instrument.js';
import type { DepthLevel, Tick } from '../model/market.js';
import type { Paise } from '../model/money.js';
import type { Side } from '../model/order.js';
import type { Random } from '../streams/random.js';
import { PACKET_DEPTH_LEVELS, PacketBuilder } from './ticker-codec.js';

/** Depth levels per side the ladder and the ticker publish. */
export const DEPTH_LEVELS = 5;

const NO_FILLS: readonly BookFill[] = Object.freeze([]);

/** An order resting in the book. */
export interface RestingEntry {
  readonly orderId: string;
  readonly side: Side;
  readonly pricePaise: Paise;
  remaining: number;
}

/** One execution of a client order; a trade between two clients yields one per side. */
export interface BookFill {
  readonly orderId: string;
  readonly quantity: number;
  readonly pricePaise: Paise;
}

/** An incoming client order: match as far as `limitPaise` allows. */
export interface IncomingOrder {
  readonly orderId: string;
  readonly side: Side;
  /** Worst acceptable price (the limit, or the market-protection price of a MARKET order). */
  readonly limitPaise: Paise;
  readonly quantity: number;
}

interface PriceLevel {
  readonly pricePaise: Paise;
  readonly queue: RestingEntry[];
}

/** The order book of one instrument. */
export class SymbolBook {
  /** Client bids, best (highest) first. */
  private readonly bids: PriceLevel[] = [];
  /** Client asks, best (lowest) first. */
  private readonly asks: PriceLevel[] = [];
  private readonly entries = new Map<string, RestingEntry>();
  private readonly ladderBidPrice = new Int32Array(DEPTH_LEVELS);
  private readonly ladderBidQuantity = new Float64Array(DEPTH_LEVELS);
  private readonly ladderAskPrice = new Int32Array(DEPTH_LEVELS);
  private readonly ladderAskQuantity = new Float64Array(DEPTH_LEVELS);
  private hasLadder = false;

  constructor(
    readonly instrument: Instrument,
    private readonly random: Random,
  ) {}

  /** Number of client orders resting. */
  get restingCount(): number {
    return this.entries.size;
  }

  /**
   * Replaces the market ladder from a market tick, then lets it trade against resting client
   * orders that it crosses (the client orders were first, so they trade at their own price).
   */
  onMarketTick(tick: Tick): readonly BookFill[] {
    const step = Math.max(1, this.instrument.tickSizePaise);
    const lot = Math.max(1, this.instrument.lotSize);
    const bestBid = tick.bidPaise ?? roundToTick(tick.ltpPaise - step, step, 'down');
    const bestAsk = Math.max(tick.askPaise ?? roundToTick(tick.ltpPaise + step, step, 'up'), bestBid + step);
    const scale = 20 + this.random.int(200);
    const bidBase = Math.max(1, tick.bidQuantity ?? scale * lot);
    const askBase = Math.max(1, tick.askQuantity ?? scale * lot);
    for (let k = 0; k < DEPTH_LEVELS; k += 1) {
      this.ladderBidPrice[k] = Math.max(step, bestBid - k * step);
      this.ladderAskPrice[k] = bestAsk + k * step;
      this.ladderBidQuantity[k] = roundLot(bidBase * (1 + k * 0.5), lot);
      this.ladderAskQuantity[k] = roundLot(askBase * (1 + k * 0.5), lot);
    }
    this.hasLadder = true;
    if (this.entries.size === 0) return NO_FILLS;
    const fills: BookFill[] = [];
    // Resting client bids at or above the ladder's asks, and asks at or below its bids.
    this.crossRestingWithLadder(this.bids, this.ladderAskPrice, this.ladderAskQuantity, (resting, ladder) => resting >= ladder, fills);
    this.crossRestingWithLadder(this.asks, this.ladderBidPrice, this.ladderBidQuantity, (resting, ladder) => resting <= ladder, fills);
    return fills;
  }

  private crossRestingWithLadder(
    levels: PriceLevel[],
    ladderPrice: Int32Array,
    ladderQuantity: Float64Array,
    crosses: (resting: Paise, ladder: Paise) => boolean,
    fills: BookFill[],
  ): void {
    while (levels.length > 0) {
      const level = levels[0]!;
      let k = 0;
      while (k < DEPTH_LEVELS && (ladderQuantity[k]! <= 0 || !crosses(level.pricePaise, ladderPrice[k]!))) k += 1;
      if (k === DEPTH_LEVELS) return;
      const entry = level.queue[0]!;
      const quantity = Math.min(entry.remaining, ladderQuantity[k]!);
      ladderQuantity[k] = ladderQuantity[k]! - quantity;
      entry.remaining -= quantity;
      fills.push({ orderId: entry.orderId, quantity, pricePaise: level.pricePaise });
      if (entry.remaining === 0) this.removeHead(levels, level, entry);
    }
  }

  /**
   * Matches an incoming order against the opposite side (client orders and the ladder, best
   * price first, clients first at equal prices) up to its limit. Returns the fills of both
   * sides and the unfilled quantity; the caller decides whether the rest rests ({@link rest}).
   */
  match(order: IncomingOrder): { readonly fills: BookFill[]; readonly remaining: number } {
    const fills: BookFill[] = [];
    let remaining = order.quantity;
    const buying = order.side === 'BUY';
    const clientLevels = buying ? this.asks : this.bids;
    const ladderPrice = buying ? this.ladderAskPrice : this.ladderBidPrice;
    const ladderQuantity = buying ? this.ladderAskQuantity : this.ladderBidQuantity;
    const acceptable = (price: Paise): boolean => (buying ? price <= order.limitPaise : price >= order.limitPaise);
    const better = (a: Paise, b: Paise): boolean => (buying ? a <= b : a >= b);
    while (remaining > 0) {
      const level = clientLevels[0];
      let k = -1;
      if (this.hasLadder) {
        for (let i = 0; i < DEPTH_LEVELS; i += 1) {
          if (ladderQuantity[i]! > 0) {
            k = i;
            break;
          }
        }
      }
      const ladderBest = k >= 0 ? ladderPrice[k]! : undefined;
      if (level !== undefined && (ladderBest === undefined || better(level.pricePaise, ladderBest))) {
        if (!acceptable(level.pricePaise)) break;
        const entry = level.queue[0]!;
        const quantity = Math.min(remaining, entry.remaining);
        entry.remaining -= quantity;
        remaining -= quantity;
        fills.push({ orderId: entry.orderId, quantity, pricePaise: level.pricePaise });
        fills.push({ orderId: order.orderId, quantity, pricePaise: level.pricePaise });
        if (entry.remaining === 0) this.removeHead(clientLevels, level, entry);
      } else if (ladderBest !== undefined) {
        if (!acceptable(ladderBest)) break;
        const quantity = Math.min(remaining, ladderQuantity[k]!);
        ladderQuantity[k] = ladderQuantity[k]! - quantity;
        remaining -= quantity;
        fills.push({ orderId: order.orderId, quantity, pricePaise: ladderBest });
      } else {
        break;
      }
    }
    return { fills, remaining };
  }

  /** Puts the unfilled part of a limit order at the back of its price level. */
  rest(orderId: string, side: Side, pricePaise: Paise, quantity: number): void {
    const entry: RestingEntry = { orderId, side, pricePaise, remaining: quantity };
    const levels = side === 'BUY' ? this.bids : this.asks;
    const before = side === 'BUY' ? (a: Paise, b: Paise) => a > b : (a: Paise, b: Paise) => a < b;
    let index = 0;
    while (index < levels.length && before(levels[index]!.pricePaise, pricePaise)) index += 1;
    const existing = levels[index];
    if (existing !== undefined && existing.pricePaise === pricePaise) existing.queue.push(entry);
    else levels.splice(index, 0, { pricePaise, queue: [entry] });
    this.entries.set(orderId, entry);
  }

  /** Removes a resting order; returns its unfilled quantity (0 when it was not resting). */
  remove(orderId: string): number {
    const entry = this.entries.get(orderId);
    if (entry === undefined) return 0;
    const levels = entry.side === 'BUY' ? this.bids : this.asks;
    const levelIndex = levels.findIndex((l) => l.pricePaise === entry.pricePaise);
    const level = levels[levelIndex];
    if (level !== undefined) {
      const at = level.queue.indexOf(entry);
      if (at >= 0) level.queue.splice(at, 1);
      if (level.queue.length === 0) levels.splice(levelIndex, 1);
    }
    this.entries.delete(orderId);
    return entry.remaining;
  }

  /** Remaining quantity of a resting order, undefined when not resting. */
  restingQuantity(orderId: string): number | undefined {
    return this.entries.get(orderId)?.remaining;
  }

  /** Five levels each side: client orders and the ladder merged by price. */
  depth(): { readonly buy: DepthLevel[]; readonly sell: DepthLevel[] } {
    const packet = new PacketBuilder();
    this.writeDepth(packet);
    return { buy: levelsOf(packet, 0), sell: levelsOf(packet, 1) };
  }

  /** Writes the five merged levels per side into a packet's depth (the ticker's path: no allocation). */
  writeDepth(packet: PacketBuilder): void {
    packet.depthCount[0] = this.mergeSide(this.bids, this.ladderBidPrice, this.ladderBidQuantity, true, packet, 0);
    packet.depthCount[1] = this.mergeSide(this.asks, this.ladderAskPrice, this.ladderAskQuantity, false, packet, PACKET_DEPTH_LEVELS);
  }

  /** Total quantity on each side (clients plus ladder). */
  totals(): { readonly buy: number; readonly sell: number } {
    return { buy: this.totalQuantity('BUY'), sell: this.totalQuantity('SELL') };
  }

  /** Total quantity on one side (clients plus ladder). */
  totalQuantity(side: Side): number {
    const ladder = side === 'BUY' ? this.ladderBidQuantity : this.ladderAskQuantity;
    let total = 0;
    for (let k = 0; k < DEPTH_LEVELS; k += 1) total += ladder[k]!;
    if (this.entries.size > 0) for (const entry of this.entries.values()) if (entry.side === side) total += entry.remaining;
    return total;
  }

  /** Merges client levels and the ladder (best first) into `packet`'s depth arrays from `at`; returns the levels written. */
  private mergeSide(
    levels: readonly PriceLevel[],
    ladderPrice: Int32Array,
    ladderQuantity: Float64Array,
    descending: boolean,
    packet: PacketBuilder,
    at: number,
  ): number {
    let written = 0;
    let i = 0;
    let k = 0;
    while (written < DEPTH_LEVELS) {
      while (k < DEPTH_LEVELS && (!this.hasLadder || ladderQuantity[k]! <= 0)) k += 1;
      const level = levels[i];
      const ladderPaise = k < DEPTH_LEVELS ? ladderPrice[k]! : undefined;
      if (level === undefined && ladderPaise === undefined) break;
      let pricePaise: Paise;
      let quantity: number;
      let orders: number;
      if (
        level !== undefined &&
        (ladderPaise === undefined || level.pricePaise === ladderPaise || (descending ? level.pricePaise > ladderPaise : level.pricePaise < ladderPaise))
      ) {
        pricePaise = level.pricePaise;
        quantity = 0;
        for (const entry of level.queue) quantity += entry.remaining;
        orders = level.queue.length;
        if (ladderPaise === level.pricePaise) {
          quantity += ladderQuantity[k]!;
          orders += 1;
          k += 1;
        }
        i += 1;
      } else {
        pricePaise = ladderPaise!;
        quantity = ladderQuantity[k]!;
        orders = 1 + (pricePaise % 7);
        k += 1;
      }
      packet.depthPricePaise[at + written] = pricePaise;
      packet.depthQuantity[at + written] = quantity;
      packet.depthOrders[at + written] = orders;
      written += 1;
    }
    return written;
  }

  private removeHead(levels: PriceLevel[], level: PriceLevel, entry: RestingEntry): void {
    level.queue.shift();
    this.entries.delete(entry.orderId);
    if (level.queue.length === 0) levels.shift();
  }
}

function levelsOf(packet: PacketBuilder, side: 0 | 1): DepthLevel[] {
  const out: DepthLevel[] = [];
  for (let k = 0; k < packet.depthCount[side]!; k += 1) {
    const i = side * PACKET_DEPTH_LEVELS + k;
    out.push({ pricePaise: packet.depthPricePaise[i]!, quantity: packet.depthQuantity[i]!, orders: packet.depthOrders[i]! });
  }
  return out;
}

function roundLot(quantity: number, lot: number): number {
  return Math.max(lot, Math.round(quantity / lot) * lot);
}
