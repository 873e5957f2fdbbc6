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
import { useEffect, useRef } from 'react';
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

export function CandleChart({ candles, fills, height = 320 }: { readonly candles: readonly Candle[]; readonly fills: readonly FillMarker[]; readonly height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const refs = useRef<{ candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'>; markers: ISeriesMarkersPluginApi<Time> } | null>(null);
  useEffect(() => {
    if (!container.current) return;
    const chart = baseChart(container.current);
    const candleSeries = chart.addSeries(CandlestickSeries, { upColor: '#26a269', downColor: '#e5534b', borderVisible: false, wickUpColor: '#26a269', wickDownColor: '#e5534b', priceFormat: { type: 'price', precision: 2, minMove: 0.05 } });
    const volume = chart.addSeries(HistogramSeries, { priceFormat: { type: 'volume' }, priceScaleId: '', color: '#3a4656' });
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
    const first = candles[0]?.timeSec;
    const markers: SeriesMarker<Time>[] = fills
      .filter((fill) => first !== undefined && fill.atMs / 1000 >= first)
      .map((fill): SeriesMarker<Time> => ({
        time: at(Math.floor(fill.atMs / 60_000) * 60),
        position: fill.side === 'BUY' ? 'belowBar' : 'aboveBar',
        shape: fill.side === 'BUY' ? 'arrowUp' : 'arrowDown',
        color: fill.side === 'BUY' ? '#4da3ff' : '#f0a020',
        text: `${fill.side === 'BUY' ? 'B' : 'S'} ${fill.quantity}`,
      }))
      .sort((a, b) => Number(a.time) - Number(b.time));
    current.markers.setMarkers(markers);
  }, [candles, fills]);
  return <div className="chart" style={{ height }} ref={container} data-testid="candle-chart" aria-label="Candlestick chart" role="img" />;
}
