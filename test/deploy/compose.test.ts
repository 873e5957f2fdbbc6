import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { configVariables, NOT_CONFIG, pinned, readWithSecrets, REPO } from './deploy-checks.js';
import { podTemplate, renderKustomization } from './kustomize.js';

// docker-compose.yml, checked as far as it can be without a Docker daemon (there is none here):
// parsed with `yaml` (duplicate keys refused), compose's variable interpolation applied with its
// defaults, then every reference checked against the repository and the rest of the file.

interface Service {
  image: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number; start_period?: string };
  [key: string]: unknown;
}
interface Compose {
  name: string;
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

/** Compose's interpolation with an empty environment: `${VAR:-default}`, `${VAR-default}`, `${VAR}`, `$$`. */
function interpolate(text: string): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}|\$([A-Z0-9_]+)/g, (match, braced: string | undefined, fallback: string | undefined) => {
    if (match === '$$') return '$';
    if (braced === undefined) throw new Error(`unbraced variable ${match}: use \${NAME:-default}`);
    return fallback ?? '';
  });
}

const raw = readFileSync(join(REPO, 'docker-compose.yml'), 'utf8');
/** Interpolates every string value (compose does it after parsing: comments are left alone). */
const interpolated = (value: unknown): unknown =>
  typeof value === 'string' ? interpolate(value) : Array.isArray(value) ? value.map(interpolated) : typeof value === 'object' && value !== null ? Object.fromEntries(Object.entries(value).map(([key, child]) => [key, interpolated(child)])) : value;
const compose = interpolated(parseYaml(raw, { uniqueKeys: true })) as Compose;
const services = compose.services;
const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** Container ports each service listens on (compose publishes nothing by itself; these are the images' and Troupe's). */
const LISTENS: Record<string, number[]> = { troupe: [8080], postgres: [5432], redis: [6379], 'redis-sentinel': [26379], nats: [4222, 8222], prometheus: [9090], alertmanager: [9093], grafana: [3000] };

const bindMounts = (service: Service): { source: string; target: string }[] =>
  (service.volumes ?? [])
    .map((volume) => volume.split(':'))
    .filter(([source]) => source!.startsWith('.') || source!.startsWith('/'))
    .map(([source, target]) => ({ source: source!, target: target! }));
const mountSource = (service: Service, target: string): string => {
  const mount = bindMounts(service).find((entry) => entry.target === target);
  if (mount === undefined) throw new Error(`nothing mounted at ${target}`);
  return join(REPO, mount.source);
};
const reachable = (target: string): boolean => {
  const [host, port] = target.split(':') as [string, string];
  return host in services && (LISTENS[host] ?? []).includes(Number(port));
};

