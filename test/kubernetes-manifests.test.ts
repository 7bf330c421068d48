// Keeps deploy/kubernetes honest without a cluster: every manifest validates against the
// Kubernetes API schemas (kubernetes-models, strictly: no unknown field), `kubectl kustomize`
// renders every kustomization and its output validates too, every grove command and flag in a
// container exists in the real CLI (its --help), and the properties docs/kubernetes.md promises
// hold: probes, graceful rollouts, non-root read-only containers, the admin port kept in the pod,
// the gateway discovering exactly the workers' headless Service.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  coreValidator,
  type K8sObject,
  parseDocs,
  parseYaml,
  validateObject,
  validateStrict,
} from './support/kubernetes-schemas.js';

const root = join(import.meta.dirname, '..');
const K8S = join(root, 'deploy', 'kubernetes');
const grove = join(root, 'dist', 'cli', 'grove.js');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const kustomizations = files(K8S).filter((f) => f.endsWith('kustomization.yaml'));
const kustomizationOf = (dir: string) =>
  parseYaml(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as {
    kind: string;
    resources?: string[];
    patches?: { path?: string }[];
  };
/** Files a kustomization lists as resources (whole objects; patches are partial by design). */
const resourceFiles = kustomizations.flatMap((k) => {
  const dir = join(k, '..');
  return (kustomizationOf(dir).resources ?? []).map((r) => join(dir, r)).filter((p) => p.endsWith('.yaml'));
});
const load = (f: string) => parseDocs(readFileSync(f, 'utf8'));
const base = resourceFiles.filter((f) => f.includes('/base/')).flatMap(load);
const byKind = (objs: K8sObject[], kind: string, name?: string) =>
  objs.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));

type Container = {
  name: string;
  image?: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
};
type PodSpec = {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
};
const podOf = (o: K8sObject) => (o.spec as { template: { spec: PodSpec } }).template.spec;
const deployment = (objs: K8sObject[], name: string) => byKind(objs, 'Deployment', name)[0]!;
const flag = (args: string[], name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
};

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const noKubectl = kubectl.status === 0 ? null : 'kubectl is not installed (Debian: apt-get install kubectl)';
if (noKubectl) process.stdout.write(`kubernetes manifests: skipping the kustomize renders: ${noKubectl}\n`);

const tmp: string[] = [];
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

