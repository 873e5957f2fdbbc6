/**
 * A small kustomize renderer for the subset deploy/k8s uses, so the tests can render the tree
 * without kubectl or kustomize (neither is installed, and nothing may reach a cluster).
 *
 * Supported, as kustomize does them: `resources` (YAML files under the kustomization's directory,
 * or directories holding a kustomization, anywhere), `namespace`, `labels` (pairs, with
 * `includeTemplates`; `includeSelectors` must stay false), `images` (newName, newTag, digest),
 * `replicas`, `configMapGenerator` and `secretGenerator` (files, literals, envs; a content-hash
 * name suffix, and every reference in a pod spec renamed to it), `patches` given as JSON 6902
 * operations (add, replace, remove) with a kind and name target. Kustomize's load restrictor is
 * enforced: a generator's or a resource file's path may not leave the kustomization's directory,
 * and a directory resource may not contain a kustomization already being built (its cycle check).
 * Anything else (another field, a strategic-merge patch, a generator behaviour) throws, so the
 * tree cannot drift into kustomize features this renderer would silently misread.
 *
 * Differences kept on purpose: the hash suffix is a SHA-256 prefix, not kustomize's exact
 * encoding (same role: it changes when the content does); transformers run in one fixed order
 * (patches, namespace, labels, images, replicas), which gives kustomize's result for this tree.
 */

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/** A Kubernetes object as rendered (plain JSON data). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

/** Reads a file by absolute path; the tests pass one that supplies files git does not hold (Secrets' sources). */
export type FileReader = (path: string) => string;

export const readFromDisk: FileReader = (path) => readFileSync(path, 'utf8');

interface Rendered {
  readonly objects: K8sObject[];
  /** Generated ConfigMaps and Secrets: "Kind/original-name" to the suffixed name. */
  readonly generated: Map<string, string>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'replicas', 'configMapGenerator', 'secretGenerator', 'patches']);
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass', 'CustomResourceDefinition', 'PriorityClass']);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(dir: string, message: string): never {
  throw new Error(`kustomize ${dir}: ${message}`);
}

/** Renders the kustomization in `dir` (as `kubectl kustomize dir` would for this subset). */
export function renderKustomization(dir: string, read: FileReader = readFromDisk): K8sObject[] {
  const rendered = renderDir(resolve(dir), read, []);
  renameReferences(rendered.objects, rendered.generated);
  return rendered.objects;
}

function inside(dir: string, path: string, what: string): string {
  const absolute = resolve(dir, path);
  const rel = relative(dir, absolute);
  if (rel.startsWith('..') || resolve(rel) === rel) fail(dir, `${what} ${path} is outside the kustomization's directory (kustomize's load restrictor refuses it)`);
  return absolute;
}

