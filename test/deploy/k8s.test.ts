import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { startHarness, type Harness } from '../gateway/harness.js';
import { configVariables, cpuMillis, filesIn, memoryBytes, NOT_CONFIG, pinned, readWithSecrets, REPO } from './deploy-checks.js';
import { parseImage, podTemplate, renderKustomization, type Container, type K8sObject, type PodSpec } from './kustomize.js';

// deploy/k8s rendered the way `kubectl kustomize` would (test/deploy/kustomize.ts, the subset the
// tree uses), then every object checked against the Kubernetes OpenAPI schemas
// (kubernetes-models, Kubernetes 1.27) and against the rules the stack needs. Nothing is applied.

const OVERLAYS = { dev: 'troupe-dev', prod: 'troupe' } as const;
type Overlay = keyof typeof OVERLAYS;

const MODELS: Record<string, { prototype: { validate(): void } }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/Namespace': Namespace,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

const TOP_LEVEL: Record<string, readonly string[]> = {
  ConfigMap: ['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable'],
  Secret: ['apiVersion', 'kind', 'metadata', 'data', 'stringData', 'type', 'immutable'],
};

/**
 * Validates against the OpenAPI schema, and also refuses fields the schema does not know (the
 * generated validators allow them; the API server's strict field validation does not). The
 * validator reads each property its schema defines: a property it never read is unknown.
 */
