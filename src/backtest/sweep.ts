/**
 * Parameter sweeps and walk-forward optimisation over the backtester.
 *
 * A sweep is the cartesian product of parameter values (`fastPeriod=5..20:5`,
 * `slowPeriod=30,45,60`), each point one backtest. Walk-forward cuts the data into rolling
 * windows of sessions (IST trading days with data): on each train window it runs the whole
 * grid and picks the best point by an objective, then runs that point on the following test
 * window; the test windows, one after the other, are the out-of-sample result.
 *
 * The runs themselves go to a {@link JobRunner} (a pool of processes, see pool.ts). Results
 * are keyed by grid position, never by completion order, so the output is the same bytes
 * whatever the number of jobs.
 */
import { istDate, istTimeMs, DAY_MS, type Paise } from '../model/index.js';
import type { BacktestResult } from './backtest.js';
import { computeMetrics, type BacktestMetrics, type DailyEquity } from './metrics.js';

/** A parameter value of a sweep: a number, or a word (enum settings). */
export type SweepValue = number | string | boolean;

/** One swept parameter and its values, in the order given. */
export interface SweepAxis {
  readonly name: string;
  readonly values: readonly SweepValue[];
}

/** A point of the grid: parameter name → value, in axis order. */
export type SweepPoint = Readonly<Record<string, SweepValue>>;

/** Largest grid we agree to run (a typo such as 1..100000 should not start a week of work). */
export const MAX_GRID_POINTS = 10_000;

/** A bad `--sweep` / `--walk-forward` / `--objective`: the message says what and how to write it. */
export class SweepSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepSpecError';
  }
}

const NUMBER = /^-?\d+(\.\d+)?$/;

