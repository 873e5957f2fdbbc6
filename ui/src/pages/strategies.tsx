import { useId, useMemo, useState, type FormEvent } from 'react';
import { ConfigFields, configFrom, draftFrom, fieldErrors, type ConfigDraft } from '../components/config-form.js';
import { roleAtLeast, strategyRunState, type Strategy, type StrategyKind, type StrategyRunState } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, quantity, rupees, signedRupees, tone } from '../lib/format.js';
import { useDesk, useLive, useNow, useRemote } from '../lib/hooks.js';
import { strategyPerformance, type StrategyPerformance } from '../lib/positions.js';

type Action = 'start' | 'resume' | 'pause' | 'stop';

const STATE_BADGE: Readonly<Record<StrategyRunState, string>> = { started: 'badge-running', paused: 'badge-restarting', stopped: 'badge-stopped' };
const STATE_LABEL: Readonly<Record<StrategyRunState, string>> = { started: 'running', paused: 'paused', stopped: 'stopped' };

/** The buttons a strategy offers in its state (servers without start/stop: pause and resume only). */
function actionsFor(strategy: Strategy): readonly { readonly action: Action; readonly label: string; readonly className: string }[] {
  const state = strategyRunState(strategy);
  const stoppable = 'state' in strategy;
  const list: { action: Action; label: string; className: string }[] = [];
  if (state === 'started') list.push({ action: 'pause', label: 'Pause', className: 'warning' });
  if (state === 'paused') list.push({ action: stoppable ? 'start' : 'resume', label: 'Resume', className: 'primary' });
  if (state === 'stopped') list.push({ action: 'start', label: 'Start', className: 'primary' });
  if (stoppable && state !== 'stopped') list.push({ action: 'stop', label: 'Stop', className: 'danger' });
  return list;
}

const DONE: Readonly<Record<Action, string>> = {
  start: 'is running',
  resume: 'is running again',
  pause: 'is paused: it places no new orders',
  stop: 'is stopped: it places nothing until started, also after a restart (positions and working orders stay)',
};

