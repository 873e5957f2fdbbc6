/**
 * The pre-trade risk manager. Pure and
 * synchronous: no I/O, no clock of its own; the risk actor feeds it intents, fills, closed
 * orders and marks, and acts on what it returns. All money is integer paise; percentages
 * are integer basis points (1 bp = 0.01 %); no float ever touches an amount.
 *
 * Checks, in order (the first failure is the answer; a refusal changes nothing):
 *  1. kill switch (the day's loss reached `maxDailyLossPaise`: everything refused until reset)
 *  2. quantity is a positive whole number; prices present where the order type needs them;
 *     no MIS order from the intraday cut-off (15:20 IST) to the end of the day (`mis-cutoff`)
 *  3. instrument known; lot size; freeze quantity; tick size; daily price band
 *  4. a price to value the order (limit, else trigger, else last price)
 *  5. fat finger: limit/trigger more than `fatFingerBps` away from the last price
 *  6. max order quantity and value
 *  7. max position per symbol, counting working orders on each side (worst case)
 *  8. gross and net exposure of the portfolio (worst case with working orders, at marks)
 *  9. orders per rolling second, per strategy and overall
 * Limits 7 and 8 let through an order that does not make the worst case worse (a reducing
 * order when marks moved a book past a limit); nothing else is ever waived.
 */
import {
  closedReasonAt,
  DEFAULT_SQUARE_OFF_MINUTE,
  describeClosure,
  formatInr,
  isMarketOpenAt,
  isPastMisCutoff,
  MIS_CUTOFF_CODE,
  misCutoffMessage,
  mul,
  priceBand,
  type Instrument,
  type OrderIntent,
  type Paise,
  type RiskSeverity,
} from '../model/index.js';
import type { RiskRejectionCode } from './codes.js';
import { RateWindow } from './rate-window.js';
import { DEFAULT_RISK_LIMITS, type ExposureView, type RiskLimits, type RiskRejection } from './limits.js';

/** Every limit the risk manager enforces. Extends the per-order limits ({@link RiskLimits}). */
export interface RiskManagerLimits extends RiskLimits {
  /** Largest Σ |worst-case position| × mark over the portfolio's symbols. */
  readonly maxGrossExposurePaise: Paise;
  /** Largest |Σ signed worst-case position × mark| of the portfolio. */
  readonly maxNetExposurePaise: Paise;
  /** The day's loss (realised + unrealised − charges since the day began) that trips the kill switch. Positive. */
  readonly maxDailyLossPaise: Paise;
  /** A limit or trigger price further than this from the last price is a fat finger, in basis points (500 = 5 %). */
  readonly fatFingerBps: number;
}

/** Defaults: ₹10 lakh per order, ₹50 lakh gross, ₹25 lakh net, ₹50,000 daily loss, 5 % fat finger, 10 orders/s. */
export const DEFAULT_RISK_MANAGER_LIMITS: RiskManagerLimits = {
  ...DEFAULT_RISK_LIMITS,
  maxGrossExposurePaise: 50_00_000_00,
  maxNetExposurePaise: 25_00_000_00,
  maxDailyLossPaise: 50_000_00,
  fatFingerBps: 500,
};

/** What the owner of the manager must do now. */
export type RiskAction = 'cancel-open-orders' | 'pause-strategies';

/** The actions a tripped kill switch asks for. */
export const KILL_SWITCH_ACTIONS: readonly RiskAction[] = ['cancel-open-orders', 'pause-strategies'];

/** A refusal: stable code, trader-readable message, alert severity and the actions it asks for. */
export interface RiskManagerRejection extends RiskRejection {
  readonly code: RiskRejectionCode;
  readonly severity: RiskSeverity;
  /** Empty for ordinary refusals; {@link KILL_SWITCH_ACTIONS} for `kill-switch`. */
  readonly actions: readonly RiskAction[];
}

/** The answer to {@link RiskManager.evaluate}. */
export type RiskVerdict = { readonly approved: true } | { readonly approved: false; readonly rejection: RiskManagerRejection };

/** Why and when the kill switch tripped. */
export interface KillSwitchState {
  readonly portfolioId: string;
  readonly trippedAtMs: number;
  readonly dayPnlPaise: Paise;
  readonly maxDailyLossPaise: Paise;
  readonly message: string;
  readonly actions: readonly RiskAction[];
  /** Who engaged it by hand (the desk's or the API's kill switch); absent when the daily loss tripped it. */
  readonly engagedBy?: string;
}