function renderDir(dir: string, read: FileReader, stack: readonly string[]): Rendered {
  if (stack.includes(dir)) fail(dir, `cycle through ${stack.join(' -> ')}`);
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((name) => join(dir, name)).find((path) => existsSync(path));
  if (file === undefined) fail(dir, 'no kustomization.yaml');
  const k: unknown = parseYaml(read(file));
  if (!isRecord(k)) fail(dir, 'kustomization.yaml is not a map');
  for (const key of Object.keys(k)) if (!KNOWN_FIELDS.has(key)) fail(dir, `field "${key}" is not supported by this renderer`);
  if (k.kind !== 'Kustomization' || k.apiVersion !== 'kustomize.config.k8s.io/v1beta1') fail(dir, 'expected apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization');

  const objects: K8sObject[] = [];
  const generated = new Map<string, string>();
  for (const resource of asList(dir, k.resources, 'resources')) {
    if (typeof resource !== 'string') fail(dir, 'a resource must be a path');
    const target = resolve(dir, resource);
    if (!existsSync(target)) fail(dir, `resource ${resource} does not exist`);
    if (statSync(target).isDirectory()) {
      // kustomize refuses a directory that contains one it is already in ("cycle detected")
      const ancestor = [...stack, dir].find((visited) => visited === target || visited.startsWith(`${target}/`));
      if (ancestor !== undefined) fail(dir, `resource ${resource} contains ${ancestor}, which is being built (kustomize: cycle detected)`);
      const child = renderDir(target, read, [...stack, dir]);
      objects.push(...child.objects);
      for (const [key, value] of child.generated) generated.set(key, value);
    } else {
      objects.push(...loadObjects(inside(dir, resource, 'resource'), read));
    }
  }
  for (const [kind, field] of [['ConfigMap', 'configMapGenerator'], ['Secret', 'secretGenerator']] as const) {
    for (const spec of asList(dir, k[field], field)) {
      const object = generate(dir, kind, spec, read);
      generated.set(`${kind}/${object.metadata.name}`, `${object.metadata.name}-${contentHash(object)}`);
      objects.push(object);
    }
  }
  for (const patch of asList(dir, k.patches, 'patches')) applyPatch(dir, objects, patch, read);
  if (k.namespace !== undefined) {
    if (typeof k.namespace !== 'string') fail(dir, 'namespace must be a string');
    for (const object of objects) if (!CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = k.namespace;
  }
  for (const label of asList(dir, k.labels, 'labels')) applyLabels(dir, objects, label);
  for (const image of asList(dir, k.images, 'images')) applyImage(dir, objects, image);
  for (const replica of asList(dir, k.replicas, 'replicas')) applyReplicas(dir, objects, replica);

  const seen = new Set<string>();
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (seen.has(id)) fail(dir, `two objects are ${id}`);
    seen.add(id);
  }
  return { objects, generated };
}

function asList(dir: string, value: unknown, field: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(dir, `${field} must be a list`);
  return value;
}

function loadObjects(path: string, read: FileReader): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(read(path))) {
    if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (!isRecord(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string' || !isRecord(value.metadata) || typeof value.metadata.name !== 'string') {
      throw new Error(`${path}: a document without apiVersion, kind and metadata.name`);
    }
    objects.push(value as K8sObject);
  }
  return objects;
}

const KEY = /^[-._a-zA-Z0-9]+$/;

function generate(dir: string, kind: 'ConfigMap' | 'Secret', spec: unknown, read: FileReader): K8sObject {
  if (!isRecord(spec) || typeof spec.name !== 'string') fail(dir, `a ${kind} generator needs a name`);
  for (const key of Object.keys(spec)) if (!['name', 'files', 'literals', 'envs', ...(kind === 'Secret' ? ['type'] : [])].includes(key)) fail(dir, `generator ${spec.name}: "${key}" is not supported`);
  const data: Record<string, string> = {};
  const put = (key: string, value: string, from: string): void => {
    if (!KEY.test(key)) fail(dir, `generator ${spec.name as string}: key "${key}" (from ${from}) is not a valid ConfigMap/Secret key`);
    if (key in data) fail(dir, `generator ${spec.name as string}: key "${key}" twice`);
    data[key] = value;
  };
  for (const entry of asList(dir, spec.files, 'files')) {
    if (typeof entry !== 'string') fail(dir, 'files entries are strings');
    const [key, path] = entry.includes('=') ? [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] : [basename(entry), entry];
    put(key, read(inside(dir, path, 'generator file')), path);
  }
  for (const entry of asList(dir, spec.literals, 'literals')) {
    if (typeof entry !== 'string' || !entry.includes('=')) fail(dir, `literal ${String(entry)} is not KEY=VALUE`);
    put(entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1), 'literals');
  }
  for (const entry of asList(dir, spec.envs, 'envs')) {
    if (typeof entry !== 'string') fail(dir, 'envs entries are paths');
    for (const [index, line] of read(inside(dir, entry, 'env file')).split('\n').entries()) {
      const text = line.trim();
      if (text === '' || text.startsWith('#')) continue;
      if (!text.includes('=')) fail(dir, `${entry}:${index + 1} is not KEY=VALUE`);
      put(text.slice(0, text.indexOf('=')), text.slice(text.indexOf('=') + 1), entry);
    }
  }
  const metadata = { name: spec.name };
  if (kind === 'ConfigMap') return { apiVersion: 'v1', kind, metadata, data };
  const encoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value, 'utf8').toString('base64')]));
  return { apiVersion: 'v1', kind, metadata, type: typeof spec.type === 'string' ? spec.type : 'Opaque', data: encoded };
}

