import { clock } from '../lib/format.js';
import { useLive, useNow } from '../lib/hooks.js';

/**
 * Both clocks, labelled: the market's (the exchange time of the latest event, which runs
 * faster than the wall in an accelerated synthetic market or a replay) and this computer's.
 * Every time on the desk's tables is market time.
 */
export function Clocks() {
  const marketTimeMs = useLive((state) => state.marketTimeMs);
  const now = useNow();
  return (
    <div className="clocks small" data-testid="clocks">
      <span title="Market time (IST): the exchange time of the latest event; times in the tables are market time">
        <span className="muted">Market</span> <span className="num">{clock(marketTimeMs)}</span>
      </span>
      <span title="Wall clock (IST) of this computer">
        <span className="muted">Wall</span> <span className="num">{clock(now)}</span>
      </span>
    </div>
  );
}
