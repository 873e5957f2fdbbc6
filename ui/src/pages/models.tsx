import { useState } from 'react';
import { roleAtLeast } from '../lib/api.js';
import { humanise } from '../lib/errors.js';
import { ago, dateTime } from '../lib/format.js';
import { useDesk, useNow, useRemote } from '../lib/hooks.js';

/** A registered model as `GET /api/v1/ml/models` gives it. */
export interface ModelRow {
  readonly version: string;
  readonly kind: string;
  readonly status: 'candidate' | 'live' | 'retired';
  readonly createdAtMs: number;
  readonly promotedAtMs: number | null;
  readonly featureSchemaHash: string;
  readonly trainingWindow: { readonly fromMs: number; readonly toMs: number };
  readonly onnxBytes: number;
  readonly metrics: {
    readonly samples: number | null;
    readonly accuracy: number | null;
    readonly brier: number | null;
    readonly logLoss: number | null;
    readonly ece: number | null;
    readonly baselineAccuracy: number | null;
    readonly retraining: string | null;
  };
}

interface ActorStatus {
  readonly modelVersion: string | null;
  readonly interval: string | null;
  readonly lastError: string | null;
  readonly loading: boolean;
  readonly symbols: number;
  readonly warmSymbols: number;
  readonly stats: { readonly predictions: number; readonly runs: number; readonly ignoredBars: number };
}

interface MlStatusResponse {
  readonly mode: string;
  readonly kind: string;
  readonly actor: ActorStatus | null;
  readonly retraining: {
    readonly schedule: string;
    readonly nextRunAtMs: number | null;
    readonly running: boolean;
    readonly progress: { readonly phase: string; readonly fraction: number; readonly message: string } | null;
    readonly lastOutcome: { readonly version: string; readonly promoted: boolean; readonly reason: string; readonly finishedAtMs: number } | null;
    readonly lastError: string | null;
  };
}

/** What promote and rollback answer. */
interface ActionReply {
  readonly promoted?: string;
  readonly restored?: string;
  readonly retired?: string | null;
}

const pct = (value: number | null): string => (value === null ? '–' : `${(value * 100).toFixed(1)}%`);
const fixed = (value: number | null): string => (value === null ? '–' : value.toFixed(4));

