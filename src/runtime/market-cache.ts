import type { Tick } from '../model/index.js';
import type { MarketView, Quote } from '../strategies/api.js';

/**
 * The latest quote per symbol. Symbol actors write it before they publish a batch, so a
 * strategy handed a tick always reads a quote at least that fresh. Everyone else reads.
 */
export class MarketCache implements MarketView {
  private readonly quotes = new Map<string, Quote>();

  /** Only symbol actors call this. */
  update(tick: Tick): void {
    this.quotes.set(tick.symbol, {
      symbol: tick.symbol,
      ltpPaise: tick.ltpPaise,
      ...(tick.bidPaise === undefined ? {} : { bidPaise: tick.bidPaise }),
      ...(tick.askPaise === undefined ? {} : { askPaise: tick.askPaise }),
      volume: tick.volume,
      exchangeTimeMs: tick.exchangeTimeMs,
    });
  }

  quote(symbol: string): Quote | undefined {
    return this.quotes.get(symbol);
  }

  lastPrice(symbol: string): number | undefined {
    return this.quotes.get(symbol)?.ltpPaise;
  }

  all(): Quote[] {
    return [...this.quotes.values()];
  }
}
