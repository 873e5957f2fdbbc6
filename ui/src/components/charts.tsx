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
  LineSeries,
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

/**
 * One formatter for every price label: the charts format a label per axis tick and per
 * crosshair move on every repaint, and `toLocaleString` builds a new `Intl.NumberFormat`
 * each time (the largest single cost of a repaint, measured in a CPU profile of the quote burst).
 */
const RUPEE_LABEL = new Intl.NumberFormat('en-IN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const priceLabel = (price: number): string => `₹${RUPEE_LABEL.format(price)}`;
const WHOLE_RUPEE_LABEL = new Intl.NumberFormat('en-IN', { maximumFractionDigits: 0 });
const wholeRupeeLabel = (price: number): string => `₹${WHOLE_RUPEE_LABEL.format(price)}`;

function baseChart(element: HTMLElement): IChartApi {
  return createChart(element, {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: '#9aa5b4', fontFamily: 'inherit', attributionLogo: false },
    grid: { vertLines: { color: '#1e2530' }, horzLines: { color: '#1e2530' } },
    rightPriceScale: { borderColor: '#2a3340' },
    timeScale: { borderColor: '#2a3340', timeVisible: true, secondsVisible: true },
    localization: { locale: 'en-IN', priceFormatter: priceLabel },
  });
}