describe('docker-compose.yml', () => {
  it('brings up the whole stack, every image pinned, Troupe built from the Dockerfile at the package version', () => {
    expect(compose.name).toBe('troupe');
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'grafana', 'nats', 'postgres', 'prometheus', 'redis', 'redis-sentinel', 'troupe']);
    for (const [name, service] of Object.entries(services)) expect(pinned(service.image), `${name} image ${service.image}`).toBe(true);
    expect(services.troupe!.image).toBe(`troupe:${version}`);
    expect(services.troupe!.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    expect(services.postgres!.image).toMatch(/^postgres:15\.\d+(-[a-z]+)?$/);
    expect(services.redis!.image).toMatch(/^redis:7\.\d+\.\d+(-[a-z]+)?$/);
    expect(services.nats!.command).toContain('--jetstream');
  });

  it('uses the same images as the Kubernetes manifests', () => {
    const objects = renderKustomization(join(REPO, 'deploy/k8s/overlays/dev'), readWithSecrets);
    const kubernetes = new Set(objects.flatMap((object) => podTemplate(object)?.spec.containers.map((container) => container.image) ?? []));
    for (const [name, service] of Object.entries(services)) expect(kubernetes, `${name} ${service.image}`).toContain(service.image);
  });

  it('keeps the Dockerfile correct: pinned Node 20 that meets engines, the dashboard built into the image, a small context', () => {
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const from = /^FROM node:(\d+)\.(\d+)\.(\d+)-[a-z-]+$/m.exec(dockerfile);
    expect(from).not.toBeNull();
    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const [major, minor] = /^>=(\d+)\.(\d+)$/.exec(engines)!.slice(1).map(Number) as [number, number];
    expect(Number(from![1]) > major || (Number(from![1]) === major && Number(from![2]) >= minor), `${from![0]} meets ${engines}`).toBe(true);
    expect(dockerfile).toMatch(/CMD \["npm", "start"\]/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^EXPOSE 8080$/m);
    // the image carries the dashboard: ui/ is copied and built into ui/dist at build time
    expect(dockerfile).toMatch(/^COPY ui \.\/ui$/m);
    expect(dockerfile).toMatch(/build-ui\.ts --force/);
    // every COPY source exists
    for (const match of dockerfile.matchAll(/^COPY (?!--)(.+) \S+$/gm)) for (const source of match[1]!.split(' ')) expect(existsSync(join(REPO, source)), `COPY ${source}`).toBe(true);
    const dockerignore = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.git', '.troupe', 'ui/dist', '.env', 'deploy']) expect(dockerignore, `.dockerignore has ${entry}`).toContain(entry);
  });

  it('mounts only paths that exist in the repository, and declares every named volume it uses', () => {
    const named = new Set<string>();
    for (const [name, service] of Object.entries(services)) {
      for (const mount of bindMounts(service)) expect(existsSync(join(REPO, mount.source)), `${name} mounts ${mount.source}`).toBe(true);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) named.add(source);
        expect(volume.split(':')[1], `${name} ${volume} target`).toMatch(/^\//);
      }
    }
    expect([...named].sort()).toEqual(Object.keys(compose.volumes).sort());
  });

  it('starts in order: depends_on names services that exist and have the healthcheck it waits for', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck, `${name} healthcheck`).toBeDefined();
      expect(service.healthcheck!.interval, `${name} interval`).toMatch(/^\d+s$/);
      expect(service.healthcheck!.retries, `${name} retries`).toBeGreaterThan(0);
      expect(['CMD', 'CMD-SHELL'], `${name} healthcheck.test`).toContain(service.healthcheck!.test[0]);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        expect(condition).toBe('service_healthy');
      }
    }
    expect(Object.keys(services.troupe!.depends_on ?? {}).sort()).toEqual(['postgres', 'redis']);
    expect(services.troupe!.healthcheck!.test.join(' ')).toContain('/api/v1/health/ready');
  });

  it('publishes each host port once, on loopback only', () => {
    const published = Object.entries(services).flatMap(([name, service]) =>
      (service.ports ?? []).map((entry) => {
        const parts = entry.split(':');
        expect(parts, `${name} ${entry} is host-ip:host-port:container-port`).toHaveLength(3);
        expect(parts[0], `${name} ${entry}`).toBe('127.0.0.1');
        expect(LISTENS[name], `${name} ${entry} container port`).toContain(Number(parts[2]));
        return Number(parts[1]);
      }),
    );
    expect(new Set(published).size).toBe(published.length);
    expect(published).toEqual(expect.arrayContaining([8080, 3000, 9090, 9093]));
  });

  it('configures Troupe only with variables src/config reads, and the configuration loads and points at the stores', () => {
    const environment = services.troupe!.environment!;
    const known = configVariables();
    for (const name of Object.keys(environment)) expect(known.has(name) || name in NOT_CONFIG, `${name} is read by src/config`).toBe(true);
    const config = loadConfig(environment);
    expect(new URL(config.databaseUrl!).host).toBe('postgres:5432');
    expect(new URL(config.redisUrl!).host).toBe('redis:6379');
    expect(config.port).toBe(8080);
    expect(config.persistence.leaseWaitMs).toBeGreaterThan(config.persistence.leaseTtlMs);
    expect(services.troupe!.volumes).toContain(`troupe-data:${config.dataDir}`);
    // the password is the one PostgreSQL is given
    expect(decodeURIComponent(new URL(config.databaseUrl!).password)).toBe(services.postgres!.environment!.POSTGRES_PASSWORD);
  });

  it('runs Redis with AOF and noeviction, watched by a Sentinel; NATS with JetStream on a volume', () => {
    const command = services.redis!.command!;
    expect(command.slice(command.indexOf('--appendonly'), command.indexOf('--appendonly') + 2)).toEqual(['--appendonly', 'yes']);
    expect(command.slice(command.indexOf('--maxmemory-policy'), command.indexOf('--maxmemory-policy') + 2)).toEqual(['--maxmemory-policy', 'noeviction']);
    expect(services['redis-sentinel']!.command!.join(' ')).toMatch(/sentinel monitor troupe redis 6379 1/);
    expect(services.nats!.volumes).toContain('nats-data:/data');
  });

  it('wires Prometheus, Alertmanager and Grafana to deploy/ and to each other', () => {
    const prometheus = services.prometheus!;
    const flags = readFileSync(join(REPO, 'deploy/prometheus/prometheus.args'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    expect(prometheus.command).toEqual(flags);
    expect(flags).toContain('--storage.tsdb.retention.time=30d');
    const prometheusYml = parseYaml(readFileSync(mountSource(prometheus, '/etc/prometheus/prometheus.yml'), 'utf8')) as {
      rule_files?: string[];
      alerting?: { alertmanagers?: { static_configs?: { targets: string[] }[] }[] };
      scrape_configs: { static_configs?: { targets: string[] }[] }[];
    };
    const targets = prometheusYml.scrape_configs.flatMap((job) => (job.static_configs ?? []).flatMap((group) => group.targets)).filter((target) => !/^(localhost|127\.0\.0\.1):/.test(target));
    expect(targets.filter((target) => !reachable(target)), 'scrape targets that are not a compose service and port').toEqual([]);
    expect(targets.some((target) => target.startsWith('troupe:'))).toBe(true);
    const alertmanagers = (prometheusYml.alerting?.alertmanagers ?? []).flatMap((entry) => (entry.static_configs ?? []).flatMap((group) => group.targets));
    expect(alertmanagers.length).toBeGreaterThan(0);
    for (const target of alertmanagers) expect(reachable(target), target).toBe(true);
    // a credentials file prometheus.yml names holds what Troupe checks (by default: nothing, /metrics is public)
    for (const match of readFileSync(mountSource(prometheus, '/etc/prometheus/prometheus.yml'), 'utf8').matchAll(/credentials_file:\s*(\S+)/g)) {
      const file = join('/etc/prometheus', match[1]!);
      expect(file.startsWith('/etc/prometheus/secrets/'), file).toBe(true);
      const content = readFileSync(join(mountSource(prometheus, '/etc/prometheus/secrets'), file.slice('/etc/prometheus/secrets/'.length)), 'utf8');
      expect(content.trim()).toBe(services.troupe!.environment!.TROUPE_METRICS_TOKEN ?? '');
    }
    for (const pattern of prometheusYml.rule_files ?? []) expect(join('/etc/prometheus', pattern).startsWith('/etc/prometheus/rules/'), pattern).toBe(true);
    expect(readdirSync(mountSource(prometheus, '/etc/prometheus/rules')).some((file) => file.endsWith('.yml'))).toBe(true);

    const alertmanager = services.alertmanager!;
    const alertmanagerYml = readFileSync(mountSource(alertmanager, '/etc/alertmanager/alertmanager.yml'), 'utf8');
    const secrets = mountSource(alertmanager, '/etc/alertmanager/secrets');
    const files = [...alertmanagerYml.matchAll(/_file:\s*(\S+)/g)].map((match) => match[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(file.startsWith('/etc/alertmanager/secrets/'), file).toBe(true);
      expect(existsSync(join(secrets, file.slice('/etc/alertmanager/secrets/'.length))), `${file} has a placeholder`).toBe(true);
    }

    const grafana = services.grafana!;
    const provisioning = mountSource(grafana, '/etc/grafana/provisioning');
    for (const file of readdirSync(join(provisioning, 'datasources'))) {
      const datasources = parseYaml(readFileSync(join(provisioning, 'datasources', file), 'utf8')) as { datasources: { url: string }[] };
      for (const source of datasources.datasources) expect(reachable(new URL(source.url).host), source.url).toBe(true);
    }
    for (const file of readdirSync(join(provisioning, 'dashboards'))) {
      const providers = parseYaml(readFileSync(join(provisioning, 'dashboards', file), 'utf8')) as { providers: { options: { path: string } }[] };
      for (const provider of providers.providers) expect(mountSource(grafana, provider.options.path)).toBe(join(REPO, 'deploy/grafana/dashboards'));
    }
  });

  it('the interpolation refuses what compose would read differently', () => {
    expect(interpolate('a ${X:-b} $$ ${Y}')).toBe('a b $ ');
    expect(() => interpolate('$HOME')).toThrow(/unbraced/);
  });
});