/** A fill as the risk manager needs it. `signedQuantity`: + bought, − sold. */
export interface RiskFill {
  readonly portfolioId: string;
  readonly symbol: string;
  readonly signedQuantity: number;
  readonly pricePaise: Paise;
  readonly chargesPaise?: Paise | undefined;
  /** Not from an order risk approved (the broker's auto square-off): working quantities stay as they are. */
  readonly unreserved?: boolean | undefined;
}

/** Position and working orders of one portfolio in one symbol. Quantities are whole shares. */
export interface SymbolBook {
  /** Filled net position, + long / − short. */
  net: number;
  /** Quantity of approved buy orders not yet filled or closed (≥ 0). */
  workingBuy: number;
  /** Quantity of approved sell orders not yet filled or closed (≥ 0). */
  workingSell: number;
}

/** Exposures of one portfolio, at the current marks, worst case over working orders. */
export interface PortfolioRisk {
  readonly dayPnlPaise: Paise;
  readonly grossExposurePaise: Paise;
  readonly netExposurePaise: Paise;
  readonly symbols: Readonly<Record<string, Readonly<SymbolBook>>>;
}

/** JSON form of the manager for snapshots (rate windows are not kept: they cover one second). */
export interface EncodedRiskManager {
  readonly version: 1;
  readonly marks: Record<string, Paise>;
  readonly portfolios: Record<string, { readonly dayCashFlowPaise: Paise; readonly dayStartValuePaise: Paise; readonly symbols: Record<string, SymbolBook> }>;
  readonly killSwitch: KillSwitchState | null;
}

/** Options of {@link RiskManager}. */
export interface RiskManagerOptions {
  /**
   * Instrument lookup for lot, freeze, tick and band checks. When absent those checks are
   * skipped; when present, an unknown symbol is refused (`unknown-instrument`).
   */
  readonly instrument?: (symbol: string) => Instrument | undefined;
  /** The MIS cut-off, minutes after IST midnight (default 15:20): no MIS order from then to the day's end. */
  readonly squareOffMinute?: number;
}

/** Σ worst quantity × mark, Σ (net + buys) × mark and Σ (net − sells) × mark over a book's symbols: its exposures' parts. */
interface ExposureSums {
  grossPaise: number;
  longPaise: number;
  shortPaise: number;
}

/**
 * A portfolio's book. Its {@link ExposureSums} are at the marks (0 where a symbol has none) and
 * kept up to date on every change of a symbol's book and every mark (exact integers), so an
 * intent's check is O(1), not a pass over every symbol of the portfolio.
 */
interface PortfolioBook extends ExposureSums {
  readonly symbols: Map<string, SymbolBook>;
  /** Σ over today's fills of −signed quantity × price − charges. */
  dayCashFlowPaise: number;
  /** Σ net × mark when the day began. */
  dayStartValuePaise: number;
  /** Σ net × mark, kept up to date on every mark and fill (exact integers), so checks are O(1). */
  markedValuePaise: number;
}

const abs = Math.abs;
const worstQuantity = (book: SymbolBook): number => Math.max(abs(book.net + book.workingBuy), abs(book.net - book.workingSell));

/** Net exposure: the larger side, all working buys filled or all working sells filled. */
const netExposure = (sums: ExposureSums): Paise => Math.max(abs(sums.longPaise), abs(sums.shortPaise));

/** A symbol's terms, always made here: one object shape (spread copies of mixed shapes are slow on Node 20). */
const symbolTerms = (net: number, workingBuy: number, workingSell: number): SymbolBook => ({ net, workingBuy, workingSell });

/** Exposure sums move by one symbol's terms at `mark`, `sign` +1 to add them, −1 to take them out. */
function moveSums(sums: ExposureSums, terms: SymbolBook, mark: Paise, sign: 1 | -1): void {
  if (mark === 0) return;
  sums.grossPaise += sign * mul(worstQuantity(terms), mark);
  sums.longPaise += sign * mul(terms.net + terms.workingBuy, mark);
  sums.shortPaise += sign * mul(terms.net - terms.workingSell, mark);
}

/**
 * "NSE is closed on 2024-10-02 (Mahatma Gandhi Jayanti)" when the IST date of `nowMs` is a
 * listed NSE trading holiday (`src/model/calendar.ts`) and no special session (Muhurat) is
 * open at that instant; undefined otherwise. Weekends are not judged here.
 */