export function EquityChart({ points, height = 220 }: { readonly points: readonly EquityPoint[]; readonly height?: number }) {
  const container = useRef<HTMLDivElement>(null);
  const series = useRef<ISeriesApi<'Area'> | null>(null);
  useEffect(() => {
    if (!container.current) return;
    const chart = baseChart(container.current);
    // whole rupees: crores of equity with paise made the axis wider than the chart's room
    chart.applyOptions({ localization: { locale: 'en-IN', priceFormatter: wholeRupeeLabel } });
    series.current = chart.addSeries(AreaSeries, {
      lineColor: '#4da3ff',
      topColor: 'rgba(77,163,255,0.35)',
      bottomColor: 'rgba(77,163,255,0.02)',
      lineWidth: 2,
      priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
    });
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
 * Markers on candles: signals as dots, fills as arrows (buys below the bar, sells above), one
 * marker per candle, kind and side (a count or the total quantity as its text), so a busy
 * strategy costs the chart a handful of markers, not one per order, and two never overlap.
 * `bucketOf` gives the candle (start, epoch seconds) of an instant: one-minute candles by default.
 * Time order.
 */
export function candleMarkers(
  candles: readonly Candle[],
  fills: readonly FillMarker[],
  signals: readonly SignalMarker[] = [],
  bucketOf: (atMs: number) => number = minuteOf,
): SeriesMarker<Time>[] {
  const times = new Set(candles.map((candle) => candle.timeSec));
  const groups = new Map<string, { minute: number; kind: 'signal' | 'fill'; buy: boolean; count: number; quantity: number }>();
  const add = (kind: 'signal' | 'fill', atMs: number, side: string, quantity: number): void => {
    const minute = bucketOf(atMs);
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
      markers.push({
        time: at(group.minute),
        position,
        shape: 'circle',
        color: group.buy ? 'rgba(77,163,255,0.55)' : 'rgba(240,160,32,0.55)',
        size: 0.6,
        ...(group.count > 1 ? { text: `${group.count}` } : {}),
      });
    } else {
      markers.push({
        time: at(group.minute),
        position,
        shape: group.buy ? 'arrowUp' : 'arrowDown',
        color: group.buy ? '#4da3ff' : '#f0a020',
        text: `${group.buy ? 'B' : 'S'} ${group.quantity}`,
      });
    }
  }
  return markers.sort((a, b) => Number(a.time) - Number(b.time));
}

/**
 * How a new candle list differs from the one the chart shows: `tail` when only the chart's
 * last candle changed and at most one minute was added after it, so `update` repaints just
 * those bars; `reset` otherwise (`setData`: another symbol, the oldest minute dropped, a gap).
 * `addToCandles` only ever replaces the last candle or appends one and keeps the identity of
 * every candle it does not touch, so comparing the first candle and the one before the tail
 * by reference is enough: no walk over the prices.
 */
export function candleChange(
  previous: readonly Candle[],
  next: readonly Candle[],
): { readonly kind: 'none' } | { readonly kind: 'reset' } | { readonly kind: 'tail'; readonly from: number } {
  if (previous === next) return { kind: 'none' };
  if (previous.length === 0 || next.length === 0 || previous[0] !== next[0]) return { kind: 'reset' };
  if (next.length !== previous.length && next.length !== previous.length + 1) return { kind: 'reset' };
  // candles before `from` must be the very objects the chart has
  const from = previous.length - 1;
  if (from > 0 && next[from - 1] !== previous[from - 1]) return { kind: 'reset' };
  const last = previous[from];
  const changed = next[from];
  if (!last || !changed || changed.timeSec !== last.timeSec) return { kind: 'reset' };
  return { kind: 'tail', from };
}

const candleBar = (candle: Candle) => ({
  time: at(candle.timeSec),
  open: paiseToRupeesForDisplay(candle.openPaise),
  high: paiseToRupeesForDisplay(candle.highPaise),
  low: paiseToRupeesForDisplay(candle.lowPaise),
  close: paiseToRupeesForDisplay(candle.closePaise),
});
const volumeBar = (candle: Candle) => ({
  time: at(candle.timeSec),
  value: candle.volume,
  color: candle.closePaise >= candle.openPaise ? 'rgba(38,162,105,0.45)' : 'rgba(229,83,75,0.45)',
});

/** Same markers (time, place, shape, colour, text) in the same order. */
function sameMarkers(a: readonly SeriesMarker<Time>[], b: readonly SeriesMarker<Time>[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((marker, index) => {
    const other = b[index]!;
    return (
      marker.time === other.time &&
      marker.position === other.position &&
      marker.shape === other.shape &&
      marker.color === other.color &&
      marker.text === other.text &&
      marker.size === other.size
    );
  });
}

/** An indicator line over the candles (prices in paise). */
export interface ChartOverlay {
  readonly label: string;
  readonly color: string;
  readonly points: readonly { readonly timeSec: number; readonly valuePaise: number }[];
}

const NO_OVERLAYS: readonly ChartOverlay[] = [];

export function CandleChart({
  candles,
  fills,
  signals = [],
  overlays = NO_OVERLAYS,
  bucketOf,
  height = 320,
}: {
  readonly candles: readonly Candle[];
  readonly fills: readonly FillMarker[];
  readonly signals?: readonly SignalMarker[];
  readonly overlays?: readonly ChartOverlay[];
  readonly bucketOf?: (atMs: number) => number;
  readonly height?: number;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);
  const lines = useRef<ISeriesApi<'Line'>[]>([]);
  const refs = useRef<{ candles: ISeriesApi<'Candlestick'>; volume: ISeriesApi<'Histogram'>; markers: ISeriesMarkersPluginApi<Time> } | null>(null);
  /** What the chart shows now (candles and markers), to send it only what changed. */
  const shown = useRef<{ candles: readonly Candle[]; markers: readonly SeriesMarker<Time>[] }>({ candles: [], markers: [] });
  // the last candle changes on every quote; the markers only when a minute starts or signals/fills change
  const minutesKey = `${candles[0]?.timeSec ?? ''}|${candles[candles.length - 1]?.timeSec ?? ''}|${candles.length}`;
  const candlesRef = useRef(candles);
  candlesRef.current = candles;
  const markers = useMemo(() => candleMarkers(candlesRef.current, fills, signals, bucketOf), [minutesKey, fills, signals, bucketOf]);
  useEffect(() => {
    if (!container.current) return;
    const chart = baseChart(container.current);
    const candleSeries = chart.addSeries(CandlestickSeries, {
      upColor: '#26a269',
      downColor: '#e5534b',
      borderVisible: false,
      wickUpColor: '#26a269',
      wickDownColor: '#e5534b',
      priceFormat: { type: 'price', precision: 2, minMove: 0.05 },
    });
    const volume = chart.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' },
      priceScaleId: '',
      color: '#3a4656',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    candleSeries.priceScale().applyOptions({ scaleMargins: { top: 0.05, bottom: 0.25 } });
    refs.current = { candles: candleSeries, volume, markers: createSeriesMarkers(candleSeries, []) };
    chartRef.current = chart;
    shown.current = { candles: [], markers: [] };
    return () => {
      refs.current = null;
      chartRef.current = null;
      lines.current = [];
      chart.remove();
    };
  }, []);
  useEffect(() => {
    // indicator lines change with the minute (or the timeframe), not with every quote
    const chart = chartRef.current;
    if (!chart) return;
    for (const line of lines.current) chart.removeSeries(line);
    lines.current = overlays.map((overlay) => {
      const line = chart.addSeries(LineSeries, {
        color: overlay.color,
        lineWidth: 1,
        priceLineVisible: false,
        lastValueVisible: false,
        crosshairMarkerVisible: false,
        title: overlay.label,
      });
      line.setData(overlay.points.map((point) => ({ time: at(point.timeSec), value: paiseToRupeesForDisplay(point.valuePaise) })));
      return line;
    });
  }, [overlays]);
  useEffect(() => {
    const current = refs.current;
    if (!current) return;
    const change = candleChange(shown.current.candles, candles);
    if (change.kind === 'tail') {
      // a quote moved the last bar (or opened a new minute): repaint those bars, not all 240
      for (const candle of candles.slice(change.from)) {
        current.candles.update(candleBar(candle));
        current.volume.update(volumeBar(candle));
      }
    } else if (change.kind === 'reset') {
      current.candles.setData(candles.map(candleBar));
      current.volume.setData(candles.map(volumeBar));
    }
    shown.current.candles = candles;
  }, [candles]);
  useEffect(() => {
    // orders stream in all day: new marker lists that draw the same marks are not sent to the chart
    if (sameMarkers(shown.current.markers, markers)) return;
    refs.current?.markers.setMarkers(markers);
    shown.current.markers = markers;
  }, [markers]);
  return (
    <div
      className="chart"
      style={{ height }}
      ref={container}
      data-testid="candle-chart"
      data-markers={markers.length}
      aria-label="Candlestick chart with volume, signals and fills"
      role="img"
    />
  );
}
