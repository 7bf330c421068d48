// Kubernetes discovery (`grove gateway --discover kubernetes[:SERVICE[:PORT]]`, docs/kubernetes.md):
// watches the EndpointSlices of the workers' Service through the API server (an informer of
// @kubernetes/client-node: list, then watch from that resourceVersion) and routes to every endpoint
// whose `ready` condition is not false. Unlike DNS it hears of a change the moment the endpoints
// controller writes it: a terminating pod turns not-ready at once and is drained (WorkerSet.remove
// lets its in-flight calls finish), a new ready pod is added. API shapes:
// kubernetes.io/docs/reference/kubernetes-api/service-resources/endpoint-slice-v1 (ready: "nil
// should be interpreted as true"; terminating endpoints are never ready). When the API server is
// unreachable or refuses the watch, the last known workers stay and the informer is restarted with
// backoff. Needs RBAC to list and watch endpointslices in the namespace
// (deploy/kubernetes/components/kubernetes-discovery).
import type { KubeConfig } from '@kubernetes/client-node';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';
import { defaultSchedule, type Schedule } from './dns-discovery.js';

/** The EndpointSlice fields read here (discovery.k8s.io/v1). */
export interface EndpointSliceLike {
  addressType?: string;
  ports?: { name?: string | null; port?: number | null }[] | null;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } | null }[] | null;
}

export interface KubernetesTarget {
  service: string;
  /** A port name of the slices (e.g. `http`), or a port number. */
  port: string;
}

const PREFIX = 'k8s-';

/** `kubernetes[:SERVICE[:PORT]]` -> target (defaults grove-worker, http); null when not one. */
export function parseKubernetesTarget(spec: string): KubernetesTarget | null {
  const m =
    /^kubernetes(?::([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(?::([a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?|[0-9]{1,5}))?)?$/.exec(
      spec,
    );
  if (!m) return null;
  return { service: m[1] ?? 'grove-worker', port: m[3] ?? 'http' };
}

/** id -> URL of every ready endpoint on `port`, at most `max` of them. Pure, so tests are exact. */
export function workersFromSlices(
  slices: readonly EndpointSliceLike[],
  port: string,
  max = 512,
): Map<string, string> {
  const out = new Map<string, string>();
  const byNumber = /^[0-9]+$/.test(port);
  for (const s of slices) {
    if (s.addressType !== 'IPv4' && s.addressType !== 'IPv6') continue;
    const p = (s.ports ?? []).find((x) => (byNumber ? String(x.port) === port : x.name === port));
    const num = p?.port;
    if (!num || num < 1 || num > 65535) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses ?? []) {
        if (out.size >= max) return out;
        const host = s.addressType === 'IPv6' ? `[${a}]` : a;
        out.set(`${PREFIX}${host}:${num}`, `http://${host}:${num}`);
      }
    }
  }
  return out;
}

export interface KubernetesDiscoveryOptions {
  /** Default: KubeConfig.loadFromDefault() ($KUBECONFIG, ~/.kube/config, or the pod's service account). */
  kubeConfig?: KubeConfig;
  /** Default: the kubeconfig context's namespace (in a pod: the pod's), else `default`. */
  namespace?: string;
  schedule?: Schedule;
  retryMs?: number;
  maxRetryMs?: number;
  maxWorkers?: number;
  onAdded?: (w: UpstreamWorker) => void;
  log?: (msg: string) => void;
}

interface InformerLike {
  on(verb: 'add' | 'update' | 'delete', cb: (o: unknown) => void): void;
  on(verb: 'error' | 'connect', cb: (err?: unknown) => void): void;
  list(namespace?: string): unknown[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class KubernetesDiscovery {
  private informer: InformerLike | null = null;
  private stopped = false;
  private cancelRetry: (() => void) | null = null;
  private errored = false;
  private readonly schedule: Schedule;
  /** Consecutive failures of the list/watch. */
  failures = 0;
  namespace = '';

  constructor(
    private readonly target: KubernetesTarget,
    private readonly workers: WorkerSet,
    private readonly opts: KubernetesDiscoveryOptions = {},
  ) {
    this.schedule = opts.schedule ?? defaultSchedule;
  }

  /** Lists the slices and starts watching; settles after the first attempt (failed or not). */
  async start(): Promise<void> {
    // Loaded here, so a gateway that does not use Kubernetes never loads the client.
    const k8s = await import('@kubernetes/client-node');
    const kc = this.opts.kubeConfig ?? new k8s.KubeConfig();
    if (!this.opts.kubeConfig) kc.loadFromDefault();
    this.namespace =
      this.opts.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    const api = kc.makeApiClient(k8s.DiscoveryV1Api);
    const labelSelector = `kubernetes.io/service-name=${this.target.service}`;
    const informer = k8s.makeInformer(
      kc,
      `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(this.namespace)}/endpointslices`,
      () => api.listNamespacedEndpointSlice({ namespace: this.namespace, labelSelector }),
      labelSelector,
    ) as unknown as InformerLike;
    this.informer = informer;
    const apply = () => this.apply();
    informer.on('add', apply);
    informer.on('update', apply);
    informer.on('delete', apply);
    informer.on('error', (err) => this.failed(err));
    await this.run();
  }

  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
    void this.informer?.stop().catch(() => {});
  }

  private async run(): Promise<void> {
    if (this.stopped || !this.informer) return;
    this.errored = false;
    try {
      await this.informer.start();
    } catch (err) {
      this.failed(err);
    }
    // The informer reports a failed list through its error callback, not by rejecting.
    if (this.errored || this.stopped) return;
    if (this.failures > 0)
      this.opts.log?.(`kubernetes: watching endpointslices of ${this.target.service} again`);
    this.failures = 0;
    this.apply();
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.errored = true;
    this.failures++;
    const e = err as { statusCode?: number; code?: number | string; message?: string };
    if (this.failures === 1)
      this.opts.log?.(
        `kubernetes: endpointslices of ${this.target.service} in ${this.namespace}: ${e?.statusCode ?? e?.code ?? ''} ${e?.message ?? String(err)}; keeping the last known workers, retrying`,
      );
    const delay = Math.min(
      this.opts.maxRetryMs ?? 10_000,
      (this.opts.retryMs ?? 250) * 2 ** Math.min(this.failures - 1, 20),
    );
    this.cancelRetry?.();
    this.cancelRetry = this.schedule(() => void this.run(), delay);
  }

  private apply(): void {
    if (this.stopped || !this.informer) return;
    const want = workersFromSlices(
      this.informer.list(this.namespace) as EndpointSliceLike[],
      this.target.port,
      this.opts.maxWorkers,
    );
    for (const w of this.workers.all)
      if (w.id.startsWith(PREFIX) && !want.has(w.id)) this.workers.remove(w.id);
    for (const [id, url] of want) {
      if (this.workers.get(id)) continue;
      // Added first: `onAdded?.(add())` would skip the add when there is no callback.
      const w = this.workers.add(id, url);
      this.opts.onAdded?.(w);
    }
  }
}