function contentHash(object: K8sObject): string {
  return createHash('sha256').update(JSON.stringify({ kind: object.kind, name: object.metadata.name, type: object.type, data: object.data })).digest('hex').slice(0, 10);
}

function applyLabels(dir: string, objects: K8sObject[], spec: unknown): void {
  if (!isRecord(spec) || !isRecord(spec.pairs)) fail(dir, 'labels entries need pairs');
  for (const key of Object.keys(spec)) if (!['pairs', 'includeSelectors', 'includeTemplates'].includes(key)) fail(dir, `labels: "${key}" is not supported`);
  if (spec.includeSelectors === true) fail(dir, 'labels with includeSelectors: true are not supported (selectors are immutable)');
  const pairs = spec.pairs as Record<string, string>;
  for (const object of objects) {
    object.metadata.labels = { ...object.metadata.labels, ...pairs };
    const template = podTemplate(object);
    if (spec.includeTemplates === true && template !== undefined) {
      const metadata = (template.metadata ??= {}) as { labels?: Record<string, string> };
      metadata.labels = { ...metadata.labels, ...pairs };
    }
  }
}

/** The pod template of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job). */
export function podTemplate(object: K8sObject): { metadata?: Record<string, unknown>; spec: PodSpec } | undefined {
  if (!['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(object.kind)) return undefined;
  const spec = object.spec as { template?: { metadata?: Record<string, unknown>; spec: PodSpec } } | undefined;
  return spec?.template;
}

export interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string; optional?: boolean }; secretKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: unknown } }[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }[];
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string }; projected?: { sources: { configMap?: { name: string }; secret?: { name: string } }[] }; [key: string]: unknown }[];
  [key: string]: unknown;
}

function applyImage(dir: string, objects: K8sObject[], spec: unknown): void {
  if (!isRecord(spec) || typeof spec.name !== 'string') fail(dir, 'images entries need a name');
  for (const key of Object.keys(spec)) if (!['name', 'newName', 'newTag', 'digest'].includes(key)) fail(dir, `images: "${key}" is not supported`);
  for (const object of objects) {
    const template = podTemplate(object);
    for (const container of [...(template?.spec.containers ?? []), ...(template?.spec.initContainers ?? [])]) {
      const image = parseImage(container.image);
      if (image.name !== spec.name) continue;
      const name = typeof spec.newName === 'string' ? spec.newName : image.name;
      if (typeof spec.digest === 'string') container.image = `${name}@${spec.digest}`;
      else {
        const tag = typeof spec.newTag === 'string' ? spec.newTag : image.tag;
        container.image = `${name}${tag === undefined ? '' : `:${tag}`}${image.digest === undefined ? '' : `@${image.digest}`}`;
      }
    }
  }
}

/** Splits "registry:5000/name:tag@sha256:…" into name, tag and digest. */
export function parseImage(image: string): { name: string; tag: string | undefined; digest: string | undefined } {
  const [reference, digest] = image.split('@') as [string, string | undefined];
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  return colon > slash ? { name: reference.slice(0, colon), tag: reference.slice(colon + 1), digest } : { name: reference, tag: undefined, digest };
}

function applyReplicas(dir: string, objects: K8sObject[], spec: unknown): void {
  if (!isRecord(spec) || typeof spec.name !== 'string' || typeof spec.count !== 'number') fail(dir, 'replicas entries need name and count');
  const targets = objects.filter((object) => ['Deployment', 'StatefulSet', 'ReplicaSet'].includes(object.kind) && object.metadata.name === spec.name);
  if (targets.length === 0) fail(dir, `replicas: no workload named ${spec.name}`);
  for (const object of targets) (object.spec as { replicas?: number }).replicas = spec.count;
}

