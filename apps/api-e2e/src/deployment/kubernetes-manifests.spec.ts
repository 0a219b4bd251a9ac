import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { TASK_TYPE_NAMES } from '@taskq/contracts';
import { WORKSPACE_ROOT } from '@taskq/testing';
import { renderKustomization, strategicMerge, type K8sObject } from './kustomize-lite';

/**
 * deploy/kubernetes: both overlays render, every object passes the Kubernetes and KEDA
 * schemas (kubernetes-models, offline), and the manifests agree with the code: env names,
 * ports, probe paths, images, the queue-depth metric and the worker groups are read from the
 * sources, so a rename on either side fails here.
 */
const source = (path: string): string => readFileSync(join(WORKSPACE_ROOT, path), 'utf8');
const OVERLAYS = ['development', 'production'];
const render = (overlay: string): K8sObject[] => renderKustomization(join(WORKSPACE_ROOT, 'deploy/kubernetes/overlays', overlay));

interface Container {
  name: string;
  image: string;
  command?: string[];
  ports?: Array<{ name: string; containerPort: number }>;
  env?: Array<{ name: string; value?: string }>;
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
}
const podOf = (object: K8sObject): { containers: Container[] } =>
  ((object['spec'] as { template?: { spec: { containers: Container[] } } }).template?.spec ?? { containers: [] });
const envOf = (container: Container, name: string): string | undefined => container.env?.find((variable) => variable.name === name)?.value;