function kustomize(dir: string): K8sObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${relative(root, dir)}: ${r.stderr}`);
  return parseDocs(r.stdout);
}

describe('deploy/kubernetes manifests', () => {
  it('every resource file validates against the Kubernetes schemas, with no unknown field', async () => {
    const problems: string[] = [];
    let checked = 0;
    for (const f of resourceFiles) {
      for (const o of load(f)) {
        if (o.apiVersion?.startsWith('serving.kserve.io/')) continue; // KServe's own test below
        checked++;
        for (const p of await validateObject(o)) problems.push(`${relative(root, f)}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(9);
  });

  it('the strict check catches a misspelt field and a wrong type', async () => {
    const d = structuredClone(deployment(base, 'grove-worker'));
    const c = podOf(d).containers[0]! as Container & { readinesProbe?: unknown };
    c.readinesProbe = c.readinessProbe;
    expect(await validateObject(d)).toEqual([
      'Deployment grove-worker: unknown field .spec.template.spec.containers[0].readinesProbe',
    ]);
    (c.ports![0] as { containerPort: unknown }).containerPort = '9000';
    expect((await validateObject(d))[0]).toMatch(/containerPort must be integer/);
  });

  it('uses only grove subcommands and flags that exist (checked against --help)', () => {
    const containers = resourceFiles
      .concat(files(K8S).filter((f) => /-pull\.yaml$/.test(f)))
      .flatMap(load)
      .flatMap((o) => {
        const spec = o.spec as { template?: { spec: PodSpec }; containers?: Container[] };
        const pod = spec?.template?.spec ?? (spec?.containers ? { containers: spec.containers } : null);
        return pod ? [...(pod.containers ?? []), ...(pod.initContainers ?? [])] : [];
      })
      .filter((c) => c.image?.startsWith('grove'));
    expect(containers.length).toBeGreaterThanOrEqual(5);
    for (const c of containers) {
      const [sub, ...rest] = c.args ?? [];
      const help = spawnSync(process.execPath, [grove, sub!, '--help'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(help.stdout, `grove ${sub} --help`).toMatch(/usage: grove/);
      for (const a of rest.filter((x) => x.startsWith('--')))
        expect(help.stdout, `grove ${sub} has no ${a}`).toContain(`${a.split('=')[0]} `);
    }
  });

  it('gateway: 2 replicas with a PDB, Service on 8080 only, admin on loopback with its token from a Secret', () => {
    const gw = deployment(base, 'grove-gateway');
    expect((gw.spec as { replicas: number }).replicas).toBe(2);
    const pdb = byKind(base, 'PodDisruptionBudget', 'grove-gateway')[0]!.spec as {
      minAvailable: number;
      selector: { matchLabels: Record<string, string> };
    };
    const labels = (gw.spec as { template: { metadata: { labels: Record<string, string> } } }).template
      .metadata.labels;
    expect(pdb.minAvailable).toBe(1);
    expect(labels).toMatchObject(pdb.selector.matchLabels);
    const c = podOf(gw).containers[0]!;
    const args = c.args!;
    expect(args[0]).toBe('gateway');
    expect(flag(args, '--admin-host')).toMatch(/^127\./);
    expect(c.ports!.map((p) => p.containerPort)).toEqual([Number(flag(args, '--port'))]);
    expect(c.env!.find((e) => e.name === 'GROVE_ADMIN_TOKEN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'grove-admin',
      key: 'token',
    });
    const svc = byKind(base, 'Service', 'grove')[0]!.spec as {
      ports: { port: number; targetPort: string }[];
      selector: Record<string, string>;
    };
    expect(svc.ports.map((p) => p.port)).toEqual([8080]);
    expect(labels).toMatchObject(svc.selector);
  });

  it('the gateway discovers exactly the headless worker Service, on the port the workers listen on', () => {
    const wsvc = byKind(base, 'Service', 'grove-worker')[0]!.spec as {
      clusterIP: string;
      ports: { port: number }[];
      selector: Record<string, string>;
    };
    expect(wsvc.clusterIP).toBe('None');
    const worker = podOf(deployment(base, 'grove-worker')).containers[0]!;
    const port = Number(flag(worker.args!, '--port'));
    expect(wsvc.ports[0]!.port).toBe(port);
    expect(worker.ports![0]!.containerPort).toBe(port);
    expect(flag(worker.args!, '--host')).toBe('0.0.0.0');
    const gwArgs = podOf(deployment(base, 'grove-gateway')).containers[0]!.args!;
    expect(flag(gwArgs, '--discover')).toBe(`dns:grove-worker:${port}`);
    const hpa = byKind(base, 'HorizontalPodAutoscaler')[0]!.spec as {
      scaleTargetRef: { kind: string; name: string };
      metrics: { resource?: { name: string } }[];
    };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'grove-worker' });
    expect(hpa.metrics.map((m) => m.resource?.name)).toContain('cpu');
  });

  it('every pod: health probes, a drain before SIGTERM, requests and limits, non-root and read-only', () => {
    for (const name of ['grove-gateway', 'grove-worker']) {
      const pod = podOf(deployment(base, name));
      const strategy = (
        deployment(base, name).spec as { strategy: { rollingUpdate: { maxUnavailable: number } } }
      ).strategy;
      expect(strategy.rollingUpdate.maxUnavailable, name).toBe(0);
      expect(pod.securityContext, name).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      for (const c of pod.containers) {
        expect(c.readinessProbe?.httpGet?.path, name).toBe('/v2/health/ready');
        expect(c.livenessProbe?.httpGet?.path, name).toBe('/v2/health/live');
        const sleep = Number(c.lifecycle?.preStop?.exec?.command[1]);
        expect(c.lifecycle?.preStop?.exec?.command[0]).toBe('sleep');
        // The drain, then the request timeout (grove's default 30 s), must fit in the grace period.
        expect(pod.terminationGracePeriodSeconds!, name).toBeGreaterThan(
          sleep + (name === 'grove-worker' ? 30 : 10),
        );
        expect(Object.keys(c.resources?.requests ?? {}).sort(), name).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort(), name).toEqual(['cpu', 'memory']);
        expect(c.securityContext, name).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it("the object-store lists name the demo repository's files by their real sha256", () => {
    const lists = ['models.list', 'configs.list'].map((n) =>
      readFileSync(join(K8S, 'object-store', n), 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !l.startsWith('#'))
        .map((l) => l.trim().split(/\s+/)),
    );
    for (const [dir, sha, url] of lists.flat()) {
      const file = join(root, 'models', dir!, new URL(url!).pathname.split('/').pop()!);
      expect(createHash('sha256').update(readFileSync(file)).digest('hex'), file).toBe(sha);
    }
    const all = new Set(lists[0]!.map((l) => l.join(' ')));
    for (const l of lists[1]!) expect(all.has(l.join(' '))).toBe(true);
  });
});

describe.skipIf(noKubectl !== null)('kubectl kustomize', () => {
  const roots = kustomizations
    .map((k) => join(k, '..'))
    .filter((d) => kustomizationOf(d).kind === 'Kustomization');

  it.each(roots.map((d) => relative(root, d)))('%s renders, and what it renders validates', async (dir) => {
    const objs = kustomize(join(root, dir));
    expect(objs.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const o of objs)
      if (!o.apiVersion?.startsWith('serving.kserve.io/')) problems.push(...(await validateObject(o)));
    expect(problems).toEqual([]);
  });

  /** base/ with one component, as a user's kustomization would use it. */
  function withComponent(name: string): K8sObject[] {
    const dir = mkdtempSync(join(tmpdir(), 'grove-kustomize-'));
    tmp.push(dir);
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `namespace: grove\nresources: [${relative(dir, join(K8S, 'base'))}]\ncomponents: [${relative(dir, join(K8S, 'components', name))}]\n`,
    );
    return kustomize(dir);
  }

  it('components/kubernetes-discovery: the gateway watches EndpointSlices with just the RBAC it needs', async () => {
    const objs = withComponent('kubernetes-discovery');
    const problems: string[] = [];
    for (const o of objs) problems.push(...(await validateObject(o)));
    expect(problems).toEqual([]);
    const pod = podOf(deployment(objs, 'grove-gateway')) as PodSpec & {
      serviceAccountName?: string;
      automountServiceAccountToken?: boolean;
    };
    expect(flag(pod.containers[0]!.args!, '--discover')).toBe('kubernetes:grove-worker:http');
    const workerPort = podOf(deployment(objs, 'grove-worker')).containers[0]!.ports![0]!;
    expect(workerPort.name).toBe('http');
    expect(pod.serviceAccountName).toBe('grove-gateway');
    expect(pod.automountServiceAccountToken).toBe(true);
    const role = byKind(objs, 'Role')[0]! as K8sObject & {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    };
    expect(role.rules).toEqual([
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = byKind(objs, 'RoleBinding')[0]! as K8sObject & {
      roleRef: { name: string };
      subjects: { kind: string; name: string; namespace: string }[];
    };
    expect(binding.roleRef.name).toBe(role.metadata!.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'grove-gateway', namespace: 'grove' }]);
  });

  it('components/inflight-metric adds the worker in-flight metric to the HPA', async () => {
    const objs = withComponent('inflight-metric');
    const hpa = byKind(objs, 'HorizontalPodAutoscaler')[0]!;
    expect(await validateObject(hpa)).toEqual([]);
    const metrics = (hpa.spec as { metrics: { type: string; pods?: { metric: { name: string } } }[] })
      .metrics;
    expect(metrics.map((m) => m.type)).toEqual(['Resource', 'Pods']);
    const name = metrics[1]!.pods!.metric.name;
    // The metric the adapter serves is one every worker exports.
    expect(readFileSync(join(root, 'worker', 'metrics', 'worker-metrics.ts'), 'utf8')).toContain(`'${name}'`);
  });

  it('object-store: pods pull their repository into an emptyDir before starting; no PVC is left', () => {
    const objs = kustomize(join(K8S, 'object-store'));
    expect(byKind(objs, 'PersistentVolumeClaim')).toEqual([]);
    const cm = byKind(objs, 'ConfigMap')[0]!;
    for (const name of ['grove-worker', 'grove-gateway']) {
      const pod = podOf(deployment(objs, name)) as PodSpec & {
        volumes: { name: string; emptyDir?: unknown; configMap?: { name: string } }[];
      };
      const init = pod.initContainers![0]!;
      expect(init.args!.slice(0, 2)).toEqual(['pull', '--list']);
      expect(init.image).toBe(pod.containers[0]!.image);
      expect(pod.volumes.find((v) => v.name === 'models')).toEqual({
        name: 'models',
        emptyDir: { sizeLimit: expect.any(String) },
      });
      expect(pod.volumes.find((v) => v.name === 'pull-list')?.configMap?.name).toBe(cm.metadata!.name);
    }
  });
});

