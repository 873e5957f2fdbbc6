/**
 * TradingView lightweight-charts: the equity curve and the per-symbol candles. Prices are
 * converted from paise to rupees for the chart only (display).
 */
import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useMemo, useRef } from 'react';
import { paiseToRupeesForDisplay } from '../../../src/model/money.js';
import type { Candle, EquityPoint } from '../lib/live-store.js';

/** The charts show India time: their axis is UTC, so times are shifted by +5:30. */
const IST_OFFSET_SEC = 19_800;
const at = (epochSec: number): UTCTimestamp => (epochSec + IST_OFFSET_SEC) as UTCTimestamp;

function baseChart(element: HTMLElement): IChartApi {
  return createChart(element, {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: '#9aa5b4', fontFamily: 'inherit', attributionLogo: false },
    grid: { vertLines: { color: '#1e2530' }, horzLines: { color: '#1e2530' } },
    rightPriceScale: { borderColor: '#2a3340' },
    timeScale: { borderColor: '#2a3340', timeVisible: true, secondsVisible: true },
    localization: { locale: 'en-IN', priceFormatter: (price: number) => `₹${price.toLocaleString('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}` },
  });
}

export function EquityChart({ points, height = 220 }: { readonly points: readonly EquityPoint[]; readonly height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const series = useRef<ISeriesApi<'Area'> | null>(null);
  useEffect(() => {
    if (!container.current) return;
    const chart = baseChart(container.current);
    series.current = chart.addSeries(AreaSeries, { lineColor: '#4da3ff', topColor: 'rgba(77,163,255,0.35)', bottomColor: 'rgba(77,163,255,0.02)', lineWidth: 2, priceFormat: { type: 'price', precision: 2, minMove: 0.01 } });
    return () => {
      series.current = null;
      chart.remove();
    };
  }, []);
  useEffect(() => {
    series.current?.setData(points.map((point) => ({ time: at(point.timeSec), value: paiseToRupeesForDisplay(point.equityPaise) })));
  }, [points]);
  return <div className="chart" style={{ height }} ref={container} data-testid="equity-chart" aria-label="Equity curve" role="img" />;
}

export interface FillMarker {
  readonly atMs: number;
  readonly side: string;
  readonly quantity: number;
  readonly pricePaise: number;
}

/** An order a strategy placed (its signal), at the market time it was created. */
export interface SignalMarker {
  readonly atMs: number;
  readonly side: string;
  readonly quantity: number;
  readonly strategyId: string;
}

const minuteOf = (atMs: number): number => Math.floor(atMs / 60_000) * 60;

/**
 * Markers on one-minute candles: signals as dots, fills as arrows (buys below the bar, sells
 * above), one marker per minute, kind and side (a count or the total quantity as its text), so
 * a busy strategy costs the chart a handful of markers, not one per order. Time order.
 */
export function candleMarkers(candles: readonly Candle[], fills: readonly FillMarker[], signals: readonly SignalMarker[] = []): SeriesMarker<Time>[] {
  const times = new Set(candles.map((candle) => candle.timeSec));
  const groups = new Map<string, { minute: number; kind: 'signal' | 'fill'; buy: boolean; count: number; quantity: number }>();
  const add = (kind: 'signal' | 'fill', atMs: number, side: string, quantity: number): void => {
    const minute = minuteOf(atMs);
    if (!times.has(minute)) return;
    const buy = side === 'BUY';
    const key = `${minute}|${kind}|${buy ? 'B' : 'S'}`;
    const group = groups.get(key) ?? { minute, kind, buy, count: 0, quantity: 0 };
    group.count += 1;
    group.quantity += quantity;
    groups.set(key, group);
  };
  for (const signal of signals) add('signal', signal.atMs, signal.side, signal.quantity);
  for (const fill of fills) add('fill', fill.atMs, fill.side, fill.quantity);
  const markers: SeriesMarker<Time>[] = [];
  for (const group of groups.values()) {
    const position = group.buy ? 'belowBar' : 'aboveBar';
    if (group.kind === 'signal') {
      markers.push({ time: at(group.minute), position, shape: 'circle', color: group.buy ? 'rgba(77,163,255,0.55)' : 'rgba(240,160,32,0.55)', size: 0.6, ...(group.count > 1 ? { text: `${group.count}` } : {}) });
    } else {
      markers.push({ time: at(group.minute), position, shape: group.buy ? 'arrowUp' : 'arrowDown', color: group.buy ? '#4da3ff' : '#f0a020', text: `${group.buy ? 'B' : 'S'} ${group.quantity}` });
    }
  }
  return markers.sort((a, b) => Number(a.time) - Number(b.time));
}

export function CandleChart({ candles, fills, signals = [], height = 320 }: { readonly candles: readonly Candle[]; readonly fills: readonly FillMarker[]; readonly signals?: readonly SignalMarker[]; readonly height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const refs = useRef<{ candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'>; markers: ISeriesMarkersPluginApi<Time> } | null>(null);
  // the last candle changes on every quote; the markers only when a minute starts or signals/fills change
  const minutesKey = `${candles[0]?.timeSec ?? ''}|${candles[candles.length - 1]?.timeSec ?? ''}|${candles.length}`;
  const candlesRef = useRef(candles);
  candlesRef.current = candles;
  const markers = useMemo(() => candleMarkers(candlesRef.current, fills, signals), [minutesKey, fills, signals]);
  useEffect(() => {
    if (!container.current) return;
    const chart = baseChart(container.current);
    const candleSeries = chart.addSeries(CandlestickSeries, { upColor: '#26a269', downColor: '#e5534b', borderVisible: false, wickUpColor: '#26a269', wickDownColor: '#e5534b', priceFormat: { type: 'price', precision: 2, minMove: 0.05 } });
    const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: '', color: '#3a4656', lastValueVisible: false, priceLineVisible: false });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.25 } });
    refs.current = { candles: candleSeries, volume, markers: createSeriesMarkers(candleSeries, []) };
    return () => {
      refs.current = null;
      chart.remove();
    };
  }, []);
  useEffect(() => {
    const current = refs.current;
    if (!current) return;
    current.candles.setData(
      candles.map((candle) => ({
        time: at(candle.timeSec),
        open: paiseToRupeesForDisplay(candle.openPaise),
        high: paiseToRupeesForDisplay(candle.highPaise),
        low: paiseToRupeesForDisplay(candle.lowPaise),
        close: paiseToRupeesForDisplay(candle.closePaise),
      })),
    );
    current.volume.setData(candles.map((candle) => ({ time: at(candle.timeSec), value: candle.volume, color: candle.closePaise >= candle.openPaise ? 'rgba(38,162,105,0.45)' : 'rgba(229,83,75,0.45)' })));
  }, [candles]);
  useEffect(() => {
    refs.current?.markers.setMarkers(markers);
  }, [markers]);
  return <div className="chart" style={{ height }} ref={container} data-testid="candle-chart" data-markers={markers.length} aria-label="Candlestick chart with volume, signals and fills" role="img" />;
}