function validateStrictly(object: K8sObject): string[] {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (model === undefined) return [`${object.kind} ${object.apiVersion} is not a kind this test knows`];
  const read = new WeakMap<object, Set<string>>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    return new Proxy(value, {
      get(target, property, receiver) {
        if (typeof property === 'string') {
          const keys = read.get(target) ?? new Set<string>();
          keys.add(property);
          read.set(target, keys);
        }
        return wrap(Reflect.get(target, property, receiver));
      },
    });
  };
  const problems: string[] = [];
  try {
    model.prototype.validate.call(wrap(object));
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  const allowedTop = TOP_LEVEL[object.kind] ?? ['apiVersion', 'kind', 'metadata', 'spec'];
  for (const key of Object.keys(object)) if (!allowedTop.includes(key)) problems.push(`unknown field /${key}`);
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}/${index}`));
    else if (typeof value === 'object' && value !== null) {
      const known = read.get(value);
      for (const [key, child] of Object.entries(value)) {
        if (known?.has(key) !== true) problems.push(`unknown field ${path}/${key}`);
        else walk(child, `${path}/${key}`);
      }
    }
  };
  for (const key of Object.keys(object)) if (allowedTop.includes(key) && key !== 'apiVersion' && key !== 'kind') walk(object[key], `/${key}`);
  return problems;
}

const render = (overlay: Overlay): K8sObject[] => renderKustomization(join(REPO, 'deploy/k8s/overlays', overlay), readWithSecrets);
const workloads = (objects: K8sObject[]): K8sObject[] => objects.filter((object) => podTemplate(object) !== undefined);
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};
/** A generated object's name without its hash suffix. */
const baseName = (name: string): string => name.replace(/-[0-9a-f]{10}$/, '');
const generatedNamed = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && baseName(object.metadata.name) === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};
const podLabels = (workload: K8sObject): Record<string, string> => (podTemplate(workload)!.metadata?.labels ?? {}) as Record<string, string>;
const allContainers = (spec: PodSpec): Container[] => [...(spec.initContainers ?? []), ...spec.containers];

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    if (operator === 'In' && !(has && values.includes(labels[key]!))) return false;
    if (operator === 'NotIn' && has && values.includes(labels[key]!)) return false;
    if (operator === 'Exists' && !has) return false;
    if (operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

// ---- NetworkPolicy evaluation ------------------------------------------------------------------

/** One end of a connection: a pod (its namespace and labels) or an address outside the cluster. */
type Endpoint = { pod: Record<string, string>; namespace: string; namespaceLabels: Record<string, string> } | { ip: string };
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  ports?: { protocol?: string; port?: number | string }[];
  from?: Peer[];
  to?: Peer[];
}
interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes: string[];
  ingress?: Rule[];
  egress?: Rule[];
}

const ipNumber = (ip: string): number => ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipNumber(ip) / size) === Math.floor(ipNumber(base) / size);
}

function peerMatches(peer: Peer, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) return 'ip' in other && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(other.ip, cidr));
  if ('ip' in other) return false;
  const namespaceOk = peer.namespaceSelector === undefined ? other.namespace === policyNamespace : selects(peer.namespaceSelector, other.namespaceLabels);
  const podOk = peer.podSelector === undefined || selects(peer.podSelector, other.pod);
  return namespaceOk && podOk;
}

function ruleAllows(rule: Rule, peers: Peer[] | undefined, other: Endpoint, port: number, protocol: string, policyNamespace: string): boolean {
  const portOk = rule.ports === undefined || rule.ports.length === 0 || rule.ports.some((entry) => (entry.protocol ?? 'TCP') === protocol && (entry.port === undefined || entry.port === port));
  const peerOk = peers === undefined || peers.length === 0 || peers.some((peer) => peerMatches(peer, other, policyNamespace));
  return portOk && peerOk;
}

/** Whether the policies let `from` open a connection to `to` on a port (both directions checked). */
function connectionAllowed(policies: K8sObject[], from: Endpoint, to: Endpoint, port: number, protocol = 'TCP'): boolean {
  const side = (self: Endpoint, other: Endpoint, direction: 'Ingress' | 'Egress'): boolean => {
    if ('ip' in self) return true; // outside the cluster: not ours to police
    const applying = policies.filter((policy) => {
      const spec = policy.spec as PolicySpec;
      return policy.metadata.namespace === self.namespace && spec.policyTypes.includes(direction) && selects(spec.podSelector, self.pod);
    });
    if (applying.length === 0) return true;
    return applying.some((policy) => {
      const spec = policy.spec as PolicySpec;
      const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
      return rules.some((rule) => ruleAllows(rule, direction === 'Ingress' ? rule.from : rule.to, other, port, protocol, policy.metadata.namespace!));
    });
  };
  return side(from, to, 'Egress') && side(to, from, 'Ingress');
}

// ---- the checks --------------------------------------------------------------------------------

describe.each(Object.keys(OVERLAYS) as Overlay[])('deploy/k8s/overlays/%s', (overlay) => {
  const namespace = OVERLAYS[overlay];
  const objects = render(overlay);
  const pods = workloads(objects);

  it('renders the whole stack into its namespace, and every object validates against the Kubernetes OpenAPI schema with no unknown field', () => {
    const names = (kind: string): string[] => objects.filter((object) => object.kind === kind).map((object) => object.metadata.name).sort();
    expect(names('StatefulSet')).toEqual(['alertmanager', 'nats', 'postgres-primary', 'postgres-replica', 'prometheus', 'redis', 'redis-sentinel', 'troupe']);
    expect(names('Deployment')).toEqual(['grafana']);
    expect(names('Namespace')).toEqual([namespace]);
    for (const object of objects) {
      expect(validateStrictly(object), `${object.kind} ${object.metadata.name}`).toEqual([]);
      if (object.kind !== 'Namespace') expect(object.metadata.namespace, `${object.kind} ${object.metadata.name} namespace`).toBe(namespace);
      expect(object.metadata.labels?.['app.kubernetes.io/part-of'], `${object.kind} ${object.metadata.name} part-of label`).toBe('troupe');
    }
    // the validation itself catches what it should
    const broken = structuredClone(named(objects, 'StatefulSet', 'troupe'));
    (broken.spec as { replicas: unknown }).replicas = 'one';
    (podTemplate(broken)!.spec.containers[0] as Record<string, unknown>).livenesProbe = {};
    expect(validateStrictly(broken).join('\n')).toMatch(/replicas must be integer[\s\S]*unknown field \/spec\/template\/spec\/containers\/0\/livenesProbe/);
  });

  it('runs Troupe as one single-writer pod: a StatefulSet of 1, no HorizontalPodAutoscaler, and says why', () => {
    const troupe = named(objects, 'StatefulSet', 'troupe');
    expect((troupe.spec as { replicas: number }).replicas).toBe(1);
    expect(troupe.metadata.annotations?.['troupe.dev/scaling']).toMatch(/single writer[\s\S]*no HPA[\s\S]*NATS/);
    expect(objects.filter((object) => object.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    // a drain waits for an operator rather than evicting the trader mid-session
    const budget = objects.find((object) => object.kind === 'PodDisruptionBudget' && selects((object.spec as { selector: LabelSelector }).selector, podLabels(troupe)));
    expect(budget?.spec).toMatchObject({ maxUnavailable: 0 });
  });

  it('gives every container requests and limits (requests within limits) and every long-running one startup, liveness and readiness probes', () => {
    for (const workload of pods) {
      const spec = podTemplate(workload)!.spec;
      for (const container of allContainers(spec)) {
        const where = `${workload.metadata.name}/${container.name}`;
        const resources = container.resources as { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;
        for (const resource of ['cpu', 'memory'] as const) {
          expect(resources?.requests?.[resource], `${where} requests.${resource}`).toBeDefined();
          expect(resources?.limits?.[resource], `${where} limits.${resource}`).toBeDefined();
        }
        expect(cpuMillis(resources!.requests!.cpu!), `${where} cpu`).toBeLessThanOrEqual(cpuMillis(resources!.limits!.cpu!));
        expect(memoryBytes(resources!.requests!.memory!), `${where} memory`).toBeLessThanOrEqual(memoryBytes(resources!.limits!.memory!));
      }
      for (const container of spec.containers) {
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(container[probe], `${workload.metadata.name}/${container.name} ${probe}`).toBeDefined();
        // an httpGet probe's named port is one of the container's
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const port = (container[probe] as { httpGet?: { port: string | number } }).httpGet?.port;
          if (typeof port === 'string') expect((container.ports as { name?: string }[]).map((entry) => entry.name), `${workload.metadata.name} ${probe} port`).toContain(port);
        }
      }
    }
    // the seed's Trading Engine row for Troupe (engine, portfolio, pipeline, API and dashboard in one process)
    expect(podTemplate(named(objects, 'StatefulSet', 'troupe'))!.spec.containers[0]!.resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '2', memory: '2Gi' } });
  });

  it('runs every pod non-root, without privilege escalation or capabilities, on a read-only root file system (Pod Security "restricted")', () => {
    expect(named(objects, 'Namespace', namespace).metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    for (const workload of pods) {
      const spec = podTemplate(workload)!.spec;
      const pod = spec.securityContext as { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
      expect(pod.runAsNonRoot, `${workload.metadata.name} runAsNonRoot`).toBe(true);
      expect(pod.runAsUser, `${workload.metadata.name} runAsUser`).toBeGreaterThan(0);
      expect(pod.seccompProfile?.type, `${workload.metadata.name} seccomp`).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken, `${workload.metadata.name} service account token`).toBe(false);
      expect(spec.enableServiceLinks, `${workload.metadata.name} service links`).toBe(false);
      for (const volume of spec.volumes ?? []) expect(Object.keys(volume).filter((key) => key !== 'name'), `${workload.metadata.name} volume ${volume.name}`).toEqual([expect.stringMatching(/^(configMap|secret|emptyDir|projected|downwardAPI|persistentVolumeClaim)$/)]);
      for (const container of allContainers(spec)) {
        expect(container.securityContext, `${workload.metadata.name}/${container.name}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      }
    }
  });

  it('pins every image to a version; the Troupe image carries the package version', () => {
    for (const workload of pods) {
      for (const container of allContainers(podTemplate(workload)!.spec)) expect(pinned(container.image), `${workload.metadata.name}/${container.name} ${container.image}`).toBe(true);
    }
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(parseImage(podTemplate(named(objects, 'StatefulSet', 'troupe'))!.spec.containers[0]!.image).tag).toBe(version);
  });

  it('every Service selects pods that exist, on ports they name; every StatefulSet has its headless governing Service', () => {
    for (const service of objects.filter((object) => object.kind === 'Service')) {
      const spec = service.spec as { selector?: Record<string, string>; clusterIP?: string; ports: { name: string; port: number; targetPort: string | number }[] };
      const targets = pods.filter((workload) => selects({ matchLabels: spec.selector ?? {} }, podLabels(workload)));
      expect(Object.keys(spec.selector ?? {}).length, `${service.metadata.name} selector`).toBeGreaterThan(0);
      expect(targets.length, `${service.metadata.name} selects a workload`).toBeGreaterThan(0);
      for (const port of spec.ports) {
        for (const workload of targets) {
          const declared = podTemplate(workload)!.spec.containers.flatMap((container) => (container.ports ?? []) as { name?: string; containerPort: number }[]);
          expect(declared.some((entry) => entry.name === port.targetPort || entry.containerPort === port.targetPort), `${service.metadata.name}:${port.name} -> ${workload.metadata.name}`).toBe(true);
        }
      }
    }
    for (const workload of pods.filter((object) => object.kind === 'StatefulSet')) {
      const governing = named(objects, 'Service', (workload.spec as { serviceName: string }).serviceName);
      expect(selects({ matchLabels: (governing.spec as { selector: Record<string, string> }).selector }, podLabels(workload)), `${workload.metadata.name} governed by ${governing.metadata.name}`).toBe(true);
    }
    // a workload's selector selects its own template (the API server refuses it otherwise)
    for (const workload of pods) expect(selects((workload.spec as { selector: LabelSelector }).selector, podLabels(workload)), workload.metadata.name).toBe(true);
  });

  it('every ConfigMap and Secret a pod uses exists, with the keys it asks for; none exceeds the 1 MiB object limit', () => {
    const find = (kind: 'ConfigMap' | 'Secret', name: string): K8sObject | undefined => objects.find((object) => object.kind === kind && object.metadata.name === name);
    const keysOf = (object: K8sObject): string[] => Object.keys(object.data ?? {});
    for (const workload of pods) {
      const spec = podTemplate(workload)!.spec;
      const where = workload.metadata.name;
      for (const volume of spec.volumes ?? []) {
        if (volume.configMap) expect(find('ConfigMap', volume.configMap.name), `${where} volume ConfigMap ${volume.configMap.name}`).toBeDefined();
        if (volume.secret) expect(find('Secret', volume.secret.secretName), `${where} volume Secret ${volume.secret.secretName}`).toBeDefined();
        const source = volume.configMap ? find('ConfigMap', volume.configMap.name) : volume.secret ? find('Secret', volume.secret.secretName) : undefined;
        for (const item of ((volume.configMap ?? volume.secret) as { items?: { key: string }[] } | undefined)?.items ?? []) expect(keysOf(source!), `${where} volume ${volume.name} item`).toContain(item.key);
      }
      for (const container of allContainers(spec)) {
        for (const variable of container.env ?? []) {
          const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
          if (ref === undefined) continue;
          const object = find(variable.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret', ref.name);
          expect(object, `${where} env ${variable.name} -> ${ref.name}`).toBeDefined();
          expect(keysOf(object!), `${where} env ${variable.name} key`).toContain(ref.key);
        }
        for (const source of container.envFrom ?? []) {
          const name = source.configMapRef?.name ?? source.secretRef?.name;
          expect(find(source.configMapRef ? 'ConfigMap' : 'Secret', name!), `${where} envFrom ${name}`).toBeDefined();
        }
        // a subPath mount of a ConfigMap names one of its keys
        for (const mount of (container.volumeMounts ?? []) as { name: string; subPath?: string }[]) {
          const volume = spec.volumes?.find((entry) => entry.name === mount.name);
          const claims = ((workload.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).map((claim) => claim.metadata.name);
          expect(volume !== undefined || claims.includes(mount.name), `${where}/${container.name} mounts ${mount.name}`).toBe(true);
          if (mount.subPath !== undefined && volume?.configMap) expect(keysOf(find('ConfigMap', volume.configMap.name)!), `${where} subPath ${mount.subPath}`).toContain(mount.subPath);
        }
      }
    }
    for (const object of objects.filter((entry) => entry.kind === 'ConfigMap' || entry.kind === 'Secret')) {
      expect(Buffer.byteLength(JSON.stringify(object)), `${object.kind} ${object.metadata.name} size`).toBeLessThan(1024 * 1024);
    }
  });

  it('gives every workload exactly one PodDisruptionBudget', () => {
    const budgets = objects.filter((object) => object.kind === 'PodDisruptionBudget');
    for (const workload of pods) {
      const covering = budgets.filter((budget) => selects((budget.spec as { selector: LabelSelector }).selector, podLabels(workload)));
      expect(covering.map((budget) => budget.metadata.name), workload.metadata.name).toHaveLength(1);
    }
  });

  it('configures Troupe only with variables src/config reads, and that configuration loads', () => {
    const troupe = podTemplate(named(objects, 'StatefulSet', 'troupe'))!.spec.containers[0]!;
    const known = configVariables();
    const decoded = (kind: 'ConfigMap' | 'Secret', name: string, key: string): string => {
      const value = (named(objects, kind, name).data as Record<string, string>)[key]!;
      return kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value;
    };
    // the environment as the kubelet builds it: envFrom first, then env in order with $(NAME) expanded
    const env: Record<string, string> = {};
    for (const source of troupe.envFrom ?? []) {
      const configMap = named(objects, 'ConfigMap', source.configMapRef!.name);
      Object.assign(env, configMap.data);
    }
    const interpolationOnly = new Set<string>();
    for (const variable of troupe.env ?? []) {
      const from = variable.valueFrom;
      env[variable.name] = from?.secretKeyRef
        ? decoded('Secret', from.secretKeyRef.name, from.secretKeyRef.key)
        : (variable.value ?? '').replace(/\$\(([A-Z0-9_]+)\)/g, (_, name: string) => {
            interpolationOnly.add(name);
            return env[name] ?? `$(${name})`;
          });
    }
    for (const name of Object.keys(env)) {
      if (known.has(name) || name in NOT_CONFIG) continue;
      // a variable only there to build another (a password inside DATABASE_URL) is fine
      expect(interpolationOnly.has(name), `${name} is neither read by src/config nor used in another variable`).toBe(true);
    }
    const config = loadConfig(env);
    expect(new URL(config.databaseUrl!).host).toBe('postgres-primary:5432');
    expect(new URL(config.redisUrl!).host).toBe('redis-0.redis-headless:6379');
    expect(config.port).toBe((troupe.ports as { containerPort: number }[])[0]!.containerPort);
    expect(config.persistence.leaseWaitMs).toBeGreaterThan(config.persistence.leaseTtlMs);
    // the data directory is one Troupe creates inside a volume, not the volume's root (see the ConfigMap)
    expect((troupe.volumeMounts as { mountPath: string }[]).some((mount) => config.dataDir.startsWith(`${mount.mountPath}/`)), config.dataDir).toBe(true);
    expect(config.gateway.jwtSecret).toBeDefined();
    expect(config.gateway.secretKey).toBeDefined();
  });

  it('denies by default and allows exactly the connections the stack makes', () => {
    const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
    const denyAll = policies.find((policy) => {
      const spec = policy.spec as PolicySpec;
      return Object.keys(spec.podSelector).length === 0 && spec.policyTypes.includes('Ingress') && spec.policyTypes.includes('Egress') && spec.ingress === undefined && spec.egress === undefined;
    });
    expect(denyAll?.metadata.name).toBe('default-deny');
    const namespaceLabels = { 'kubernetes.io/metadata.name': namespace };
    const pod = (name: string): Endpoint => ({ pod: podLabels(pods.find((workload) => workload.metadata.name === name)!), namespace, namespaceLabels });
    // every workload has a policy of its own (beyond default-deny and DNS)
    for (const workload of pods) {
      const own = policies.filter((policy) => Object.keys((policy.spec as PolicySpec).podSelector).length > 0 && selects((policy.spec as PolicySpec).podSelector, podLabels(workload)));
      expect(own.length, `${workload.metadata.name} has its own NetworkPolicy`).toBeGreaterThan(0);
    }
    const dns: Endpoint = { pod: { 'k8s-app': 'kube-dns' }, namespace: 'kube-system', namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' } };
    const ingressController: Endpoint = { pod: { 'app.kubernetes.io/name': 'ingress-nginx' }, namespace: 'ingress-nginx', namespaceLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } };
    const kite: Endpoint = { ip: '104.18.26.30' };
    const internal: Endpoint = { ip: '10.12.0.7' };
    const allowed: [string, Endpoint, Endpoint, number][] = [
      ['troupe -> postgres-primary', pod('troupe'), pod('postgres-primary'), 5432],
      ['troupe -> postgres-replica', pod('troupe'), pod('postgres-replica'), 5432],
      ['troupe -> redis', pod('troupe'), pod('redis'), 6379],
      ['troupe -> sentinel', pod('troupe'), pod('redis-sentinel'), 26379],
      ['troupe -> nats', pod('troupe'), pod('nats'), 4222],
      ['troupe -> Kite (HTTPS)', pod('troupe'), kite, 443],
      ['replica -> primary (WAL)', pod('postgres-replica'), pod('postgres-primary'), 5432],
      ['redis -> redis (replication)', pod('redis'), pod('redis'), 6379],
      ['redis -> sentinel (who is master)', pod('redis'), pod('redis-sentinel'), 26379],
      ['sentinel -> redis', pod('redis-sentinel'), pod('redis'), 6379],
      ['sentinel -> sentinel', pod('redis-sentinel'), pod('redis-sentinel'), 26379],
      ['nats -> nats (routes)', pod('nats'), pod('nats'), 6222],
      ['prometheus -> troupe /metrics', pod('prometheus'), pod('troupe'), 8080],
      ['prometheus -> nats monitoring', pod('prometheus'), pod('nats'), 8222],
      ['prometheus -> alertmanager', pod('prometheus'), pod('alertmanager'), 9093],
      ['prometheus -> itself', pod('prometheus'), pod('prometheus'), 9090],
      ['grafana -> prometheus', pod('grafana'), pod('prometheus'), 9090],
      ['grafana -> alertmanager', pod('grafana'), pod('alertmanager'), 9093],
      ['alertmanager -> PagerDuty/Slack', pod('alertmanager'), kite, 443],
      ['alertmanager -> SMTP', pod('alertmanager'), kite, 587],
      ['ingress -> troupe', ingressController, pod('troupe'), 8080],
      ['ingress -> grafana', ingressController, pod('grafana'), 3000],
    ];
    for (const [what, from, to, port] of allowed) expect(connectionAllowed(policies, from, to, port), what).toBe(true);
    for (const workload of pods) expect(connectionAllowed(policies, pod(workload.metadata.name), dns, 53, 'UDP'), `${workload.metadata.name} -> DNS`).toBe(true);
    const denied: [string, Endpoint, Endpoint, number][] = [
      ['outside -> postgres', ingressController, pod('postgres-primary'), 5432],
      ['outside -> redis', ingressController, pod('redis'), 6379],
      ['outside -> prometheus', ingressController, pod('prometheus'), 9090],
      ['outside -> nats', ingressController, pod('nats'), 4222],
      ['grafana -> postgres', pod('grafana'), pod('postgres-primary'), 5432],
      ['grafana -> troupe', pod('grafana'), pod('troupe'), 8080],
      ['alertmanager -> troupe', pod('alertmanager'), pod('troupe'), 8080],
      ['postgres -> the internet', pod('postgres-primary'), kite, 443],
      ['redis -> the internet', pod('redis'), kite, 443],
      ['troupe -> a cluster-internal address on 443', pod('troupe'), internal, 443],
      ['troupe -> troupe on another port', pod('troupe'), pod('troupe'), 9229],
      ['nats -> redis', pod('nats'), pod('redis'), 6379],
    ];
    for (const [what, from, to, port] of denied) expect(connectionAllowed(policies, from, to, port), what).toBe(false);
  });

  it('wires Prometheus, Alertmanager and Grafana to the files in deploy/ (one configuration with docker-compose)', () => {
    // every rule file and dashboard in the repository is in a generated ConfigMap
    const generatorFiles = (name: string): string[] => Object.keys(generatedNamed(objects, 'ConfigMap', name).data as object).sort();
    expect(generatorFiles('prometheus-rules')).toEqual(filesIn('deploy/prometheus/rules', ['.yml', '.yaml']).map((path) => path.split('/').pop()));
    expect(generatorFiles('grafana-dashboards')).toEqual(filesIn('deploy/grafana/dashboards', ['.json']).map((path) => path.split('/').pop()));
    const services = new Map(objects.filter((object) => object.kind === 'Service').map((service) => [service.metadata.name, (service.spec as { ports: { port: number }[] }).ports.map((port) => port.port)]));
    const resolves = (target: string): boolean => {
      const [host, port] = target.split(':') as [string, string];
      return services.get(host)?.includes(Number(port)) === true;
    };

    const prometheusPod = podTemplate(named(objects, 'StatefulSet', 'prometheus'))!.spec;
    const prometheus = prometheusPod.containers[0]!;
    // the server flags deploy/prometheus/prometheus.args lists, the 30-day retention among them
    const flags = readFileSync(join(REPO, 'deploy/prometheus/prometheus.args'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    expect(prometheus.args).toEqual(flags);
    expect(flags).toContain('--storage.tsdb.retention.time=30d');
    const prometheusYml = parseYaml((generatedNamed(objects, 'ConfigMap', 'prometheus-config').data as Record<string, string>)['prometheus.yml']!) as {
      rule_files?: string[];
      alerting?: { alertmanagers?: { static_configs?: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
    };
    const scrapeTargets = prometheusYml.scrape_configs.flatMap((job) => (job.static_configs ?? []).flatMap((group) => group.targets));
    expect(scrapeTargets.filter((target) => !/^(localhost|127\.0\.0\.1):/.test(target)).filter((target) => !resolves(target)), 'scrape targets without a Service').toEqual([]);
    expect(scrapeTargets.some((target) => target.startsWith('troupe:'))).toBe(true);
    const alertmanagers = (prometheusYml.alerting?.alertmanagers ?? []).flatMap((entry) => (entry.static_configs ?? []).flatMap((group) => group.targets));
    expect(alertmanagers.length).toBeGreaterThan(0);
    for (const target of alertmanagers) expect(resolves(target), `alertmanager target ${target}`).toBe(true);
    // every credentials file prometheus.yml names (relative to its directory) is a mounted Secret key
    const prometheusMounts = prometheus.volumeMounts as { name: string; mountPath: string }[];
    const credentialFiles = [...(generatedNamed(objects, 'ConfigMap', 'prometheus-config').data as Record<string, string>)['prometheus.yml']!.matchAll(/credentials_file:\s*(\S+)/g)].map((match) => join('/etc/prometheus', match[1]!));
    for (const file of credentialFiles) {
      const mount = prometheusMounts.find((entry) => file.startsWith(`${entry.mountPath}/`));
      const volume = prometheusPod.volumes?.find((entry) => entry.name === mount?.name) as { secret?: { secretName: string; items?: { key: string; path: string }[] } } | undefined;
      expect(volume?.secret, `${file} comes from a Secret`).toBeDefined();
      const path = file.slice(mount!.mountPath.length + 1);
      const item = volume!.secret!.items?.find((entry) => entry.path === path);
      const key = item?.key ?? path;
      expect(Object.keys(objects.find((object) => object.kind === 'Secret' && object.metadata.name === volume!.secret!.secretName)!.data as object), file).toContain(key);
      // it is the token Troupe checks
      const troupe = podTemplate(named(objects, 'StatefulSet', 'troupe'))!.spec.containers[0]!;
      expect(troupe.env?.find((variable) => variable.name === 'TROUPE_METRICS_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: volume!.secret!.secretName, key });
    }
    const ruleMount = prometheusMounts.find((mount) => mount.name === 'rules')!.mountPath;
    for (const pattern of prometheusYml.rule_files ?? []) expect(join('/etc/prometheus', pattern).startsWith(`${ruleMount}/`), `rule_files ${pattern} under ${ruleMount}`).toBe(true);

    // every *_file of alertmanager.yml is a key of the mounted Secret
    const alertmanager = podTemplate(named(objects, 'StatefulSet', 'alertmanager'))!.spec;
    const alertmanagerYml = (generatedNamed(objects, 'ConfigMap', 'alertmanager-config').data as Record<string, string>)['alertmanager.yml']!;
    const secretMount = (alertmanager.containers[0]!.volumeMounts as { name: string; mountPath: string }[]).find((mount) => mount.name === 'secrets')!.mountPath;
    const secretKeys = Object.keys(generatedNamed(objects, 'Secret', 'alertmanager-secrets').data as object);
    const files = [...alertmanagerYml.matchAll(/_file:\s*(\S+)/g)].map((match) => match[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(secretKeys.map((key) => `${secretMount}/${key}`), `alertmanager.yml reads ${file}`).toContain(file);

    // Grafana: the datasource's URL resolves, the dashboards are mounted where the provider reads them
    const grafana = podTemplate(named(objects, 'Deployment', 'grafana'))!.spec.containers[0]!;
    const mounts = grafana.volumeMounts as { name: string; mountPath: string }[];
    const datasources = parseYaml((generatedNamed(objects, 'ConfigMap', 'grafana-datasources').data as Record<string, string>)['prometheus.yml']!) as { datasources: { url: string }[] };
    for (const source of datasources.datasources) expect(resolves(new URL(source.url).host), source.url).toBe(true);
    const providers = parseYaml((generatedNamed(objects, 'ConfigMap', 'grafana-dashboard-providers').data as Record<string, string>)['troupe.yml']!) as { providers: { options: { path: string } }[] };
    for (const provider of providers.providers) expect(mounts.find((mount) => mount.mountPath === provider.options.path)?.name).toBe('dashboards');
  });
});

describe('deploy/k8s: the renderer and the probes', () => {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('Troupe\'s probe paths answer 200 on a real gateway', async () => {
    const troupe = podTemplate(named(render('prod'), 'StatefulSet', 'troupe'))!.spec.containers[0]!;
    const paths = ['startupProbe', 'livenessProbe', 'readinessProbe'].map((probe) => (troupe[probe] as { httpGet: { path: string } }).httpGet.path);
    expect(new Set(paths)).toEqual(new Set(['/api/v1/health/live', '/api/v1/health/ready']));
    for (const path of paths) expect((await harness!.app.inject({ url: path })).statusCode, path).toBe(200);
  });

  it('renames references to generated ConfigMaps and Secrets, and changes the suffix when the content changes', () => {
    const objects = render('dev');
    const config = objects.find((object) => object.kind === 'ConfigMap' && baseName(object.metadata.name) === 'troupe-config')!;
    expect(config.metadata.name).toMatch(/^troupe-config-[0-9a-f]{10}$/);
    const troupe = podTemplate(named(objects, 'StatefulSet', 'troupe'))!.spec.containers[0]!;
    expect(troupe.envFrom?.[0]?.configMapRef?.name).toBe(config.metadata.name);
    // two renders: fresh random secrets, so the Secret's suffix differs and the ConfigMap's does not
    const again = render('dev');
    const secretName = (list: K8sObject[]): string => list.find((object) => object.kind === 'Secret' && baseName(object.metadata.name) === 'troupe-secrets')!.metadata.name;
    expect(secretName(again)).not.toBe(secretName(objects));
    expect(again.find((object) => object.kind === 'ConfigMap' && baseName(object.metadata.name) === 'troupe-config')!.metadata.name).toBe(config.metadata.name);
  });

  it('deploy/k8s/make-secrets.sh writes Secrets\' sources the overlay renders with and Troupe\'s configuration accepts', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'troupe-secrets-'));
    try {
      const overlay = join(REPO, 'deploy/k8s/overlays/prod');
      cpSync(join(overlay, 'secrets'), join(scratch, 'secrets'), { recursive: true });
      const output = execFileSync(join(REPO, 'deploy/k8s/make-secrets.sh'), [scratch], { encoding: 'utf8' });
      expect(output).toMatch(/wrote .*troupe\.env/);
      // run again: nothing is overwritten
      expect(execFileSync(join(REPO, 'deploy/k8s/make-secrets.sh'), [scratch], { encoding: 'utf8' })).not.toMatch(/wrote/);
      const secretsDir = join(overlay, 'secrets');
      const objects = renderKustomization(overlay, (path) => readFileSync(path.startsWith(`${secretsDir}/`) ? join(scratch, 'secrets', path.slice(secretsDir.length + 1)) : path, 'utf8'));
      const secret = (name: string): Record<string, string> => {
        const found = objects.find((object) => object.kind === 'Secret' && baseName(object.metadata.name) === name)!;
        return Object.fromEntries(Object.entries(found.data as Record<string, string>).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
      };
      const troupe = secret('troupe-secrets');
      expect(Object.keys(troupe).sort()).toEqual(['ADMIN_PASSWORD', 'TROUPE_JWT_SECRET', 'TROUPE_METRICS_TOKEN', 'TROUPE_SECRET_KEY']);
      for (const value of [...Object.values(troupe), ...Object.values(secret('postgres-secrets')), ...Object.values(secret('redis-secrets'))]) expect(value).toMatch(/^[0-9a-f]{64}$/);
      expect(() => loadConfig({ ...troupe, DATABASE_URL: `postgresql://troupe:${secret('postgres-secrets').POSTGRES_PASSWORD}@postgres-primary:5432/troupe` })).not.toThrow();
      expect(secret('alertmanager-secrets')).toEqual({ 'pagerduty-routing-key': 'not-configured', 'slack-webhook-url': 'not-configured', 'smtp-password': 'not-configured' });
      expect(() => execFileSync(join(REPO, 'deploy/k8s/make-secrets.sh'), [], { stdio: 'pipe' })).toThrow(/give the overlay directory/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('refuses what it does not support and what kustomize would refuse', () => {
    const base = join(REPO, 'deploy/k8s/base');
    const withKustomization = (text: string) => (path: string): string => (path === join(base, 'kustomization.yaml') ? text : readWithSecrets(path));
    const original = readFileSync(join(base, 'kustomization.yaml'), 'utf8');
    expect(() => renderKustomization(base, withKustomization(`${original}\ncommonAnnotations:\n  a: b\n`))).toThrow(/"commonAnnotations" is not supported/);
    expect(() => renderKustomization(base, withKustomization(original.replace('      - nats/nats.conf', '      - ../../../package.json')))).toThrow(/outside the kustomization's directory/);
    expect(() => renderKustomization(base, withKustomization(original.replace('  - ../../grafana\n', '  - ../..\n')))).toThrow(/cycle detected/);
    expect(() => renderKustomization(base, withKustomization(`${original}\npatches:\n  - target: {kind: StatefulSet, name: troupe}\n    patch: |-\n      spec:\n        replicas: 2\n`))).toThrow(/only JSON 6902/);
    expect(() => renderKustomization(base, withKustomization(`${original}\npatches:\n  - target: {kind: StatefulSet, name: nobody}\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 2\n`))).toThrow(/matches nothing/);
  });
});