/** The ML models: the registry with out-of-sample metrics, the active version, retraining progress, promote and roll back (admins). */
export function ModelsPage() {
  const { session } = useDesk();
  const now = useNow();
  const models = useRemote<{ items: ModelRow[] }>((current) => current.request<{ items: ModelRow[] }>('GET', '/api/v1/ml/models'), [], 10_000);
  const status = useRemote<MlStatusResponse>((current) => current.request<MlStatusResponse>('GET', '/api/v1/ml/status'), [], 3_000);
  const [message, setMessage] = useState<string | undefined>();
  const isAdmin = roleAtLeast(session.role, 'admin');
  const act = async (what: string, method: 'POST', path: string, done: (body: ActionReply) => string): Promise<void> => {
    try {
      const body = await session.request<ActionReply>(method, path);
      setMessage(done(body));
    } catch (error) {
      setMessage(`${what}: ${humanise(error)}`);
    }
    models.reload();
    status.reload();
  };
  const actor = status.data?.actor ?? null;
  const retraining = status.data?.retraining;
  return (
    <div className="page">
      <h1>Models</h1>
      {models.error ? (
        <div className="banner banner-error" role="alert">
          Models unavailable: {models.error}
        </div>
      ) : null}
      {actor?.lastError ? (
        <div className="banner banner-error" role="alert" data-testid="model-load-error">
          The live model was not loaded: {actor.lastError}
        </div>
      ) : null}
      <div className="columns">
        <section className="panel grow" aria-label="Active model">
          <h2>Active model</h2>
          <p data-testid="active-model">
            {actor === null ? (
              status.data ? (
                `The ML actor is not running (${status.data.mode === 'off' ? 'TROUPE_ML=off' : 'no model is live'}).`
              ) : (
                'loading…'
              )
            ) : actor.modelVersion === null ? (
              'No model loaded.'
            ) : (
              <strong>{actor.modelVersion}</strong>
            )}
            {actor?.modelVersion ? (
              <span className="muted small">
                {' '}
                · {actor.interval} bars · {actor.warmSymbols}/{actor.symbols} symbols warm · {actor.stats.predictions} predictions in {actor.stats.runs} runs
              </span>
            ) : null}
          </p>
          {isAdmin ? (
            <button
              type="button"
              onClick={() => void act('Roll back', 'POST', '/api/v1/ml/rollback', (b) => `${b.restored ?? ''} is live again; ${b.retired ?? ''} retired.`)}
            >
              Roll back
            </button>
          ) : null}
        </section>
        <section className="panel grow" aria-label="Retraining">
          <h2>Retraining</h2>
          <p className="small">
            Schedule: {retraining?.schedule ?? '–'}
            {retraining?.nextRunAtMs ? ` · next ${dateTime(retraining.nextRunAtMs)}` : ''}
          </p>
          {retraining?.running && retraining.progress ? (
            <div data-testid="training-progress">
              <progress max={1} value={retraining.progress.fraction} aria-label="Training progress" /> {retraining.progress.phase}:{' '}
              {retraining.progress.message}
            </div>
          ) : null}
          {retraining?.lastOutcome ? (
            <p className="small">
              Last: {retraining.lastOutcome.version} {retraining.lastOutcome.promoted ? 'promoted' : 'kept as a candidate'} ({retraining.lastOutcome.reason}),{' '}
              {ago(retraining.lastOutcome.finishedAtMs, now)}
            </p>
          ) : null}
          {retraining?.lastError ? <p className="small">Last retraining failed: {retraining.lastError}</p> : null}
          {isAdmin ? (
            <button
              type="button"
              disabled={retraining?.running ?? true}
              onClick={() => void act('Retrain', 'POST', '/api/v1/ml/retrain', () => 'Retraining started (in a child process); progress shows here.')}
            >
              Retrain now
            </button>
          ) : null}
        </section>
      </div>
      {message ? (
        <p role="status" className="small" data-testid="models-message">
          {message}
        </p>
      ) : null}
      <section className="panel" aria-label="Registered models">
        <h2>Registered models</h2>
        <table className="grid" data-testid="models-table">
          <thead>
            <tr>
              <th>Version</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Training window</th>
              <th>Accuracy (baseline)</th>
              <th>Brier</th>
              <th>Log loss</th>
              <th>ECE</th>
              <th>Schema</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(models.data?.items ?? []).map((model) => (
              <tr key={model.version} data-version={model.version} data-status={model.status}>
                <td title={model.metrics.retraining ?? undefined}>{model.version}</td>
                <td>{model.kind}</td>
                <td>{model.status}</td>
                <td>
                  {dateTime(model.trainingWindow.fromMs)} – {dateTime(model.trainingWindow.toMs)}
                </td>
                <td>
                  {pct(model.metrics.accuracy)} ({pct(model.metrics.baselineAccuracy)})
                </td>
                <td>{fixed(model.metrics.brier)}</td>
                <td>{fixed(model.metrics.logLoss)}</td>
                <td>{fixed(model.metrics.ece)}</td>
                <td className="mono">{model.featureSchemaHash.slice(0, 12)}</td>
                <td>
                  {isAdmin && model.status !== 'live' ? (
                    <button
                      type="button"
                      onClick={() =>
                        void act(
                          'Promote',
                          'POST',
                          `/api/v1/ml/models/${encodeURIComponent(model.version)}/promote`,
                          (b) => `${b.promoted ?? ''} is live${b.retired ? `; ${b.retired} retired` : ''}.`,
                        )
                      }
                    >
                      Promote
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {models.data && models.data.items.length === 0 ? <p className="muted">No models yet: train one with `troupe ml train`.</p> : null}
      </section>
    </div>
  );
}