function decimals(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

function parseValue(text: string): SweepValue {
  if (NUMBER.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  return text;
}

/**
 * Parses `name=a..b[:step]` (inclusive range; step default 1; decimals allowed, computed
 * exactly on the step's decimal grid) or `name=v1,v2,…` (numbers, true/false or words).
 */
export function parseSweep(spec: string): SweepAxis {
  const eq = spec.indexOf('=');
  const name = eq > 0 ? spec.slice(0, eq).trim() : '';
  const body = eq > 0 ? spec.slice(eq + 1).trim() : '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || body === '') {
    throw new SweepSpecError(`--sweep "${spec}": write name=a..b[:step] or name=v1,v2,… (e.g. fastPeriod=5..20:5)`);
  }
  const range = /^(-?\d+(?:\.\d+)?)\.\.(-?\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/.exec(body);
  if (range) {
    const [, fromText = '', toText = '', stepText = '1'] = range;
    const scale = 10 ** Math.max(decimals(fromText), decimals(toText), decimals(stepText));
    const from = Math.round(Number(fromText) * scale);
    const to = Math.round(Number(toText) * scale);
    const step = Math.round(Number(stepText) * scale);
    if (step <= 0) throw new SweepSpecError(`--sweep ${name}: the step must be positive, got "${stepText}"`);
    if (to < from) throw new SweepSpecError(`--sweep ${name}: ${fromText}..${toText} is empty (the end is below the start)`);
    const count = Math.floor((to - from) / step) + 1;
    if (count > MAX_GRID_POINTS) throw new SweepSpecError(`--sweep ${name}: ${count} values is too many (at most ${MAX_GRID_POINTS})`);
    return { name, values: Array.from({ length: count }, (_, i) => (from + i * step) / scale) };
  }
  if (body.includes('..')) throw new SweepSpecError(`--sweep ${name}: "${body}" is not a range a..b[:step] of numbers`);
  const values = body.split(',').map((part) => part.trim());
  if (values.some((value) => value === '')) throw new SweepSpecError(`--sweep ${name}: empty value in "${body}"`);
  if (new Set(values).size !== values.length) throw new SweepSpecError(`--sweep ${name}: a value is listed twice in "${body}"`);
  return { name, values: values.map(parseValue) };
}

/** The grid of several axes (the first varies slowest). Rejects a parameter swept twice. */
export function sweepGrid(axes: readonly SweepAxis[]): SweepPoint[] {
  const names = new Set<string>();
  for (const axis of axes) {
    if (names.has(axis.name)) throw new SweepSpecError(`--sweep ${axis.name} is given twice; give every value in one --sweep`);
    names.add(axis.name);
  }
  let points: Record<string, SweepValue>[] = [{}];
  for (const axis of axes) {
    if (points.length * axis.values.length > MAX_GRID_POINTS) throw new SweepSpecError(`the sweep has more than ${MAX_GRID_POINTS} points`);
    points = points.flatMap((point) => axis.values.map((value) => ({ ...point, [axis.name]: value })));
  }
  return points;
}

/** `fastPeriod=5,slowPeriod=30`: a point as text. */
export function pointLabel(point: SweepPoint): string {
  return Object.entries(point)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(',');
}

/** What to maximise when choosing the best point. */
export type Objective = 'sharpe' | 'sortino' | 'cagr' | 'return' | 'pnl' | 'drawdown';
export const OBJECTIVES: readonly Objective[] = ['sharpe', 'sortino', 'cagr', 'return', 'pnl', 'drawdown'];

export function parseObjective(text: string): Objective {
  if ((OBJECTIVES as readonly string[]).includes(text)) return text as Objective;
  throw new SweepSpecError(`--objective must be one of ${OBJECTIVES.join(', ')}, got "${text}"`);
}

/** The return and risk figures every summary of a run (or of stitched runs) reports. */
type HeadlineFigures = 'totalReturnPct' | 'cagrPct' | 'sharpe' | 'sortino' | 'maxDrawdownPaise' | 'maxDrawdownPct';

/** The {@link HeadlineFigures} of a run's metrics (in this key order, as the reports write them). */
function headlineFigures(m: BacktestMetrics): Pick<BacktestMetrics, HeadlineFigures> {
  return {
    totalReturnPct: m.totalReturnPct,
    cagrPct: m.cagrPct,
    sharpe: m.sharpe,
    sortino: m.sortino,
    maxDrawdownPaise: m.maxDrawdownPaise,
    maxDrawdownPct: m.maxDrawdownPct,
  };
}

/** The figures of one run that a sweep reports (money in paise). */
export type RunFigures = Pick<BacktestMetrics, HeadlineFigures | 'winRatePct' | 'roundTrips' | 'trades' | 'chargesPaise' | 'turnoverPaise' | 'days'> & {
  readonly netPnlPaise: Paise;
  readonly endEquityPaise: Paise;
  readonly orders: number;
  readonly rejectedIntents: number;
};

export function runFigures(result: BacktestResult): RunFigures {
  const m = result.metrics;
  return {
    netPnlPaise: result.summary.netPnlPaise,
    endEquityPaise: result.summary.equityPaise,
    ...headlineFigures(m),
    winRatePct: m.winRatePct,
    roundTrips: m.roundTrips,
    trades: m.trades,
    chargesPaise: m.chargesPaise,
    turnoverPaise: m.turnoverPaise,
    orders: result.summary.orders,
    rejectedIntents: result.summary.rejectedIntents,
    days: m.days,
  };
}

/** The objective's score of a run; higher is better; null when undefined (ranked last). */
export function score(objective: Objective, figures: RunFigures): number | null {
  switch (objective) {
    case 'sharpe':
      return figures.sharpe;
    case 'sortino':
      return figures.sortino;
    case 'cagr':
      return figures.cagrPct;
    case 'return':
      return figures.totalReturnPct;
    case 'pnl':
      return figures.netPnlPaise;
    case 'drawdown':
      return -figures.maxDrawdownPct;
  }
}

/** One grid point's outcome: its figures, or why it did not run (e.g. settings the strategy refuses). */
export interface SweepRow {
  readonly index: number;
  readonly params: SweepPoint;
  readonly figures: RunFigures | null;
  readonly error: string | null;
  /** Folder of the run's result.json and report.html, relative to the sweep's output folder. */
  readonly output: string | null;
}

/** Rows best first by the objective; undefined scores and failed runs last; ties by grid order. */
export function rankRows(rows: readonly SweepRow[], objective: Objective): SweepRow[] {
  const key = (row: SweepRow): number => {
    const value = row.figures === null ? null : score(objective, row.figures);
    return value === null ? Number.NEGATIVE_INFINITY : value;
  };
  return [...rows].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== kb) return kb > ka ? 1 : -1;
    return a.index - b.index;
  });
}

/** Walk-forward window lengths, in sessions (IST trading days with data). */
export interface WalkForwardSpec {
  readonly trainSessions: number;
  readonly testSessions: number;
}