export function holidayClosure(nowMs: number): string | undefined {
  const closure = closedReasonAt(nowMs);
  if (closure?.kind !== 'holiday' || isMarketOpenAt(nowMs)) return undefined;
  return describeClosure(closure);
}

function reject(code: RiskRejectionCode, message: string, severity: RiskSeverity = 'warning', actions: readonly RiskAction[] = []): RiskVerdict {
  return { approved: false, rejection: { code, message, severity, actions } };
}

const isPositivePaise = (value: number): boolean => Number.isSafeInteger(value) && value > 0;
const bpsText = (bps: number): string => `${(bps / 100).toFixed(2)} %`;

/**
 * Pre-trade risk for every intent, with the state it needs: positions and working orders
 * per portfolio and symbol, marks, the day's P&L and the kill switch. One instance per
 * risk actor. Deterministic: the same calls give the same answers.
 */
export class RiskManager {
  private readonly overall: RateWindow;
  private readonly perStrategy = new Map<string, RateWindow>();
  private readonly marks = new Map<string, Paise>();
  private readonly portfolios = new Map<string, PortfolioBook>();
  private killed: KillSwitchState | undefined;

  constructor(
    readonly limits: RiskManagerLimits,
    private readonly options: RiskManagerOptions = {},
  ) {
    this.overall = new RateWindow(limits.maxOrdersPerSecond);
  }