// KServe's CRDs are not in kubernetes-models: the fields grove relies on are checked by name
// against KServe's API (ServingRuntimeSpec, InferenceService's predictor.model), and the
// runtime's containers, which are core Containers, against the core schema.
describe('deploy/kubernetes/kserve', () => {
  const objs = ['cluster-serving-runtime.yaml', 'inference-service.yaml'].flatMap((f) =>
    load(join(K8S, 'kserve', f)),
  );
  const rt = byKind(objs, 'ClusterServingRuntime', 'grove')[0]!;
  const spec = rt.spec as {
    supportedModelFormats: Record<string, unknown>[];
    protocolVersions: string[];
    containers: Container[];
  };

  it('ClusterServingRuntime grove: xgboost, lightgbm and sklearn (autoSelect), v2, grove worker in single-model mode', async () => {
    expect(rt.apiVersion).toBe('serving.kserve.io/v1alpha1');
    expect(Object.keys(spec).sort()).toEqual(
      ['annotations', 'containers', 'protocolVersions', 'supportedModelFormats'].sort(),
    );
    for (const f of spec.supportedModelFormats) {
      expect(Object.keys(f).every((k) => ['name', 'version', 'autoSelect', 'priority'].includes(k))).toBe(
        true,
      );
      expect(f.autoSelect).toBe(true);
      expect(typeof f.version).toBe('string');
    }
    expect(new Set(spec.supportedModelFormats.map((f) => f.name))).toEqual(
      new Set(['xgboost', 'lightgbm', 'sklearn']),
    );
    expect(spec.protocolVersions).toContain('v2');
    // grpc-v2 is offered exactly when the worker has a gRPC endpoint.
    const help = spawnSync(process.execPath, [grove, 'worker', '--help'], { encoding: 'utf8' }).stdout;
    expect(spec.protocolVersions.includes('grpc-v2')).toBe(help.includes('--grpc-port'));
    expect(spec.protocolVersions.every((p) => ['v1', 'v2', 'grpc-v1', 'grpc-v2'].includes(p))).toBe(true);
    const container = await coreValidator('Container');
    for (const c of spec.containers) {
      expect(validateStrict(container, c)).toEqual([]);
      expect(c.name).toBe('kserve-container'); // the name KServe's controller looks for
      const args = c.args!;
      expect(args[0]).toBe('worker');
      expect(flag(args, '--model-name')).toBe('{{.Name}}');
      expect(flag(args, '--model-dir')).toBe('/mnt/models');
      expect(Number(flag(args, '--port'))).toBe(8080); // KServe routes to the container's 8080
      if (spec.protocolVersions.includes('grpc-v2')) expect(flag(args, '--grpc-port')).toBe('8081');
      expect(c.ports![0]!.containerPort).toBe(8080);
      expect(c.readinessProbe?.httpGet?.path).toBe('/v2/health/ready');
    }
  });

  it('the InferenceService example picks the grove runtime with a format it supports', () => {
    const isvc = byKind(objs, 'InferenceService')[0]!;
    expect(isvc.apiVersion).toBe('serving.kserve.io/v1beta1');
    const model = (isvc.spec as { predictor: { model: Record<string, unknown> } }).predictor.model;
    expect(Object.keys(model).sort()).toEqual(['modelFormat', 'protocolVersion', 'runtime', 'storageUri']);
    expect(model.runtime).toBe(rt.metadata!.name);
    expect(spec.protocolVersions).toContain(model.protocolVersion);
    const format = (model.modelFormat as { name: string }).name;
    expect(spec.supportedModelFormats.some((f) => f.name === format)).toBe(true);
    expect(String(model.storageUri)).toMatch(/^(pvc|s3|gs|https?):\/\//);
  });
});
