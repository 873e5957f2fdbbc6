/**
 * A real Prometheus server for tests: Debian's `prometheus` (`prometheusBinary()`: found on PATH, installed with
 * apt-get when missing and we are root), started on a free loopback port with a temporary
 * storage directory, scraping the targets it is given, plus a small client for its HTTP API.
 * Readiness and scrapes are polled with a deadline; there are no fixed sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { prometheusBinary } from './prometheus-tools.js';
import { freePort } from './services.js';

/** One scrape job: `host:port` targets on loopback. */
export interface ScrapeJob {
  readonly job: string;
  readonly targets: readonly string[];
  /** Default `/metrics`. */
  readonly metricsPath?: string;
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  /** Scrape and rule evaluation interval (default 1 s). */
  readonly intervalSec?: number;
  /** Rule files' contents (YAML objects with `groups`), written next to the config. */
  readonly ruleFiles?: readonly unknown[];
  /** Also scrape Prometheus itself as job `prometheus` (its `prometheus_*` metrics). */
  readonly scrapeSelf?: boolean;
  /** Alertmanagers (`host:port` on loopback) Prometheus sends its alerts to (`alerting:`). */
  readonly alertmanagers?: readonly string[];
  /** Readiness deadline (default 30 s). */
  readonly readyTimeoutMs?: number;
}

/** An instant query's result (`/api/v1/query`). */
export interface InstantResult {
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  readonly result: readonly { readonly metric?: Readonly<Record<string, string>>; readonly value?: readonly [number, string] }[] | readonly [number, string];
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Evaluates an instant query; throws with Prometheus's error text on a bad query. */
  query(expr: string): Promise<InstantResult>;
  /** Every metric name with at least one series (`/api/v1/label/__name__/values`). */
  metricNames(): Promise<readonly string[]>;
  /** Values of `label`, optionally only on series matching `match` (`/api/v1/label/<label>/values?match[]=`). */
  labelValues(label: string, match?: string): Promise<readonly string[]>;
  /** Metric names the scraped targets declare (`# HELP`/`# TYPE`), samples or not (`/api/v1/metadata`). */
  declaredMetrics(): Promise<readonly string[]>;
  /** Resolves once every target of `job` has been scraped successfully at least `scrapes` times after this call. */
  waitForScrapes(job: string, scrapes: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  readonly status: 'success' | 'error';
  readonly data?: T;
  readonly errorType?: string;
  readonly error?: string;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const body = (await response.json()) as ApiAnswer<T>;
  if (body.status !== 'success' || body.data === undefined) throw new Error(`${body.errorType ?? `HTTP ${response.status}`}: ${body.error ?? 'no data'}`);
  return body.data;
}

async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = false;
    try {
      done = await check();
    } catch {
      done = false;
    }
    if (done) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts Prometheus; resolves once `/-/ready` answers 200. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const binary = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'troupe-prometheus-'));
  const intervalSec = options.intervalSec ?? 1;
  const ruleFiles = (options.ruleFiles ?? []).map((rules, index) => {
    const path = join(dir, `rules-${index}.yml`);
    writeFileSync(path, stringify(rules));
    return path;
  });
  const port = await freePort();
  const jobs = [...options.jobs, ...(options.scrapeSelf === true ? [{ job: 'prometheus', targets: [`127.0.0.1:${port}`] }] : [])];
  const config = {
    global: { scrape_interval: `${intervalSec}s`, scrape_timeout: `${intervalSec}s`, evaluation_interval: `${intervalSec}s` },
    rule_files: ruleFiles,
    ...(options.alertmanagers !== undefined && options.alertmanagers.length > 0
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: [...options.alertmanagers] }] }] } }
      : {}),
    scrape_configs: jobs.map((job) => ({ job_name: job.job, metrics_path: job.metricsPath ?? '/metrics', static_configs: [{ targets: [...job.targets] }] })),
  };
  const configPath = join(dir, 'prometheus.yml');
  writeFileSync(configPath, stringify(config));
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  // alerts go to Alertmanager when they start firing and then every resend delay (default 1 m): a
  // firing alert evaluated before Alertmanager was discovered would otherwise wait a minute
  const resend = options.alertmanagers !== undefined && options.alertmanagers.length > 0 ? [`--rules.alert.resend-delay=${intervalSec}s`] : [];
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${configPath}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...resend],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (chunk: Buffer) => (output = `${output}${chunk.toString()}`.slice(-4000)));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exitedPromise.then(() => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      await exitedPromise;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await poll('prometheus ready', options.readyTimeoutMs ?? 30_000, async () => {
      if (exited) throw new Error('exited');
      return (await fetch(`${url}/-/ready`)).status === 200;
    });
  } catch (error) {
    await stop();
    throw new Error(`prometheus did not start (${error instanceof Error ? error.message : String(error)}): ${output.trim()}`);
  }

  const server: PrometheusServer = {
    url,
    query: (expr) => api<InstantResult>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`),
    metricNames: () => api<string[]>(`${url}/api/v1/label/__name__/values`),
    labelValues: (label, match) =>
      api<string[]>(`${url}/api/v1/label/${encodeURIComponent(label)}/values${match === undefined ? '' : `?match[]=${encodeURIComponent(match)}`}`),
    declaredMetrics: async () => Object.keys(await api<Record<string, unknown>>(`${url}/api/v1/metadata`)),
    async waitForScrapes(job, scrapes, timeoutMs = 30_000) {
      const sinceSec = Date.now() / 1000;
      await poll(`${scrapes} successful scrapes of job ${job}`, timeoutMs, async () => {
        // successful scrapes of every target of the job inside a window that starts at the call
        const windowSec = Math.max(1, Math.floor(Date.now() / 1000 - sinceSec));
        const answer = await server.query(`min(sum_over_time(up{job="${job}"}[${windowSec}s])) >= ${scrapes}`);
        return Array.isArray(answer.result) && answer.result.length > 0;
      });
    },
    stop,
  };
  return server;
}
