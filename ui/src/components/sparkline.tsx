import { memo } from 'react';

/**
 * A small SVG price line (display only: paise are scaled to pixels, never used as money).
 * Memoised on the price history, which keeps its identity until the symbol's next quote.
 * (A canvas per row was measured too: 50 canvases cost the compositor more than the SVG paints.)
 */
export const Sparkline = memo(function Sparkline({
  points,
  width = 96,
  height = 24,
}: {
  readonly points: readonly number[];
  readonly width?: number;
  readonly height?: number;
}) {
  if (points.length < 2) return <svg className="sparkline" width={width} height={height} aria-hidden="true" />;
  let min = Infinity;
  let max = -Infinity;
  for (const value of points) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const span = max - min || 1;
  const step = width / (points.length - 1);
  const path = points.map((value, index) => `${(index * step).toFixed(1)},${(height - 1 - ((value - min) / span) * (height - 2)).toFixed(1)}`).join(' ');
  const first = points[0] ?? 0;
  const last = points[points.length - 1] ?? 0;
  const tone = last > first ? 'up' : last < first ? 'down' : 'flat';
  return (
    <svg className={`sparkline ${tone}`} width={width} height={height} viewBox={`0 0 ${width} ${height}`} aria-hidden="true">
      <polyline points={path} fill="none" strokeWidth="1.5" />
    </svg>
  );
});
