import { useMemo, useState } from 'react';
import { EquityChart } from '../components/charts.js';
import { rupees, signedRupees, tone } from '../lib/format.js';
import { equityBySecond, loadAnalytics, type Figures, type PnlPeriod } from '../lib/history.js';
import { useRemote } from '../lib/hooks.js';

const ratio = (value: number | null): string => (value === null ? '—' : value.toFixed(2));
const percent = (value: number | null): string => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);

type Grouping = 'strategy' | 'symbol';
type CalendarView = 'daily' | 'weekly' | 'monthly';

/**
 * Live performance from the durable fills (`GET /api/v1/analytics`, every 10 s): the totals,
 * per strategy and per symbol, the equity curve and the P&L calendar.
 */
export function PerformancePage() {
  const analytics = useRemote((session) => loadAnalytics(session), [], 10_000);
  const [grouping, setGrouping] = useState<Grouping>('strategy');
  const [view, setView] = useState<CalendarView>('daily');
  const data = analytics.data;
  const equity = useMemo(() => equityBySecond(data?.equity ?? []), [data]);
  if (!data) {
    return (
      <div className="page">
        <h1>Performance</h1>
        <p className={analytics.error ? 'error' : 'muted'}>{analytics.error ? `Cannot load the analytics: ${analytics.error}` : 'Loading…'}</p>
      </div>
    );
  }
  const total = data.total;
  const rows = Object.entries(grouping === 'strategy' ? data.byStrategy : data.bySymbol);
  return (
    <div className="page performance">
      <h1>
        Performance <span className="muted small">· {data.portfolioId} · from every fill on record</span>
      </h1>
      <section className="cards" aria-label="Totals" data-testid="performance-cards">
        <Card label="Net P&L" value={signedRupees(total.netPnlPaise)} valueTone={tone(total.netPnlPaise)} testId="perf-net" />
        <Card label="Realised" value={signedRupees(total.realisedPaise)} valueTone={tone(total.realisedPaise)} />
        <Card label="Unrealised" value={signedRupees(total.unrealisedPaise)} valueTone={tone(total.unrealisedPaise)} />
        <Card label="Charges" value={rupees(total.chargesPaise)} />
        <Card label="Turnover" value={rupees(total.turnoverPaise)} />
        <Card label="Win rate" value={`${percent(total.winRate)} of ${total.roundTrips}`} />
        <Card label="Sharpe · Sortino" value={`${ratio(total.sharpe)} · ${ratio(total.sortino)}`} />
        <Card label="Max drawdown" value={rupees(total.maxDrawdownPaise)} />
        <Card label="Exposure (gross)" value={rupees(total.grossExposurePaise)} />
      </section>
      <div className="columns">
        <section className="panel grow" aria-label="Equity from fills">
          <h2>
            Equity <span className="muted small">· after each fill, the last point marks open positions</span>
          </h2>
          <EquityChart points={equity} />
        </section>
        <section className="panel side" aria-label="P&L calendar">
          <div className="panel-head">
            <h2>P&amp;L calendar</h2>
            <div className="segmented" role="group" aria-label="Calendar period">
              {(['daily', 'weekly', 'monthly'] as const).map((option) => (
                <button key={option} type="button" aria-pressed={view === option} onClick={() => setView(option)}>
                  {option === 'daily' ? 'Days' : option === 'weekly' ? 'Weeks' : 'Months'}
                </button>
              ))}
            </div>
          </div>
          {view === 'daily' ? (
            <DayCalendar days={data.calendar.daily} />
          ) : (
            <PeriodList periods={view === 'weekly' ? data.calendar.weekly : data.calendar.monthly} week={view === 'weekly'} />
          )}
        </section>
      </div>
      <section className="panel" aria-label="Breakdown">
        <div className="panel-head">
          <h2>By {grouping}</h2>
          <div className="segmented" role="group" aria-label="Group by">
            {(['strategy', 'symbol'] as const).map((option) => (
              <button key={option} type="button" aria-pressed={grouping === option} onClick={() => setGrouping(option)}>
                {option === 'strategy' ? 'Strategy' : 'Symbol'}
              </button>
            ))}
          </div>
        </div>
        {rows.length === 0 ? (
          <p className="muted">No fills yet: the figures start with the first trade.</p>
        ) : (
          <div className="scroll-x">
            <table className="grid" data-testid="performance-table">
              <thead>
                <tr>
                  <th>{grouping === 'strategy' ? 'Strategy' : 'Symbol'}</th>
                  <th className="num">Net P&amp;L</th>
                  <th className="num">Realised</th>
                  <th className="num">Unrealised</th>
                  <th className="num">Charges</th>
                  <th className="num">Turnover</th>
                  <th className="num">Fills</th>
                  <th className="num">Win rate</th>
                  <th className="num">Sharpe</th>
                  <th className="num">Sortino</th>
                  <th className="num">Max drawdown</th>
                  <th className="num">Exposure</th>
                </tr>
              </thead>
              <tbody>
                {rows.map(([key, figures]) => (
                  <FigureRow key={key} name={key} figures={figures} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <p className="muted small">
        Realised P&amp;L at average cost, before charges; net = realised + unrealised − charges. A round trip runs from flat to flat and wins when its P&amp;L
        after its charges is above zero. Sharpe and Sortino are of the daily net P&amp;L, annualised with √252 (shown from two trading days). Days are IST;
        weeks start on Monday.
      </p>
    </div>
  );
}

function FigureRow({ name, figures }: { readonly name: string; readonly figures: Figures }) {
  return (
    <tr data-row={name}>
      <th scope="row">{name}</th>
      <td className={`num ${tone(figures.netPnlPaise)}`}>{signedRupees(figures.netPnlPaise)}</td>
      <td className={`num ${tone(figures.realisedPaise)}`}>{signedRupees(figures.realisedPaise)}</td>
      <td className={`num ${tone(figures.unrealisedPaise)}`}>{signedRupees(figures.unrealisedPaise)}</td>
      <td className="num">{rupees(figures.chargesPaise)}</td>
      <td className="num">{rupees(figures.turnoverPaise)}</td>
      <td className="num">{figures.fills}</td>
      <td className="num">
        {percent(figures.winRate)} <span className="muted small">of {figures.roundTrips}</span>
      </td>
      <td className="num">{ratio(figures.sharpe)}</td>
      <td className="num">{ratio(figures.sortino)}</td>
      <td className="num">{rupees(figures.maxDrawdownPaise)}</td>
      <td className="num">{rupees(figures.grossExposurePaise)}</td>
    </tr>
  );
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'];

/** Months of weekday cells (Monday to Friday), each day coloured by its net P&L. */
function DayCalendar({ days }: { readonly days: readonly PnlPeriod[] }) {
  if (days.length === 0) return <p className="muted">No trading days yet.</p>;
  const byDate = new Map(days.map((day) => [day.period, day]));
  const months = [...new Set(days.map((day) => day.period.slice(0, 7)))].slice(-3);
  const scale = Math.max(...days.map((day) => Math.abs(day.netPnlPaise)), 1);
  return (
    <div className="calendar" data-testid="pnl-calendar">
      {months.map((month) => {
        const first = new Date(`${month}-01T00:00:00Z`);
        const cells: (string | null)[] = [];
        // pad to the first weekday's column (Monday = 0)
        const lead = (first.getUTCDay() + 6) % 7;
        for (let index = 0; index < Math.min(lead, 5); index += 1) cells.push(null);
        for (let date = new Date(first); date.getUTCMonth() === first.getUTCMonth(); date.setUTCDate(date.getUTCDate() + 1)) {
          const weekday = date.getUTCDay();
          if (weekday !== 0 && weekday !== 6) cells.push(date.toISOString().slice(0, 10));
        }
        return (
          <div key={month} className="calendar-month">
            <div className="calendar-title">
              {new Date(`${month}-01T00:00:00Z`).toLocaleDateString('en-IN', { month: 'long', year: 'numeric', timeZone: 'UTC' })}
            </div>
            <div className="calendar-grid">
              {WEEKDAYS.map((name) => (
                <div key={name} className="calendar-head">
                  {name}
                </div>
              ))}
              {cells.map((date, index) => {
                if (date === null) return <div key={`pad-${index}`} />;
                const day = byDate.get(date);
                const strength = day ? Math.min(1, Math.abs(day.netPnlPaise) / scale) : 0;
                const background = day
                  ? day.netPnlPaise >= 0
                    ? `rgba(38,162,105,${0.15 + 0.6 * strength})`
                    : `rgba(229,83,75,${0.15 + 0.6 * strength})`
                  : undefined;
                return (
                  <div
                    key={date}
                    className={`calendar-day${day ? '' : ' empty'}`}
                    style={background ? { background } : undefined}
                    title={day ? `${date}: ${signedRupees(day.netPnlPaise)} (${day.fills} fills)` : `${date}: no trades`}
                    data-date={date}
                  >
                    <span className="calendar-date">{Number(date.slice(8))}</span>
                    {day ? <span className="calendar-pnl num">{compactRupees(day.netPnlPaise)}</span> : null}
                  </div>
                );
              })}
            </div>
          </div>
        );
      })}
    </div>
  );
}

function PeriodList({ periods, week }: { readonly periods: readonly PnlPeriod[]; readonly week: boolean }) {
  if (periods.length === 0) return <p className="muted">No trades yet.</p>;
  return (
    <table className="grid compact" data-testid="pnl-periods">
      <thead>
        <tr>
          <th>{week ? 'Week of' : 'Month'}</th>
          <th className="num">Net P&amp;L</th>
          <th className="num">Fills</th>
        </tr>
      </thead>
      <tbody>
        {[...periods].reverse().map((period) => (
          <tr key={period.period}>
            <td>{period.period}</td>
            <td className={`num ${tone(period.netPnlPaise)}`}>{signedRupees(period.netPnlPaise)}</td>
            <td className="num">{period.fills}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** ₹1.2k, −₹350: a calendar cell is small. */
function compactRupees(paise: number): string {
  const rupeesValue = paise / 100;
  const sign = rupeesValue < 0 ? '−' : '+';
  const magnitude = Math.abs(rupeesValue);
  return magnitude >= 100_000
    ? `${sign}₹${(magnitude / 100_000).toFixed(1)}L`
    : magnitude >= 1000
      ? `${sign}₹${(magnitude / 1000).toFixed(1)}k`
      : `${sign}₹${magnitude.toFixed(0)}`;
}

function Card({
  label,
  value,
  valueTone,
  testId,
}: {
  readonly label: string;
  readonly value: string;
  readonly valueTone?: 'up' | 'down' | 'flat';
  readonly testId?: string;
}) {
  return (
    <div className="card" data-testid={testId}>
      <div className="card-label">{label}</div>
      <div className={`card-value num ${valueTone ?? ''}`}>{value}</div>
    </div>
  );
}