export function StrategiesPage() {
  const { session } = useDesk();
  const remote = useRemote((current) => current.call((client) => client.strategies()), [], 5_000);
  const kinds = useRemote((current) => current.request<{ items: StrategyKind[] }>('GET', '/api/v1/strategy-kinds'), []);
  const books = useLive((state) => state.strategyBooks);
  const quotes = useLive((state) => state.quotes);
  const fillsComplete = useLive((state) => state.fillsComplete);
  const [busy, setBusy] = useState<string | undefined>();
  const [message, setMessage] = useState<{ readonly text: string; readonly error: boolean } | undefined>();
  const [editing, setEditing] = useState<string | undefined>();
  const [creating, setCreating] = useState(false);
  // the answer of an action wins until the next poll is newer
  const [overrides, setOverrides] = useState<ReadonlyMap<string, { readonly strategy: Strategy; readonly atMs: number }>>(new Map());
  const now = useNow();
  const canTrade = roleAtLeast(session.role, 'trader');
  const items = useMemo(() => {
    const polled = remote.data?.items ?? [];
    const merged = polled.map((item) => {
      const override = overrides.get(item.strategyId);
      return override && (remote.loadedAtMs ?? 0) < override.atMs ? override.strategy : item;
    });
    // a strategy just created shows before the next poll
    for (const [id, override] of overrides) if (!polled.some((item) => item.strategyId === id)) merged.push(override.strategy);
    return merged;
  }, [remote.data, remote.loadedAtMs, overrides]);
  const performance = useMemo(() => {
    const byId = new Map<string, StrategyPerformance>();
    for (const [id, book] of books) byId.set(id, strategyPerformance(book, quotes));
    return byId;
  }, [books, quotes]);
  const edited = items.find((item) => item.strategyId === editing);

  const remember = (strategy: Strategy): void => setOverrides((previous) => new Map(previous).set(strategy.strategyId, { strategy, atMs: Date.now() }));

  const act = async (strategy: Strategy, action: Action): Promise<void> => {
    setBusy(strategy.strategyId);
    setMessage(undefined);
    try {
      const updated = await session.request<Strategy>('POST', `/api/v1/strategies/${encodeURIComponent(strategy.strategyId)}/${action}`);
      remember(updated);
      setMessage({ text: `${updated.strategyId} ${DONE[action]}.`, error: false });
      remote.reload();
    } catch (error) {
      setMessage({ text: humanise(error), error: true });
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Strategies</h1>
        {canTrade && !creating ? (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New strategy…
          </button>
        ) : null}
      </div>
      {remote.error ? (
        <div className="banner banner-error" role="alert">
          {remote.error}
        </div>
      ) : null}
      {message ? (
        <div className={`banner ${message.error ? 'banner-error' : 'banner-info'}`} role="status" data-testid="strategy-message">
          {message.text}
        </div>
      ) : null}
      {creating ? (
        <CreateStrategy
          kinds={kinds.data?.items ?? []}
          kindsError={kinds.error}
          onCancel={() => setCreating(false)}
          onCreated={(strategy) => {
            remember(strategy);
            setCreating(false);
            setMessage({ text: `${strategy.strategyId} (${strategy.kind}) created and running.`, error: false });
            remote.reload();
          }}
        />
      ) : null}
      <section className="panel">
        <table className="grid" data-testid="strategies-table">
          <thead>
            <tr>
              <th>Strategy</th>
              <th>Kind</th>
              <th>State</th>
              <th className="num">Net P&amp;L</th>
              <th className="num">Charges</th>
              <th className="num">Turnover</th>
              <th className="num">Fills</th>
              <th className="num">Intents</th>
              <th className="num">Rejected</th>
              <th className="num">Working</th>
              <th>Open positions (own)</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((strategy) => {
              const state = strategyRunState(strategy);
              const figures = performance.get(strategy.strategyId);
              const open = Object.entries(strategy.positions).filter(([, net]) => net !== 0);
              return (
                <tr
                  key={strategy.strategyId}
                  data-strategy={strategy.strategyId}
                  data-paused={String(strategy.paused)}
                  data-state={state}
                  className={editing === strategy.strategyId ? 'selected' : ''}
                >
                  <th scope="row" className="nowrap">
                    {strategy.strategyId}
                  </th>
                  <td className="nowrap">{strategy.kind}</td>
                  <td>
                    {strategy.haltedBy && state !== 'stopped' ? (
                      <span className="badge badge-halted" title={strategy.haltedBy.reason} data-testid="strategy-halted">
                        halted
                      </span>
                    ) : (
                      <span className={`badge ${STATE_BADGE[state]}`}>{STATE_LABEL[state]}</span>
                    )}
                  </td>
                  <td className={`num ${tone(figures?.netPnlPaise)}`} data-testid="strategy-pnl">
                    {figures ? signedRupees(figures.netPnlPaise) : rupees(0)}
                  </td>
                  <td className="num">{rupees(figures?.chargesPaise ?? 0)}</td>
                  <td className="num">{rupees(figures?.turnoverPaise ?? 0)}</td>
                  <td className="num">{quantity(figures?.fills ?? strategy.stats.fills)}</td>
                  <td className="num">{quantity(strategy.stats.intents)}</td>
                  <td className="num">{quantity(strategy.stats.rejected)}</td>
                  <td className="num">{quantity(strategy.workingIntents)}</td>
                  <td className="small" title={open.map(([symbol, net]) => `${symbol} ${net > 0 ? '+' : ''}${quantity(net)}`).join(', ')}>
                    {open.length === 0
                      ? '—'
                      : `${open
                          .slice(0, 4)
                          .map(([symbol, net]) => `${symbol} ${net > 0 ? '+' : ''}${quantity(net)}`)
                          .join(', ')}${open.length > 4 ? ` +${open.length - 4} more` : ''}`}
                  </td>
                  <td className="actions">
                    {canTrade ? (
                      <>
                        {actionsFor(strategy).map(({ action, label, className }) => (
                          <button
                            key={action}
                            type="button"
                            className={className}
                            disabled={busy === strategy.strategyId}
                            onClick={() => void act(strategy, action)}
                          >
                            {label}
                          </button>
                        ))}
                        <button
                          type="button"
                          onClick={() => setEditing(editing === strategy.strategyId ? undefined : strategy.strategyId)}
                          aria-expanded={editing === strategy.strategyId}
                        >
                          Parameters
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p className="muted small">
          Net P&amp;L: cash from the strategy&apos;s fills plus its open quantities marked to the live quotes, after charges
          {fillsComplete ? '' : ' (from the newest 5,000 fills of the session only)'}. Updated {ago(remote.loadedAtMs, now)} · refreshes every 5 s.
        </p>
      </section>
      {edited && canTrade ? (
        <EditStrategy
          key={edited.strategyId}
          strategy={edited}
          onClose={() => setEditing(undefined)}
          onSaved={(strategy, changed) => {
            remember(strategy);
            setEditing(undefined);
            setMessage({
              text: `${strategy.strategyId} restarted with ${changed.join(', ')} changed; positions, working orders and its ${strategyRunState(strategy)} state carried over.`,
              error: false,
            });
            remote.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function CreateStrategy({
  kinds,
  kindsError,
  onCreated,
  onCancel,
}: {
  readonly kinds: readonly StrategyKind[];
  readonly kindsError: string | undefined;
  readonly onCreated: (strategy: Strategy) => void;
  readonly onCancel: () => void;
}) {
  const { session } = useDesk();
  const id = useId();
  const [strategyId, setStrategyId] = useState('');
  const [kindName, setKindName] = useState('');
  const kind = kinds.find((candidate) => candidate.kind === kindName) ?? kinds[0];
  const [drafts, setDrafts] = useState<ReadonlyMap<string, ConfigDraft>>(new Map());
  const draft = kind ? (drafts.get(kind.kind) ?? draftFrom(kind.configFields, { symbols: [] })) : {};
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [general, setGeneral] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!kind) return;
    setBusy(true);
    setGeneral(undefined);
    try {
      const created = await session.request<Strategy>('POST', '/api/v1/strategies', {
        strategyId: strategyId.trim(),
        kind: kind.kind,
        config: configFrom(kind.configFields, draft),
      });
      setErrors({});
      onCreated(created);
    } catch (error) {
      const split = fieldErrors(error);
      setErrors(split.byField);
      setGeneral(split.general);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-label="New strategy">
      <h2>New strategy</h2>
      {kindsError ? <p className="field-error">{kindsError}</p> : null}
      <form
        onSubmit={(event) => void submit(event)}
        onKeyDown={(event) => event.key === 'Escape' && onCancel()}
        aria-label="New strategy"
        noValidate
        data-busy={busy}
      >
        <div className="field-row">
          <div className="field">
            <label htmlFor={`${id}-strategyId`}>Strategy id</label>
            <input
              id={`${id}-strategyId`}
              name="strategyId"
              value={strategyId}
              onChange={(event) => setStrategyId(event.target.value)}
              placeholder="ema-it"
              autoComplete="off"
              spellCheck={false}
              autoFocus
              aria-invalid={errors.strategyId ? true : undefined}
              aria-describedby={errors.strategyId ? `${id}-strategyId-error` : undefined}
            />
            {errors.strategyId ? (
              <div className="field-error" id={`${id}-strategyId-error`} data-testid="config-error-strategyId">
                {errors.strategyId}
              </div>
            ) : (
              <div className="hint">letters, digits, _ and -</div>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-kind`}>Kind</label>
            <select
              id={`${id}-kind`}
              name="kind"
              value={kind?.kind ?? ''}
              onChange={(event) => setKindName(event.target.value)}
              aria-invalid={errors.kind ? true : undefined}
            >
              {kinds.map((candidate) => (
                <option key={candidate.kind} value={candidate.kind}>
                  {candidate.kind}
                </option>
              ))}
            </select>
            {errors.kind ? <div className="field-error">{errors.kind}</div> : <div className="hint">{kind?.description}</div>}
          </div>
        </div>
        {kind ? (
          <>
            <h3>Settings of {kind.kind}</h3>
            <p className="hint">Leave symbols empty to trade every instrument.</p>
            <ConfigFields
              fields={kind.configFields}
              draft={draft}
              onChange={(next) => setDrafts(new Map(drafts).set(kind.kind, next))}
              errors={errors}
              idPrefix={`${id}-config`}
            />
          </>
        ) : null}
        {general ? (
          <div className="field-error" role="alert" data-testid="create-error">
            {general}
          </div>
        ) : null}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || !kind}>
            {busy ? 'Creating…' : 'Create and start'}
          </button>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

function EditStrategy({
  strategy,
  onSaved,
  onClose,
}: {
  readonly strategy: Strategy;
  readonly onSaved: (strategy: Strategy, changed: readonly string[]) => void;
  readonly onClose: () => void;
}) {
  const { session } = useDesk();
  const id = useId();
  const [draft, setDraft] = useState<ConfigDraft>(() => draftFrom(strategy.configFields, strategy.config));
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [general, setGeneral] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const config = configFrom(strategy.configFields, draft, strategy.config);
    if (Object.keys(config).length === 0) {
      setGeneral('Nothing changed.');
      return;
    }
    setBusy(true);
    setGeneral(undefined);
    try {
      const updated = await session.request<Strategy>('PATCH', `/api/v1/strategies/${encodeURIComponent(strategy.strategyId)}`, { config });
      setErrors({});
      onSaved(updated, Object.keys(config));
    } catch (error) {
      const split = fieldErrors(error);
      setErrors(split.byField);
      setGeneral(split.general);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-label={`Parameters of ${strategy.strategyId}`} data-testid="edit-strategy">
      <div className="panel-head">
        <h2>
          Parameters of {strategy.strategyId} <span className="muted small">{strategy.kind}</span>
        </h2>
        <button type="button" className="link" onClick={onClose} aria-label="Close parameters">
          ✕
        </button>
      </div>
      <p className="hint">Saving restarts the strategy with the new settings; its positions, working orders and pause state carry over.</p>
      <form
        onSubmit={(event) => void submit(event)}
        onKeyDown={(event) => event.key === 'Escape' && onClose()}
        aria-label={`Edit ${strategy.strategyId}`}
        noValidate
      >
        <ConfigFields fields={strategy.configFields} draft={draft} onChange={setDraft} errors={errors} idPrefix={`${id}-config`} />
        {general ? (
          <div className="field-error" role="alert" data-testid="edit-error">
            {general}
          </div>
        ) : null}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save and restart'}
          </button>
          <button type="button" onClick={() => setDraft(draftFrom(strategy.configFields, strategy.config))}>
            Reset
          </button>
        </div>
      </form>
    </section>
  );
}