function applyPatch(dir: string, objects: K8sObject[], spec: unknown, read: FileReader): void {
  if (!isRecord(spec) || !isRecord(spec.target)) fail(dir, 'patches need a target (kind, name)');
  for (const key of Object.keys(spec.target)) if (!['kind', 'name'].includes(key)) fail(dir, `patch target: "${key}" is not supported`);
  const text = typeof spec.patch === 'string' ? spec.patch : typeof spec.path === 'string' ? read(inside(dir, spec.path, 'patch')) : fail(dir, 'a patch needs patch or path');
  const operations: unknown = parseYaml(text);
  if (!Array.isArray(operations)) fail(dir, 'only JSON 6902 patches (a list of operations) are supported, not strategic-merge patches');
  const { kind, name } = spec.target;
  const targets = objects.filter((object) => (kind === undefined || object.kind === kind) && (name === undefined || object.metadata.name === name));
  if (targets.length === 0) fail(dir, `patch target ${String(kind)}/${String(name)} matches nothing`);
  for (const object of targets) for (const operation of operations) applyOperation(dir, object as unknown as Json, operation);
}

function applyOperation(dir: string, root: Json, operation: unknown): void {
  if (!isRecord(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') fail(dir, 'a patch operation needs op and path');
  const { op, path } = operation;
  if (!['add', 'replace', 'remove'].includes(op)) fail(dir, `patch op ${op} is not supported`);
  const segments = path.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = segments.pop();
  if (last === undefined) fail(dir, `patch path ${path} is empty`);
  let parent: Json = root;
  for (const segment of segments) {
    const next: Json | undefined = Array.isArray(parent) ? parent[Number(segment)] : isRecord(parent) ? parent[segment] : undefined;
    if (next === undefined) fail(dir, `patch path ${path}: ${segment} does not exist`);
    parent = next;
  }
  const value = operation.value as Json;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length || (op !== 'add' && index === parent.length)) fail(dir, `patch path ${path}: no index ${last}`);
    if (op === 'add') parent.splice(index, 0, value);
    else if (op === 'replace') parent[index] = value;
    else parent.splice(index, 1);
  } else if (isRecord(parent)) {
    if (op !== 'add' && !(last in parent)) fail(dir, `patch path ${path} does not exist (${op} needs it)`);
    if (op === 'remove') delete parent[last];
    else parent[last] = value;
  } else fail(dir, `patch path ${path}: parent is not a map or list`);
}

/** Renames every reference to a generated ConfigMap or Secret in a pod spec to its suffixed name. */
function renameReferences(objects: K8sObject[], generated: Map<string, string>): void {
  const rename = (kind: 'ConfigMap' | 'Secret', name: string): string => generated.get(`${kind}/${name}`) ?? name;
  for (const object of objects) {
    if ((object.kind === 'ConfigMap' || object.kind === 'Secret') && generated.has(`${object.kind}/${object.metadata.name}`)) {
      object.metadata.name = rename(object.kind, object.metadata.name);
    }
  }
  for (const object of objects) {
    const spec = podTemplate(object)?.spec;
    if (spec === undefined) continue;
    for (const volume of spec.volumes ?? []) {
      if (volume.configMap) volume.configMap.name = rename('ConfigMap', volume.configMap.name);
      if (volume.secret) volume.secret.secretName = rename('Secret', volume.secret.secretName);
      for (const source of volume.projected?.sources ?? []) {
        if (source.configMap) source.configMap.name = rename('ConfigMap', source.configMap.name);
        if (source.secret) source.secret.name = rename('Secret', source.secret.name);
      }
    }
    for (const container of [...spec.containers, ...(spec.initContainers ?? [])]) {
      for (const variable of container.env ?? []) {
        const from = variable.valueFrom;
        if (from?.configMapKeyRef) from.configMapKeyRef.name = rename('ConfigMap', from.configMapKeyRef.name);
        if (from?.secretKeyRef) from.secretKeyRef.name = rename('Secret', from.secretKeyRef.name);
      }
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) source.configMapRef.name = rename('ConfigMap', source.configMapRef.name);
        if (source.secretRef) source.secretRef.name = rename('Secret', source.secretRef.name);
      }
    }
  }
}

/** The directory of a file URL (for tests that locate the repository). */
export const directoryOf = (url: string): string => dirname(new URL(url).pathname);
