// Keys of unpickled dicts and sets. Python compares keys by value, so two equal tuples must be
// one key: each tuple gets an interned TupleKey, found from the keys of its elements (hash
// consing). A tuple is keyed once and its elements by their small ids, never by expanding their
// contents, so the work is linear in the pickle even when a tuple holds the same sub-tuple twice
// at every level (2^depth leaves when expanded), and no recursion is involved at any depth.

/** The key of a tuple: equal tuples (element by element) share one instance. */
export class TupleKey {
  constructor(readonly id: number) {}
}

export class DictKeys {
  private readonly tuples = new Map<string, TupleKey>();
  // Maps, not WeakMaps: this table lives for one unpickle call, and 100 000 ephemerons of
  // tuples holding tuples cost V8's collector seconds.
  private readonly keyOf = new Map<readonly unknown[], TupleKey>();
  private readonly strings = new Map<string, number>();
  private readonly objects = new Map<object, number>();
  private nextObject = 0;

  /** The Map key for the Python value `k`: tuples by value, everything else as it is. */
  key(k: unknown): unknown {
    return isTuple(k) ? this.tuple(k) : k;
  }

  private tuple(root: readonly unknown[]): TupleKey {
    const done = this.keyOf.get(root);
    if (done) return done;
    // Post-order without recursion. Tuples are immutable and built from values that existed
    // before them, so tuple-in-tuple references form a DAG and every tuple is finished once.
    const stack: (readonly unknown[])[] = [root];
    while (stack.length > 0) {
      const t = stack[stack.length - 1]!;
      if (this.keyOf.has(t)) {
        stack.pop();
        continue;
      }
      let ready = true;
      for (const e of t) {
        if (isTuple(e) && !this.keyOf.has(e)) {
          stack.push(e);
          ready = false;
        }
      }
      if (!ready) continue;
      stack.pop();
      let sig = '';
      for (const e of t) sig += `${this.token(e)},`;
      let key = this.tuples.get(sig);
      if (!key) {
        key = new TupleKey(this.tuples.size);
        this.tuples.set(sig, key);
      }
      this.keyOf.set(t, key);
    }
    return this.keyOf.get(root)!;
  }

  /** A short token that equals another element's token iff Python would call them equal. */
  private token(e: unknown): string {
    if (isTuple(e)) return `t${this.keyOf.get(e)!.id}`;
    if (typeof e === 'string') return `s${this.intern(e)}`;
    if (typeof e === 'number') return `n${e === 0 ? 0 : e}`;
    if (typeof e === 'boolean') return `n${e ? 1 : 0}`;
    if (typeof e === 'bigint') return `n${e}`;
    if (e === null || e === undefined) return 'z';
    if (e instanceof Uint8Array) return `b${this.intern(Buffer.from(e).toString('latin1'))}`;
    if (e instanceof TupleKey) return `t${e.id}`;
    // Other objects (instances, lists) are equal only to themselves.
    let id = this.objects.get(e as object);
    if (id === undefined) this.objects.set(e as object, (id = this.nextObject++));
    return `o${id}`;
  }

  private intern(s: string): number {
    let id = this.strings.get(s);
    if (id === undefined) this.strings.set(s, (id = this.strings.size));
    return id;
  }
}

function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}