  /**
   * Checks an intent against every limit. Approval reserves its quantity as working and
   * counts it in the rate windows; a refusal changes nothing (except that a fresh
   * `lastPricePaise` is recorded as the symbol's mark, which may trip the kill switch).
   */
  evaluate(intent: OrderIntent, nowMs: number, lastPricePaise?: Paise): RiskVerdict {
    if (lastPricePaise !== undefined && isPositivePaise(lastPricePaise)) this.onMark(intent.symbol, lastPricePaise, nowMs);
    const book = this.book(intent.portfolioId);
    if (!this.killed) this.checkDailyLoss(intent.portfolioId, book, nowMs);
    if (this.killed) {
      return reject('kill-switch', `trading is halted: ${this.killed.message}; reset the kill switch to trade again`, 'critical', this.killed.actions);
    }

    const holiday = holidayClosure(nowMs);
    if (holiday !== undefined) return reject('market-holiday', `${holiday}; orders are refused on trading holidays`);

    const { quantity, symbol } = intent;
    if (!Number.isSafeInteger(quantity) || quantity <= 0) {
      return reject('invalid-quantity', `quantity must be a positive whole number, got ${quantity}`);
    }
    const { limitPricePaise: limit, triggerPricePaise: trigger } = intent;
    if (limit !== undefined && !isPositivePaise(limit)) return reject('invalid-price', `limit price must be a positive amount in paise, got ${limit}`);
    if (trigger !== undefined && !isPositivePaise(trigger)) return reject('invalid-price', `trigger price must be a positive amount in paise, got ${trigger}`);
    if ((intent.orderType === 'LIMIT' || intent.orderType === 'SL') && limit === undefined) {
      return reject('invalid-price', `a ${intent.orderType} order needs a limit price`);
    }
    if ((intent.orderType === 'SL' || intent.orderType === 'SL-M') && trigger === undefined) {
      return reject('invalid-price', `a ${intent.orderType} order needs a trigger price`);
    }
    const cutoff = this.options.squareOffMinute ?? DEFAULT_SQUARE_OFF_MINUTE;
    if (intent.product === 'MIS' && isPastMisCutoff(nowMs, cutoff)) return reject(MIS_CUTOFF_CODE, misCutoffMessage(cutoff));

    const instrumentCheck = this.checkInstrument(intent);
    if (instrumentCheck) return instrumentCheck;

    const last = this.marks.get(symbol);
    const price = limit ?? trigger ?? last;
    if (price === undefined) return reject('no-price', `no price for ${symbol} yet; cannot value the order`);

    if (last !== undefined) {
      for (const [what, candidate] of [
        ['limit', limit],
        ['trigger', trigger],
      ] as const) {
        if (candidate === undefined) continue;
        if (mul(abs(candidate - last), 10_000) > mul(this.limits.fatFingerBps, last)) {
          return reject(
            'fat-finger',
            `${what} price ${formatInr(candidate)} is more than ${bpsText(this.limits.fatFingerBps)} away from the last price ${formatInr(last)} of ${symbol}`,
          );
        }
      }
    }

    if (quantity > this.limits.maxOrderQuantity) {
      return reject('max-order-quantity', `quantity ${quantity} is above the limit of ${this.limits.maxOrderQuantity} per order`);
    }
    const value = mul(quantity, price);
    if (value > this.limits.maxOrderValuePaise) {
      return reject('max-order-value', `order value ${formatInr(value)} is above the limit of ${formatInr(this.limits.maxOrderValuePaise)} per order`);
    }

    const current = this.symbolBook(book, symbol);
    const next: SymbolBook =
      intent.side === 'BUY'
        ? symbolTerms(current.net, current.workingBuy + quantity, current.workingSell)
        : symbolTerms(current.net, current.workingBuy, current.workingSell + quantity);
    const worstBefore = worstQuantity(current);
    const worstAfter = worstQuantity(next);
    if (worstAfter > this.limits.maxPositionQuantity && worstAfter > worstBefore) {
      return reject(
        'max-position',
        `position in ${symbol} could reach ${worstAfter} shares with working orders, beyond the limit of ${this.limits.maxPositionQuantity}`,
      );
    }

    // the book's sums as they are (valuing its own symbol at the order's price while it has no mark);
    // the intent changes only its own symbol's terms
    const mark = last ?? price;
    const before: ExposureSums = { grossPaise: book.grossPaise, longPaise: book.longPaise, shortPaise: book.shortPaise };
    if (last === undefined) moveSums(before, current, mark, 1);
    const after: ExposureSums = { grossPaise: before.grossPaise, longPaise: before.longPaise, shortPaise: before.shortPaise };
    moveSums(after, current, mark, -1);
    moveSums(after, next, mark, 1);
    if (after.grossPaise > this.limits.maxGrossExposurePaise && after.grossPaise > before.grossPaise) {
      return reject(
        'max-gross-exposure',
        `gross exposure of portfolio ${intent.portfolioId} would reach ${formatInr(after.grossPaise)}, beyond the limit of ${formatInr(this.limits.maxGrossExposurePaise)}`,
      );
    }
    const netAfter = netExposure(after);
    if (netAfter > this.limits.maxNetExposurePaise && netAfter > netExposure(before)) {
      return reject(
        'max-net-exposure',
        `net exposure of portfolio ${intent.portfolioId} would reach ${formatInr(netAfter)}, beyond the limit of ${formatInr(this.limits.maxNetExposurePaise)}`,
      );
    }

    let window = this.perStrategy.get(intent.strategyId);
    if (!window) {
      window = new RateWindow(this.limits.maxOrdersPerSecondPerStrategy);
      this.perStrategy.set(intent.strategyId, window);
    }
    if (!window.allows(nowMs)) {
      return reject(
        'max-orders-per-second-strategy',
        `strategy ${intent.strategyId} already sent ${this.limits.maxOrdersPerSecondPerStrategy} orders in the last second`,
      );
    }
    if (!this.overall.allows(nowMs)) {
      return reject('max-orders-per-second', `${this.limits.maxOrdersPerSecond} orders already sent in the last second (all strategies)`);
    }

    window.record(nowMs);
    this.overall.record(nowMs);
    this.setTerms(book, symbol, current, next);
    if (!this.marks.has(symbol)) this.setMark(symbol, price);
    return { approved: true };
  }

  /** A fill: moves quantity from working to net and books the cash flow. May trip the kill switch. */
  onFill(fill: RiskFill, atMs: number): KillSwitchState | undefined {
    const book = this.book(fill.portfolioId);
    if (!this.marks.has(fill.symbol)) this.setMark(fill.symbol, fill.pricePaise);
    const before = this.symbolBook(book, fill.symbol);
    const signed = fill.signedQuantity;
    const after = symbolTerms(before.net + signed, before.workingBuy, before.workingSell);
    if (fill.unreserved === true) {
      // nothing was reserved for it
    } else if (signed > 0) after.workingBuy = Math.max(0, before.workingBuy - signed);
    else after.workingSell = Math.max(0, before.workingSell + signed);
    this.setTerms(book, fill.symbol, before, after);
    book.markedValuePaise += mul(signed, this.marks.get(fill.symbol) ?? 0);
    book.dayCashFlowPaise += -mul(signed, fill.pricePaise) - (fill.chargesPaise ?? 0);
    return this.killed ? undefined : this.checkDailyLoss(fill.portfolioId, book, atMs);
  }

