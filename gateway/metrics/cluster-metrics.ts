// The whole cluster's metrics from the gateway's one /metrics (docs/monitoring.md, Metrics): under
// `grove serve` the workers listen on ports nobody configures, so a Prometheus scraping the
// documented endpoint would see only the gateway. The gateway reads each healthy worker's /metrics
// when it is scraped and serves every worker series with a `worker` label (the worker's id, e.g.
// `local-0`, stable across a worker's restarts) next to its own series, which have none; families
// present in both (process_*, nodejs_*, grove_build_info) are written once, as the text format
// requires. `grove_gateway_worker_metrics_up{worker}` says whose metrics could not be read.
//
// Series are labelled rather than summed (prom-client's AggregatorRegistry sums): a sum of gauges
// (monitor ratios, PSI, heap sizes) means nothing, and `sum by (...)` in a query does the adding
// where it does mean something.
import { controlRequest } from '../upstream/control-client.js';
import type { UpstreamWorker } from '../upstream/upstream-worker.js';
import type { WorkerSet } from '../upstream/worker-set.js';

/** A metric family of the text exposition format: its HELP, TYPE and sample lines. */
interface Family {
  help: string | null;
  type: string | null;
  samples: string[];
}

/** Families in order of appearance; samples belong to the family whose HELP/TYPE precede them. */
export function parseExposition(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  let current: Family | null = null;
  let currentName = '';
  const family = (name: string): Family => {
    let f = out.get(name);
    if (!f) out.set(name, (f = { help: null, type: null, samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
    if (meta) {
      currentName = meta[2]!;
      current = family(currentName);
      if (meta[1] === 'HELP') current.help = meta[3]!;
      else current.type = meta[3]!;
      continue;
    }
    if (line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) continue;
    // A sample without HELP/TYPE before it is a family of its own (untyped).
    (current && belongsTo(name, currentName) ? current : family(name)).samples.push(line);
  }
  return out;
}

/** A sample of family `name`: the name itself, or a histogram's/summary's suffixed series. */
function belongsTo(sample: string, name: string): boolean {
  return (
    sample === name ||
    (sample.startsWith(name) && /^_(bucket|sum|count|total|created)$/.test(sample.slice(name.length)))
  );
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `name{a="b"} 1` -> `name{worker="w",a="b"} 1`; `name 1` -> `name{worker="w"} 1`. */
export function withLabel(sample: string, label: string, value: string): string {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(sample)![0];
  const rest = sample.slice(name.length);
  const pair = `${label}="${escapeLabel(value)}"`;
  if (rest.startsWith('{')) return `${name}{${pair}${rest[1] === '}' ? '' : ','}${rest.slice(1)}`;
  return `${name}{${pair}}${rest}`;
}

export interface WorkerExposition {
  /** The value of the `worker` label. */
  worker: string;
  /** Its /metrics text, or null when it could not be read. */
  text: string | null;
}

/** The gateway's own exposition plus every worker's, labelled, one family at a time. */
export function mergeExpositions(own: string, workers: readonly WorkerExposition[]): string {
  const families = parseExposition(own);
  for (const w of workers) {
    if (w.text === null) continue;
    for (const [name, f] of parseExposition(w.text)) {
      let into = families.get(name);
      if (!into) families.set(name, (into = { help: f.help, type: f.type, samples: [] }));
      else if (into.type !== null && f.type !== null && into.type !== f.type) continue; // not mergeable
      for (const s of f.samples) into.samples.push(withLabel(s, 'worker', w.worker));
    }
  }
  if (workers.length > 0) {
    families.set('grove_gateway_worker_metrics_up', {
      help: "Whether the gateway read this worker's /metrics for this scrape (1) or not (0)",
      type: 'gauge',
      samples: workers.map(
        (w) =>
          `grove_gateway_worker_metrics_up{worker="${escapeLabel(w.worker)}"} ${w.text === null ? 0 : 1}`,
      ),
    });
  }
  const lines: string[] = [];
  for (const [name, f] of families) {
    if (f.help !== null) lines.push(`# HELP ${name} ${f.help}`);
    if (f.type !== null) lines.push(`# TYPE ${name} ${f.type}`);
    lines.push(...f.samples);
  }
  return `${lines.join('\n')}\n`;
}

/** Longest a scrape waits for one worker, and the most it reads from one. */
const WORKER_TIMEOUT_MS = 2000;
const MAX_WORKER_BYTES = 32 * 1024 * 1024;

/** One worker's /metrics text over its keep-alive connections, or null (down, slow, too large). */
export async function readWorkerMetrics(w: UpstreamWorker): Promise<string | null> {
  try {
    const res = await controlRequest(w.agent, w.host, w.port, {
      method: 'GET',
      path: '/metrics',
      timeoutMs: WORKER_TIMEOUT_MS,
      maxBytes: MAX_WORKER_BYTES,
    });
    return res.status === 200 ? res.body.toString('utf8') : null;
  } catch {
    return null;
  }
}

/** The cluster's exposition: the gateway's own text and every known worker's, labelled by id. */
export async function clusterExposition(own: string, workers: WorkerSet): Promise<string> {
  const ws = workers.all.filter((w) => !w.removed).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const texts = await Promise.all(ws.map((w) => (w.healthy ? readWorkerMetrics(w) : null)));
  return mergeExpositions(
    own,
    ws.map((w, i) => ({ worker: w.id, text: texts[i] ?? null })),
  );
}
