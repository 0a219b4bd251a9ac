import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * Renders a kustomization the way `kubectl apply -k` would, for the subset deploy/kubernetes
 * uses (no kustomize binary installs here: not in Debian's packages, not on npm):
 * `resources` (files and directories), `namespace`, `labels[]` (`pairs` on every object's
 * metadata and, with `includeTemplates: true`, on its pod template too; never on selectors),
 * `images` (`name`, `newName`, `newTag`), and `patches[].path` — strategic-merge patches
 * matched by kind and name, where maps merge, lists of objects merge by `name` (containers,
 * env, volumes: the merge key Kubernetes uses for them), and other lists are replaced.
 * Anything else in a kustomization is refused (`commonLabels`, `includeSelectors`, inline or
 * JSON 6902 patches, `$patch` directives…), so the manifests cannot use a feature this
 * renderer would silently ignore or render differently from kustomize.
 */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  labels?: Array<{ pairs: Record<string, string>; includeTemplates?: boolean }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  patches?: Array<{ path: string }>;
}

const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images', 'patches']);
const KNOWN_LABEL_FIELDS = new Set(['pairs', 'includeTemplates']);
const KNOWN_IMAGE_FIELDS = new Set(['name', 'newName', 'newTag']);
const KNOWN_PATCH_FIELDS = new Set(['path']);

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function readObjects(file: string): K8sObject[] {
  return parseAllDocuments(readFileSync(file, 'utf8'))
    .map((document) => document.toJS() as unknown)
    .filter((object): object is K8sObject => isMap(object));
}

/** Strategic merge, as far as these manifests need it. */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (isMap(patch) && Object.keys(patch).some((key) => key.startsWith('$'))) throw new Error(`kustomize-lite does not render strategic-merge directives: ${Object.keys(patch).join(', ')}`);
  if (isMap(target) && isMap(patch)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) merged[key] = key in target ? strategicMerge(target[key], value) : value;
    return merged;
  }
  if (Array.isArray(target) && Array.isArray(patch) && patch.every((item) => isMap(item) && typeof item['name'] === 'string')) {
    const merged = target.map((item) => {
      const match = isMap(item) ? patch.find((candidate) => (candidate as Record<string, unknown>)['name'] === item['name']) : undefined;
      return match ? strategicMerge(item, match) : item;
    });
    for (const item of patch) if (!target.some((existing) => isMap(existing) && existing['name'] === (item as Record<string, unknown>)['name'])) merged.push(item);
    return merged;
  }
  return patch;
}

/** Splits `registry:5000/repo/name:tag@digest` into its name and what follows it (`:tag`, `@digest` or nothing). */
function splitImage(image: string): { name: string; suffix: string } {
  const at = image.indexOf('@');
  const beforeDigest = at < 0 ? image : image.slice(0, at);
  const colon = beforeDigest.lastIndexOf(':');
  const tagged = colon > beforeDigest.lastIndexOf('/');
  const name = tagged ? beforeDigest.slice(0, colon) : beforeDigest;
  return { name, suffix: image.slice(name.length) };
}

function withImages(object: unknown, images: NonNullable<Kustomization['images']>): unknown {
  if (Array.isArray(object)) return object.map((item) => withImages(item, images));
  if (!isMap(object)) return object;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'image' && typeof value === 'string') {
      const { name, suffix } = splitImage(value);
      const image = images.find((candidate) => candidate.name === name);
      result[key] = image ? `${image.newName ?? name}${image.newTag === undefined ? suffix : `:${image.newTag}`}` : value;
    } else {
      result[key] = withImages(value, images);
    }
  }
  return result;
}

function withLabels(object: K8sObject, pairs: Record<string, string>, includeTemplates: boolean): K8sObject {
  const labelled: K8sObject = { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...pairs } } };
  const spec = labelled['spec'];
  const template = isMap(spec) ? spec['template'] : undefined;
  if (includeTemplates && isMap(spec) && isMap(template)) {
    const metadata = isMap(template['metadata']) ? template['metadata'] : {};
    const labels = isMap(metadata['labels']) ? metadata['labels'] : {};
    labelled['spec'] = { ...spec, template: { ...template, metadata: { ...metadata, labels: { ...labels, ...pairs } } } };
  }
  return labelled;
}

/** The objects `kubectl kustomize <directory>` would print, in order. */
export function renderKustomization(directory: string): K8sObject[] {
  const file = join(directory, 'kustomization.yaml');
  const kustomization = readObjects(file)[0] as unknown as Kustomization;
  const unknown = Object.keys(kustomization).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0) throw new Error(`${file}: kustomize-lite does not render ${unknown.join(', ')}`);
  const refuse = (field: string, entries: object[] | undefined, known: Set<string>): void => {
    const extra = (entries ?? []).flatMap((entry) => Object.keys(entry).filter((key) => !known.has(key)));
    if (extra.length > 0) throw new Error(`${file}: kustomize-lite does not render ${field}[].${extra.join(`, ${field}[].`)}`);
  };
  refuse('labels', kustomization.labels, KNOWN_LABEL_FIELDS);
  refuse('images', kustomization.images, KNOWN_IMAGE_FIELDS);
  refuse('patches', kustomization.patches, KNOWN_PATCH_FIELDS);

  let objects = (kustomization.resources ?? []).flatMap((resource) => {
    const path = join(directory, resource);
    if (!existsSync(path)) throw new Error(`${file}: resource ${resource} does not exist`);
    return statSync(path).isDirectory() ? renderKustomization(path) : readObjects(path);
  });
  for (const { path } of kustomization.patches ?? []) {
    for (const patch of readObjects(join(dirname(file), path))) {
      const index = objects.findIndex((object) => object.kind === patch.kind && object.metadata.name === patch.metadata.name);
      if (index < 0) throw new Error(`${path}: patches ${patch.kind} ${patch.metadata.name}, which no resource defines`);
      objects[index] = strategicMerge(objects[index], patch) as K8sObject;
    }
  }
  for (const { pairs, includeTemplates } of kustomization.labels ?? []) objects = objects.map((object) => withLabels(object, pairs, includeTemplates === true));
  if (kustomization.images) objects = objects.map((object) => withImages(object, kustomization.images ?? []) as K8sObject);
  if (kustomization.namespace) objects = objects.map((object) => ({ ...object, metadata: { ...object.metadata, namespace: kustomization.namespace } }));
  return objects;
}