  /** An order closed (cancelled, rejected, expired) with `signedRemainder` unfilled: releases it. */
  onOrderClosed(portfolioId: string, symbol: string, signedRemainder: number): void {
    const book = this.book(portfolioId);
    const before = this.symbolBook(book, symbol);
    const after = symbolTerms(before.net, before.workingBuy, before.workingSell);
    if (signedRemainder > 0) after.workingBuy = Math.max(0, before.workingBuy - signedRemainder);
    else after.workingSell = Math.max(0, before.workingSell + signedRemainder);
    this.setTerms(book, symbol, before, after);
  }

  /** A new last price for a symbol. Returns the kill switch state when this mark tripped it. */
  onMark(symbol: string, lastPricePaise: Paise, atMs: number): KillSwitchState | undefined {
    if (!isPositivePaise(lastPricePaise)) return undefined;
    this.setMark(symbol, lastPricePaise);
    if (this.killed) return undefined;
    // keys, not entries: this runs on every mark, and an entry is an array to allocate
    for (const portfolioId of this.portfolios.keys()) {
      const book = this.portfolios.get(portfolioId)!;
      if (!book.symbols.has(symbol)) continue;
      const tripped = this.checkDailyLoss(portfolioId, book, atMs);
      if (tripped) return tripped;
    }
    return undefined;
  }

  /** Begins a trading day: the day's P&L restarts from the current marked value. The kill switch stays as it is. */
  startDay(): void {
    for (const book of this.portfolios.values()) {
      book.dayCashFlowPaise = 0;
      book.dayStartValuePaise = this.markedValue(book);
    }
  }

  /** Re-arms trading after a person reviewed the halt. Refuses again at once if the day's loss is still past the limit. */
  resetKillSwitch(): void {
    this.killed = undefined;
  }

  /**
   * A person stops trading now (the desk's kill switch): every new order is refused, as after a
   * daily-loss trip, until {@link resetKillSwitch}. Returns the state when this engaged it,
   * undefined when it was already tripped (the first reason stays).
   */
  engageKillSwitch(requestedBy: string, reason: string, atMs: number): KillSwitchState | undefined {
    if (this.killed) return undefined;
    const [portfolioId = '*'] = this.portfolios.keys();
    this.killed = {
      portfolioId,
      trippedAtMs: atMs,
      dayPnlPaise: this.dayPnlPaise(portfolioId),
      maxDailyLossPaise: this.limits.maxDailyLossPaise,
      message: `engaged by ${requestedBy}${reason === '' ? '' : `: ${reason}`}`,
      actions: KILL_SWITCH_ACTIONS,
      engagedBy: requestedBy,
    };
    return this.killed;
  }

  /** The kill switch, when tripped. */
  get killSwitch(): KillSwitchState | undefined {
    return this.killed;
  }

  /** Filled position plus every working order of a portfolio in a symbol (+ long / − short): what an exit reduces. */
  committedQuantity(portfolioId: string, symbol: string): number {
    const book = this.portfolios.get(portfolioId)?.symbols.get(symbol);
    return book ? book.net + book.workingBuy - book.workingSell : 0;
  }

  /** The last price the manager knows for a symbol. */
  mark(symbol: string): Paise | undefined {
    return this.marks.get(symbol);
  }

  /** Today's P&L of a portfolio: cash flows of today's fills + marked value now − marked value at the day's start. */
  dayPnlPaise(portfolioId: string): Paise {
    const book = this.portfolios.get(portfolioId);
    return book ? book.dayCashFlowPaise + this.markedValue(book) - book.dayStartValuePaise : 0;
  }

  /** Risk figures of one portfolio (empty when unknown). */
  portfolio(portfolioId: string): PortfolioRisk {
    const book = this.portfolios.get(portfolioId);
    if (!book) return { dayPnlPaise: 0, grossExposurePaise: 0, netExposurePaise: 0, symbols: {} };
    return {
      dayPnlPaise: this.dayPnlPaise(portfolioId),
      grossExposurePaise: book.grossPaise,
      netExposurePaise: netExposure(book),
      symbols: Object.fromEntries([...book.symbols].map(([s, b]) => [s, { ...b }])),
    };
  }

