/** Market regime detection (pure): per symbol from bars, and for the whole market. */
export {
  classify,
  DEFAULT_MARKET_REGIME_CONFIG,
  DEFAULT_REGIME_CONFIG,
  detectRegimes,
  initialRegimeState,
  updateMarketRegime,
  updateRegime,
  type MarketRegimeConfig,
  type MarketRegimeState,
  type RegimeConfig,
  type RegimeEvidence,
  type RegimeState,
  type RegimeStep,
} from './regime-detector.js';