/** Parses `train=250,test=60` (sessions). */
export function parseWalkForward(text: string): WalkForwardSpec {
  const parts = new Map<string, string>();
  for (const part of text.split(',')) {
    const [key = '', value = ''] = part.split('=').map((s) => s.trim());
    parts.set(key, value);
  }
  const read = (key: string): number => {
    const raw = parts.get(key);
    const value = Number(raw);
    if (raw === undefined || !Number.isSafeInteger(value) || value < 1) {
      throw new SweepSpecError(`--walk-forward needs ${key}=<sessions> (a whole number ≥ 1), e.g. train=250,test=60; got "${text}"`);
    }
    return value;
  };
  const unknown = [...parts.keys()].filter((key) => key !== 'train' && key !== 'test');
  if (unknown.length > 0) throw new SweepSpecError(`--walk-forward: unknown part "${unknown[0]}" (write train=<sessions>,test=<sessions>)`);
  return { trainSessions: read('train'), testSessions: read('test') };
}

/** One walk-forward window: train on [trainFromMs, trainToMs), test on [testFromMs, testToMs) (epoch ms, IST midnights). */
export interface WalkForwardWindow {
  readonly index: number;
  readonly trainFrom: string;
  readonly trainTo: string;
  readonly testFrom: string;
  readonly testTo: string;
  readonly trainFromMs: number;
  readonly trainToMs: number;
  readonly testFromMs: number;
  readonly testToMs: number;
  readonly testSessions: number;
}

/**
 * Rolling windows over the sessions: window k trains on sessions [k·test, k·test + train)
 * and tests on the next `test` sessions (the last test window may be shorter). Throws when
 * there are not more sessions than one train window.
 */
export function walkForwardWindows(sessions: readonly string[], spec: WalkForwardSpec): WalkForwardWindow[] {
  if (sessions.length <= spec.trainSessions) {
    throw new SweepSpecError(`--walk-forward train=${spec.trainSessions} needs more sessions than that; the data have ${sessions.length}`);
  }
  const startOf = (i: number): number => (i < sessions.length ? istTimeMs(sessions[i]!, 0, 0) : istTimeMs(sessions[sessions.length - 1]!, 0, 0) + DAY_MS);
  const windows: WalkForwardWindow[] = [];
  for (let start = 0; start + spec.trainSessions < sessions.length; start += spec.testSessions) {
    const testStart = start + spec.trainSessions;
    const testEnd = Math.min(sessions.length, testStart + spec.testSessions);
    windows.push({
      index: windows.length,
      trainFrom: sessions[start]!,
      trainTo: sessions[testStart - 1]!,
      testFrom: sessions[testStart]!,
      testTo: sessions[testEnd - 1]!,
      trainFromMs: startOf(start),
      trainToMs: startOf(testStart),
      testFromMs: startOf(testStart),
      testToMs: startOf(testEnd),
      testSessions: testEnd - testStart,
    });
  }
  return windows;
}

/** The IST dates that have at least one bar, sorted. */
export function sessionsOf(bars: Iterable<readonly { readonly startMs: number }[]>): string[] {
  const dates = new Set<string>();
  for (const list of bars) for (const bar of list) dates.add(istDate(bar.startMs));
  return [...dates].sort();
}

/** The out-of-sample result: the test windows one after the other, each starting with the equity the previous one ended with. */
export interface StitchedResult {
  readonly initialCashPaise: Paise;
  readonly equity: readonly DailyEquity[];
  /** Metrics of the stitched equity curve; trades and charges are the sums over the windows (round trips and attribution are per window). */
  readonly metrics: Pick<
    BacktestMetrics,
    'days' | 'startEquityPaise' | 'endEquityPaise' | HeadlineFigures | 'maxDrawdownPeakDate' | 'maxDrawdownTroughDate' | 'monthlyReturns'
  > & {
    readonly trades: number;
    readonly chargesPaise: Paise;
    readonly turnoverPaise: Paise;
  };
}

export function stitch(initialCashPaise: Paise, windows: readonly BacktestResult[]): StitchedResult {
  const equity = windows.flatMap((result) => result.equity);
  const m = computeMetrics({ initialCashPaise, equity, fills: [], positions: [] });
  return {
    initialCashPaise,
    equity,
    metrics: {
      days: m.days,
      startEquityPaise: m.startEquityPaise,
      endEquityPaise: m.endEquityPaise,
      ...headlineFigures(m),
      maxDrawdownPeakDate: m.maxDrawdownPeakDate,
      maxDrawdownTroughDate: m.maxDrawdownTroughDate,
      monthlyReturns: m.monthlyReturns,
      trades: windows.reduce((sum, result) => sum + result.metrics.trades, 0),
      chargesPaise: windows.reduce((sum, result) => sum + result.metrics.chargesPaise, 0),
      turnoverPaise: windows.reduce((sum, result) => sum + result.metrics.turnoverPaise, 0),
    },
  };
}
