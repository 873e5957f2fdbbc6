/**
 * One `/metrics` from two registries: with the gateway in a worker thread (`TROUPE_GATEWAY_THREAD=worker`)
 * the trading thread's registry counts ticks, orders and the process, and the worker's counts
 * requests, logins, audit entries and WebSocket traffic. Both registries declare every metric
 * (one `Metrics` class); each family is taken from the registry that updates it.
 */
import type { Metrics } from './metrics.js';

/** The families the gateway updates (`src/gateway`): taken from the gateway's registry; every other from the host's. */
export const GATEWAY_METRIC_FAMILIES: ReadonlySet<string> = new Set([
  'troupe_http_request_duration_seconds',
  'troupe_http_requests_total',
  'troupe_http_rate_limited_total',
  'troupe_auth_logins_total',
  'troupe_audit_entries_total',
  'troupe_ws_messages_sent_total',
  'troupe_ws_messages_received_total',
  'troupe_ws_disconnects_total',
  'troupe_ws_conflated_total',
  'troupe_ws_replayed_total',
  'troupe_ws_rate_limited_total',
  'troupe_ws_clients',
  'troupe_api_keys_active',
  'troupe_strategies_paused',
]);

/** A metric family as `Registry.getMetricsAsJSON` gives it, as far as the API reads it. */
export interface MetricFamilyJson {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly values: readonly {
    readonly labels: Readonly<Record<string, string | number>>;
    /** null where the registry holds NaN or ±Infinity (a gauge with nothing to read yet): what JSON makes of them anyway. */
    readonly value: number | null;
    readonly metricName?: string;
  }[];
}

/** What the gateway's metric routes read: the text exposition and the families as JSON. */
export interface MetricsExposition {
  readonly contentType: string;
  text(): Promise<string>;
  json(): Promise<readonly MetricFamilyJson[]>;
}

/** One registry's exposition (the gateway on the trading thread: the process's only registry). */
export function registryExposition(metrics: Metrics): MetricsExposition {
  return {
    contentType: metrics.contentType,
    text: () => metrics.text(),
    json: async () =>
      (await metrics.registry.getMetricsAsJSON()).map((family) => ({
        name: family.name,
        type: String(family.type),
        help: family.help,
        values: family.values.map((value) => ({
          // a label set without a value (prom-client allows it) is left out: what crosses is strings and numbers
          labels: Object.fromEntries(Object.entries(value.labels).filter((entry): entry is [string, string | number] => entry[1] !== undefined)),
          value: Number.isFinite(value.value) ? value.value : null,
          ...('metricName' in value && typeof value.metricName === 'string' ? { metricName: value.metricName } : {}),
        })),
      })),
  };
}

/** The host's exposition with the gateway's families taken from the gateway's (the host's order kept). */
export function mergedExposition(host: Pick<MetricsExposition, 'text' | 'json'>, gateway: MetricsExposition): MetricsExposition {
  return {
    contentType: gateway.contentType,
    async text() {
      const [hostText, gatewayText] = await Promise.all([host.text(), gateway.text()]);
      return mergeTexts(hostText, gatewayText);
    },
    async json() {
      const [hostFamilies, gatewayFamilies] = await Promise.all([host.json(), gateway.json()]);
      const fromGateway = new Map(gatewayFamilies.filter((family) => GATEWAY_METRIC_FAMILIES.has(family.name)).map((family) => [family.name, family]));
      return hostFamilies.map((family) => fromGateway.get(family.name) ?? family);
    },
  };
}

/** Two text expositions merged family by family (a family starts at its `# HELP` line). */
export function mergeTexts(hostText: string, gatewayText: string): string {
  const gatewayFamilies = new Map(families(gatewayText).filter(([name]) => GATEWAY_METRIC_FAMILIES.has(name)));
  const merged = families(hostText).map(([name, block]) => gatewayFamilies.get(name) ?? block);
  return `${merged.join('\n')}\n`;
}

/** The families of a text exposition, in order: their name and their lines. */
function families(text: string): [string, string][] {
  const out: [string, string][] = [];
  let name: string | undefined;
  let lines: string[] = [];
  const flush = (): void => {
    if (name !== undefined) out.push([name, lines.join('\n')]);
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) {
      flush();
      name = line.split(' ')[2] ?? '';
      lines = [];
    }
    if (line !== '') lines.push(line);
  }
  flush();
  return out;
}
