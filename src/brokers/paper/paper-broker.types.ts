import type { ChargeLedger, ChargeRates, LegacyChargeLedger } from '../../model/charges.js';
import type { Instrument } from '../../model/instrument.js';
import type { Order } from '../../model/order.js';

/** How the paper broker fills orders. Every field has a default (see {@link DEFAULT_PAPER_BROKER_CONFIG}). */
export interface PaperBrokerConfig {
  /**
   * Slippage for market-type fills (MARKET, triggered SL-M), in basis points of the touch
   * price, always against the trader. Resolution 0.01 bp. Default 0.
   */
  readonly slippageBps: number;
  /**
   * Largest share (0 < p ≤ 100) of one tick's traded quantity that one order may take.
   * A tick's traded quantity is its volume delta when the cumulative volume grew since
   * the previous tick of the symbol, else its `lastQuantity`. Default 100.
   */
  readonly participationPercent: number;
  /** Resting limit orders fill when the LTP equals the limit (true) or only when it trades through (false, default). */
  readonly fillAtTouch: boolean;
  /** Reject orders and skip matching outside the NSE session (09:15–15:30 IST, weekdays). Default false. */
  readonly marketHoursOnly: boolean;
  /** The cost model for fills. Default Zerodha NSE equity. */
  readonly chargeRates: ChargeRates;
  /**
   * The MIS cut-off, minutes after IST midnight (default 15:20, `MIS_SQUARE_OFF_MINUTE`): from
   * then to the end of the IST day no MIS order is accepted (`mis-cutoff`), and on each
   * symbol's first tick at or after it the broker squares off every open MIS position in it
   * (see `src/model/square-off.ts`).
   */
  readonly squareOffMinute: number;
}

export type { AutoSquareOffEvent, BrokerEvent, RejectionCode } from '../../actors/execution/broker-port.js';

/** One resting order in a snapshot. */
export interface RestingOrderSnapshot {
  readonly order: Order;
  readonly instrument: Instrument;
  /** Brokerage charged so far on this order's fills (the cap is per order); MIS/NRML only, the charge ledger keeps CNC brokerage. */
  readonly brokeragePaise: number;
  /** Whether the order has met a tick while OPEN (decides taker vs resting limit price, IOC). */
  readonly evaluated: boolean;
}

/** Last seen market state of one symbol. */
export interface SymbolMarketSnapshot {
  readonly symbol: string;
  /** Cumulative volume of the last tick, −1 when unknown. */
  readonly lastVolume: number;
  /** Last traded price, 0 when unknown. */
  readonly lastPricePaise: number;
  /** When the symbol's next MIS square-off is due (epoch ms); absent in older snapshots. */
  readonly nextSquareOffMs?: number;
}

/** An open MIS position the broker tracks for the square-off (per portfolio, strategy and symbol). */
export interface MisPositionSnapshot {
  readonly portfolioId: string;
  readonly strategyId: string;
  readonly symbol: string;
  /** Signed units, never 0. */
  readonly net: number;
  readonly instrument: Instrument;
}

/** The running contract note of one portfolio. */
export interface PortfolioLedgerSnapshot {
  readonly portfolioId: string;
  /** IST date the ledger belongs to ("YYYY-MM-DD"). */
  readonly day: string;
  /** A legacy ledger (saved by an older version) is upgraded on restore. */
  readonly ledger: ChargeLedger | LegacyChargeLedger;
}

/** A portfolio's CNC holding in a symbol (net CNC quantity over every day's fills). */
export interface HoldingSnapshot {
  readonly portfolioId: string;
  readonly symbol: string;
  readonly quantity: number;
}

/** The paper broker's whole state, JSON-safe. `restore(JSON.parse(JSON.stringify(s)))` continues identically. */
export interface PaperBrokerSnapshot {
  readonly version: 1;
  readonly nowMs: number;
  readonly orderSequence: number;
  readonly fillSequence: number;
  readonly orders: readonly RestingOrderSnapshot[];
  readonly markets: readonly SymbolMarketSnapshot[];
  readonly ledgers: readonly PortfolioLedgerSnapshot[];
  /** CNC holdings (absent in snapshots saved before they were kept: none). */
  readonly holdings?: readonly HoldingSnapshot[];
  /** Open MIS positions; absent in older snapshots (none). */
  readonly misPositions?: readonly MisPositionSnapshot[];
  /** Square-off orders placed so far; absent in older snapshots (0). Their client order ids follow `orderSequence`. */
  readonly squareOffSequence?: number;
}