/** Every variable the config classes read (`@Env('NAME')`), each also as NAME_FILE. */
const CONFIG_ENV = new Set(
  readdirSync(join(WORKSPACE_ROOT, 'libs/config/src'))
    .filter((file) => file.endsWith('.ts') && !file.includes('spec'))
    .flatMap((file) => [...source(`libs/config/src/${file}`).matchAll(/@Env\('([A-Z0-9_]+)'\)/g)].map((match) => match[1] as string))
    .flatMap((name) => [name, `${name}_FILE`]),
);
const defaultOf = (file: string, field: string): number => Number(new RegExp(`\\b${field} = (\\d+);`).exec(source(file))?.[1]);
/** The port each app listens on by default, where its probes are answered. */
const LISTENS: Record<string, { port: number; env: string; paths: string[] }> = {
  api: {
    port: defaultOf('libs/config/src/api-config.ts', 'port'),
    env: 'PORT',
    // The health controller's routes: its prefix and each @Get.
    paths: (() => {
      const controller = source('apps/api/src/health/health.controller.ts');
      const prefix = /@Controller\('([^']+)'\)/.exec(controller)?.[1];
      return [...controller.matchAll(/@Get\((?:'([^']*)')?\)/g)].map((match) => `/${prefix}${match[1] ? `/${match[1]}` : ''}`);
    })(),
  },
  worker: { port: defaultOf('libs/config/src/worker-config.ts', 'metricsPort'), env: 'METRICS_PORT', paths: listenerPaths() },
  monitor: { port: defaultOf('libs/config/src/monitor-config.ts', 'metricsPort'), env: 'METRICS_PORT', paths: listenerPaths() },
};
function listenerPaths(): string[] {
  return [...source('libs/observability/src/metrics-listener.ts').matchAll(/path === '(\/[a-z]+)'/g)].map((match) => match[1] as string);
}
const appOfImage = (image: string): string => /taskq\/(api|worker|monitor)(:|$)/.exec(image)?.[1] ?? `unknown image ${image}`;

const SCHEMAS: Record<string, (object: K8sObject) => { validate(): void }> = {
  Deployment: (object) => new Deployment(object as never),
  Service: (object) => new Service(object as never),
  PodDisruptionBudget: (object) => new PodDisruptionBudget(object as never),
  HorizontalPodAutoscaler: (object) => new HorizontalPodAutoscaler(object as never),
  Job: (object) => new Job(object as never),
  ConfigMap: (object) => new ConfigMap(object as never),
  Secret: (object) => new Secret(object as never),
  ScaledObject: (object) => new ScaledObject(object as never),
};

describe.each(OVERLAYS)('deploy/kubernetes/overlays/%s', (overlay) => {
  const objects = render(overlay);
  const deployments = objects.filter((object) => object.kind === 'Deployment');
  const containers = objects.flatMap((object) => (object.kind === 'Deployment' || object.kind === 'Job' ? podOf(object).containers : []));

  it('renders every part: api, two worker groups with their ScaledObjects, the monitor, the migration Job', () => {
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/taskq-config',
        'Deployment/taskq-api',
        'Deployment/taskq-monitor',
        'Deployment/taskq-worker',
        'Deployment/taskq-worker-webhook',
        'HorizontalPodAutoscaler/taskq-api',
        'Job/taskq-migrate',
        'PodDisruptionBudget/taskq-api',
        'ScaledObject/taskq-worker',
        'ScaledObject/taskq-worker-webhook',
        'Secret/taskq-secrets',
        'Service/taskq-api',
      ].sort(),
    );
    for (const object of objects) expect(object.metadata.namespace).toBe(overlay === 'production' ? 'taskq' : 'taskq-dev');
  });

  it('passes the Kubernetes and KEDA schemas, object by object', () => {
    for (const object of objects) {
      const model = SCHEMAS[object.kind];
      expect({ kind: object.kind, known: model !== undefined }).toEqual({ kind: object.kind, known: true });
      expect(() => model?.(object).validate()).not.toThrow();
    }
  });

  it('sets only environment variables the config classes read', () => {
    const configMapKeys = objects.filter((object) => object.kind === 'ConfigMap' || object.kind === 'Secret').flatMap((object) => Object.keys((object['data'] ?? object['stringData'] ?? {}) as object));
    const names = [...containers.flatMap((container) => (container.env ?? []).map((variable) => variable.name)), ...configMapKeys];
    expect(names.filter((name) => !CONFIG_ENV.has(name))).toEqual([]);
  });

  it('runs the images the Dockerfiles build, and each app’s real entry point', () => {
    for (const container of containers) {
      const app = appOfImage(container.image);
      expect(existsSync(join(WORKSPACE_ROOT, `Dockerfile.${app}`))).toBe(true);
      expect(source('docker-compose.yml')).toContain(`dockerfile: Dockerfile.${app}`);
      const script = container.command?.find((part) => part.startsWith('dist/')) ?? /"(dist\/apps\/[^"]+\.js)"/.exec(source(`Dockerfile.${app}`))?.[1];
      expect(existsSync(join(WORKSPACE_ROOT, String(script).replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    }
  });

  it('opens the ports the apps listen on, and probes routes they serve', () => {
    for (const deployment of deployments) {
      for (const container of podOf(deployment).containers) {
        const listens = LISTENS[appOfImage(container.image)];
        expect(listens).toBeDefined();
        if (!listens) continue;
        const declared = Number(envOf(container, listens.env) ?? listens.port);
        expect(container.ports?.map((port) => port.containerPort)).toEqual([declared]);
        expect(declared).toBe(listens.port);
        for (const probe of [container.readinessProbe, container.livenessProbe]) {
          expect(listens.paths).toContain(probe?.httpGet.path);
          expect(container.ports?.map((port) => port.name)).toContain(probe?.httpGet.port);
        }
      }
    }
  });

  it('scales each worker group on the depth of exactly its own queues, and the groups cover every type', () => {
    const depthSource = source('libs/queue/src/queue-depth-collector.ts');
    const metrics = [...depthSource.matchAll(/name: '(taskq_[a-z_]+)'/g)].map((match) => match[1]);
    const states = /JOB_STATES[^=]*= \[([^\]]+)\]/.exec(depthSource)?.[1] ?? '';
    const served: string[] = [];
    for (const scaled of objects.filter((object) => object.kind === 'ScaledObject')) {
      const spec = scaled['spec'] as { scaleTargetRef: { name: string }; triggers: Array<{ type: string; metadata: { query: string } }> };
      const target = deployments.find((deployment) => deployment.metadata.name === spec.scaleTargetRef.name);
      expect(target).toBeDefined();
      const queues = (envOf(podOf(target as K8sObject).containers[0] as Container, 'WORKER_QUEUES') ?? '').split(',');
      served.push(...queues);
      // WORKER_CONCURRENCY (type=n,…) names only types this group serves.
      const concurrency = envOf(podOf(target as K8sObject).containers[0] as Container, 'WORKER_CONCURRENCY') ?? '';
      expect(concurrency.split(',').filter(Boolean).map((pair) => pair.split('=')[0]).filter((type) => !queues.includes(type as string))).toEqual([]);
      for (const { type, metadata } of spec.triggers) {
        expect(type).toBe('prometheus');
        for (const [metric] of metadata.query.matchAll(/taskq_[a-z_]+/g)) expect(metrics).toContain(metric);
        expect(/type=~"([^"]+)"/.exec(metadata.query)?.[1]?.split('|').sort()).toEqual([...queues].sort());
        for (const state of /state=~"([^"]+)"/.exec(metadata.query)?.[1]?.split('|') ?? ['none']) expect(states).toContain(`'${state}'`);
      }
    }
    expect(served.sort()).toEqual([...TASK_TYPE_NAMES].sort());
  });
});

