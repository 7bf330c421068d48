// Validates Kubernetes objects against the API's own OpenAPI schemas as the kubernetes-models
// package compiles them, strictly: kubernetes-models accepts fields the schema does not know (a
// misspelt `readinesProbe` would pass), so each object is validated through a Proxy that records
// which keys the schema's validator reads, and every key it never read is reported as unknown.
// Maps (labels, annotations) are iterated by the validator, so their keys count as read.
import { parse, parseAllDocuments } from 'yaml';

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

type Validator = (this: unknown) => void;

async function validatorFor(apiVersion: string, kind: string): Promise<Validator | null> {
  let mod: Record<string, { prototype: { validate: Validator } }>;
  try {
    mod = await import(`kubernetes-models/${apiVersion}`);
  } catch {
    return null;
  }
  return mod[kind]?.prototype.validate ?? null;
}

/** Validates `data` with `validate` through a recording Proxy; returns the paths of unread keys. */
export function validateStrict(validate: Validator, data: unknown): string[] {
  const read = new WeakMap<object, Set<PropertyKey>>();
  const proxies = new WeakMap<object, object>();
  const wrap = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    const known = proxies.get(v);
    if (known) return known;
    const seen = new Set<PropertyKey>();
    read.set(v, seen);
    const p = new Proxy(v, {
      get(t, k, r) {
        seen.add(k);
        return wrap(Reflect.get(t, k, r));
      },
      has(t, k) {
        seen.add(k);
        return Reflect.has(t, k);
      },
    });
    proxies.set(v, p);
    return p;
  };
  validate.call(wrap(data)); // throws the schema's errors
  const unknown: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (v === null || typeof v !== 'object') return;
    const seen = read.get(v);
    for (const [k, child] of Object.entries(v)) {
      const at = Array.isArray(v) ? `${path}[${k}]` : `${path}.${k}`;
      if (!Array.isArray(v) && !seen?.has(k)) unknown.push(at);
      walk(child, at);
    }
  };
  walk(data, '');
  return unknown;
}

/** Validates one object against its kind's schema; the problems found (empty when valid). */
export async function validateObject(o: K8sObject): Promise<string[]> {
  const where = `${o.kind ?? '?'} ${o.metadata?.name ?? '?'}`;
  if (!o.apiVersion || !o.kind) return [`${where}: no apiVersion or kind`];
  const validate = await validatorFor(o.apiVersion, o.kind);
  if (!validate) return [`${where}: ${o.apiVersion} ${o.kind} has no schema in kubernetes-models`];
  try {
    return validateStrict(validate, o).map((p) => `${where}: unknown field ${p}`);
  } catch (err) {
    return [`${where}: ${(err as Error).message}`];
  }
}

/** A core type's validator (e.g. Container), for objects embedded in custom resources. */
export async function coreValidator(kind: string): Promise<Validator> {
  const v = await validatorFor('v1', kind);
  if (!v) throw new Error(`no core v1 ${kind}`);
  return v;
}

export function parseDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((d): d is K8sObject => d !== null);
}

export { parse as parseYaml };