  /** The minimal gate's view (`portfolioId:symbol` → net and signed working), for `RiskStatus`. */
  exposureViews(): Record<string, ExposureView> {
    const out: Record<string, ExposureView> = {};
    for (const [portfolioId, book] of this.portfolios) {
      for (const [symbol, b] of book.symbols) out[`${portfolioId}:${symbol}`] = { net: b.net, working: b.workingBuy - b.workingSell };
    }
    return out;
  }

  /** Portfolios the manager has seen, sorted. */
  portfolioIds(): string[] {
    return [...this.portfolios.keys()].sort();
  }

  /**
   * Re-marks every symbol with a position or working order from a price source (the market
   * cache), so exposures and the day's P&L use the freshest prices. Returns the kill switch
   * state when a mark tripped it. No allocation when nothing moved.
   */
  refreshMarks(lastPrice: (symbol: string) => Paise | undefined, atMs: number): KillSwitchState | undefined {
    let tripped: KillSwitchState | undefined;
    for (const book of this.portfolios.values()) {
      book.symbols.forEach((b, symbol) => {
        if (tripped || (b.net === 0 && b.workingBuy === 0 && b.workingSell === 0)) return;
        const price = lastPrice(symbol);
        if (price !== undefined && price !== this.marks.get(symbol)) tripped = this.onMark(symbol, price, atMs);
      });
    }
    return tripped;
  }

  /** Symbols with a position or a working order in any portfolio (the ones whose marks matter). */
  activeSymbols(): string[] {
    const symbols = new Set<string>();
    for (const book of this.portfolios.values()) {
      for (const [symbol, b] of book.symbols) if (b.net !== 0 || b.workingBuy !== 0 || b.workingSell !== 0) symbols.add(symbol);
    }
    return [...symbols].sort();
  }

  /** JSON for snapshots. */
  encode(): EncodedRiskManager {
    return {
      version: 1,
      marks: Object.fromEntries(this.marks),
      portfolios: Object.fromEntries(
        [...this.portfolios].map(([id, book]) => [
          id,
          {
            dayCashFlowPaise: book.dayCashFlowPaise,
            dayStartValuePaise: book.dayStartValuePaise,
            symbols: Object.fromEntries([...book.symbols].map(([s, b]) => [s, { ...b }])),
          },
        ]),
      ),
      killSwitch: this.killed ?? null,
    };
  }

  /** Restores what {@link encode} wrote. */
  restore(encoded: EncodedRiskManager): void {
    this.marks.clear();
    this.portfolios.clear();
    for (const [symbol, price] of Object.entries(encoded.marks)) this.marks.set(symbol, price);
    for (const [id, book] of Object.entries(encoded.portfolios)) {
      this.portfolios.set(id, {
        dayCashFlowPaise: book.dayCashFlowPaise,
        dayStartValuePaise: book.dayStartValuePaise,
        symbols: new Map(Object.entries(book.symbols).map(([s, b]) => [s, { net: b.net, workingBuy: b.workingBuy, workingSell: b.workingSell }])),
        markedValuePaise: 0,
        grossPaise: 0,
        longPaise: 0,
        shortPaise: 0,
      });
    }
    for (const book of this.portfolios.values()) this.recomputeSums(book);
    this.killed = encoded.killSwitch ?? undefined;
  }

  private checkInstrument(intent: OrderIntent): RiskVerdict | undefined {
    if (!this.options.instrument) return undefined;
    const instrument = this.options.instrument(intent.symbol);
    if (!instrument) return reject('unknown-instrument', `${intent.symbol} is not a known instrument`);
    if (intent.quantity % instrument.lotSize !== 0) {
      return reject('lot-size', `quantity ${intent.quantity} is not a multiple of the lot size ${instrument.lotSize} of ${intent.symbol}`);
    }
    if (intent.quantity > instrument.freezeQuantity) {
      return reject('freeze-quantity', `quantity ${intent.quantity} is above the exchange's freeze quantity ${instrument.freezeQuantity} for ${intent.symbol}`);
    }
    const band = priceBand(instrument);
    for (const [what, price] of [
      ['limit', intent.limitPricePaise],
      ['trigger', intent.triggerPricePaise],
    ] as const) {
      if (price === undefined) continue;
      if (price % instrument.tickSizePaise !== 0) {
        return reject(
          'tick-size',
          `${what} price ${formatInr(price)} is not a multiple of the tick size ${formatInr(instrument.tickSizePaise)} of ${intent.symbol}`,
        );
      }
      if (price < band.lowerPaise || price > band.upperPaise) {
        return reject(
          'price-band',
          `${what} price ${formatInr(price)} is outside today's price band of ${intent.symbol} (${formatInr(band.lowerPaise)} to ${formatInr(band.upperPaise)})`,
        );
      }
    }
    return undefined;
  }