describe('kustomize-lite', () => {
  it('merges maps, merges lists of named objects by name, and replaces other lists', () => {
    const base = { spec: { replicas: 1, containers: [{ name: 'api', image: 'a', args: ['x'] }, { name: 'side', image: 's' }] } };
    const patch = { spec: { replicas: 3, containers: [{ name: 'api', args: ['y'] }] } };
    expect(strategicMerge(base, patch)).toEqual({ spec: { replicas: 3, containers: [{ name: 'api', image: 'a', args: ['y'] }, { name: 'side', image: 's' }] } });
  });

  it('applies the namespace, labels, images and patches of an overlay', () => {
    const api = render('production').find((object) => object.kind === 'Deployment' && object.metadata.name === 'taskq-api') as K8sObject;
    expect(api.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'taskq' });
    expect(api['spec']).toMatchObject({ replicas: 3, template: { metadata: { labels: { 'app.kubernetes.io/part-of': 'taskq' } } } });
    const [container] = podOf(api).containers;
    expect(container?.image).toBe('registry.example.com/taskq/api:0.1.0');
    expect(container?.env?.map((variable) => variable.name)).toEqual(['HOST', 'PORT']);
  });

  describe('on a scratch kustomization', () => {
    let directory: string;
    const write = (files: Record<string, string>): void => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
    };
    const deployment = (image: string): string =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\nspec:\n  selector: { matchLabels: { app: d } }\n  template:\n    metadata: { labels: { app: d } }\n    spec: { containers: [{ name: c, image: "${image}" }] }\n`;
    beforeEach(() => {
      directory = mkdtempSync(join(tmpdir(), 'kustomize-lite-'));
    });
    afterEach(() => rmSync(directory, { recursive: true, force: true }));

    it('labels pod templates only with includeTemplates, and never selectors (as kustomize does)', () => {
      write({ 'd.yaml': deployment('x'), 'kustomization.yaml': 'resources: [d.yaml]\nlabels: [{ pairs: { team: t } }]\n' });
      const [plain] = renderKustomization(directory);
      expect(plain?.metadata.labels).toEqual({ team: 't' });
      const labelsOf = (object: K8sObject | undefined) => {
        const spec = object?.['spec'] as { selector: { matchLabels: object }; template: { metadata: { labels: object } } };
        return { selector: spec.selector.matchLabels, template: spec.template.metadata.labels };
      };
      expect(labelsOf(plain)).toEqual({ selector: { app: 'd' }, template: { app: 'd' } });
      write({ 'kustomization.yaml': 'resources: [d.yaml]\nlabels: [{ pairs: { team: t }, includeTemplates: true }]\n' });
      const [templated] = renderKustomization(directory);
      expect(labelsOf(templated)).toEqual({ selector: { app: 'd' }, template: { app: 'd', team: 't' } });
    });

    it.each([
      ['taskq/api', { name: 'taskq/api', newTag: '1.2' }, 'taskq/api:1.2'],
      ['taskq/api', { name: 'taskq/api', newName: 'r.example:5000/taskq/api' }, 'r.example:5000/taskq/api'],
      ['taskq/api:dev', { name: 'taskq/api', newName: 'r.example:5000/taskq/api' }, 'r.example:5000/taskq/api:dev'],
      ['r.example:5000/taskq/api', { name: 'r.example:5000/taskq/api', newTag: '2' }, 'r.example:5000/taskq/api:2'],
      ['taskq/api@sha256:abc', { name: 'taskq/api', newName: 'r/api' }, 'r/api@sha256:abc'],
      ['taskq/api-extra:1', { name: 'taskq/api', newTag: '2' }, 'taskq/api-extra:1'],
    ])('rewrites image %s with %j to %s', (image, rule, expected) => {
      write({ 'd.yaml': deployment(image), 'kustomization.yaml': `resources: [d.yaml]\nimages: [${JSON.stringify(rule)}]\n` });
      expect(podOf(renderKustomization(directory)[0] as K8sObject).containers[0]?.image).toBe(expected);
    });

    it.each([
      ['commonLabels: { a: b }', /does not render commonLabels/],
      ['labels: [{ pairs: { a: b }, includeSelectors: true }]', /does not render labels\[\]\.includeSelectors/],
      ['patches: [{ path: p.yaml, target: { kind: Deployment } }]', /does not render patches\[\]\.target/],
      ['images: [{ name: x, digest: "sha256:abc" }]', /does not render images\[\]\.digest/],
    ])('refuses what it does not implement: %s', (field, error) => {
      write({ 'd.yaml': deployment('x'), 'kustomization.yaml': `resources: [d.yaml]\n${field}\n` });
      expect(() => renderKustomization(directory)).toThrow(error);
    });

    it('refuses strategic-merge directives and patches of objects no resource defines', () => {
      write({ 'd.yaml': deployment('x'), 'p.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: d }\nspec: { $patch: replace, replicas: 2 }\n', 'kustomization.yaml': 'resources: [d.yaml]\npatches: [{ path: p.yaml }]\n' });
      expect(() => renderKustomization(directory)).toThrow(/strategic-merge directives/);
      write({ 'p.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: e }\nspec: { replicas: 2 }\n' });
      expect(() => renderKustomization(directory)).toThrow(/which no resource defines/);
    });
  });
});