  private checkDailyLoss(portfolioId: string, book: PortfolioBook, atMs: number): KillSwitchState | undefined {
    const pnl = book.dayCashFlowPaise + this.markedValue(book) - book.dayStartValuePaise;
    const lossLimit: number = this.limits.maxDailyLossPaise;
    if (pnl > -lossLimit) return undefined;
    this.killed = {
      portfolioId,
      trippedAtMs: atMs,
      dayPnlPaise: pnl,
      maxDailyLossPaise: this.limits.maxDailyLossPaise,
      message: `portfolio ${portfolioId} lost ${formatInr(-pnl)} today, at or beyond the daily loss limit of ${formatInr(this.limits.maxDailyLossPaise)}`,
      actions: KILL_SWITCH_ACTIONS,
    };
    return this.killed;
  }

  private markedValue(book: PortfolioBook): number {
    return book.markedValuePaise;
  }

  /** Σ net × mark and the exposure sums from scratch (after a restore). */
  private recomputeSums(book: PortfolioBook): void {
    const markFor = (symbol: string): Paise => this.marks.get(symbol) ?? 0;
    let value = 0;
    book.symbols.forEach((b, symbol) => {
      if (b.net !== 0) value += mul(b.net, markFor(symbol));
    });
    book.markedValuePaise = value;
    Object.assign(book, exposureSums(book.symbols, markFor));
  }

  /** A symbol's book goes from `before` to `after`: stored, and the exposure sums moved at its mark. */
  private setTerms(book: PortfolioBook, symbol: string, before: SymbolBook, after: SymbolBook): void {
    const mark = this.marks.get(symbol) ?? 0;
    moveSums(book, before, mark, -1);
    moveSums(book, after, mark, 1);
    book.symbols.set(symbol, after);
  }

  /** Sets a symbol's mark and moves every portfolio's marked value and exposure sums by the change. */
  private setMark(symbol: string, pricePaise: Paise): void {
    const previous = this.marks.get(symbol) ?? 0;
    if (previous === pricePaise) return;
    this.marks.set(symbol, pricePaise);
    for (const book of this.portfolios.values()) {
      const terms = book.symbols.get(symbol);
      if (terms === undefined) continue;
      if (terms.net !== 0) book.markedValuePaise += mul(terms.net, pricePaise - previous);
      moveSums(book, terms, previous, -1);
      moveSums(book, terms, pricePaise, 1);
    }
  }

  private book(portfolioId: string): PortfolioBook {
    let book = this.portfolios.get(portfolioId);
    if (!book) {
      book = { symbols: new Map(), dayCashFlowPaise: 0, dayStartValuePaise: 0, markedValuePaise: 0, grossPaise: 0, longPaise: 0, shortPaise: 0 };
      this.portfolios.set(portfolioId, book);
    }
    return book;
  }

  private symbolBook(book: PortfolioBook, symbol: string): SymbolBook {
    return book.symbols.get(symbol) ?? symbolTerms(0, 0, 0);
  }
}

/**
 * Worst-case exposures of a book at the given marks: gross = Σ max(|net + buys|, |net − sells|) × mark;
 * net = max(|Σ (net + buys) × mark|, |Σ (net − sells) × mark|). Exact integer paise.
 */
export function exposures(symbols: ReadonlyMap<string, SymbolBook>, markFor: (symbol: string) => Paise): { gross: Paise; net: Paise } {
  const sums = exposureSums(symbols, markFor);
  return { gross: sums.grossPaise, net: netExposure(sums) };
}

/** Gross worst-case exposure and the two one-sided net sums (all working buys filled; all working sells filled). */
function exposureSums(symbols: ReadonlyMap<string, SymbolBook>, markFor: (symbol: string) => Paise): ExposureSums {
  const sums: ExposureSums = { grossPaise: 0, longPaise: 0, shortPaise: 0 };
  symbols.forEach((terms, symbol) => moveSums(sums, terms, markFor(symbol), 1));
  return sums;
}
