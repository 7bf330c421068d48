// Checks a trees container's explanation sections (flat-layout.ts, "Explanation sections") when it
// loads, as every other section is checked (docs/formats.md, Untrusted files): the descriptor's
// `explain` flags name exactly the sections present, each has its type and length, tree t's nodes
// [base[t], base[t + 1]) tile 0..N, children stay inside their tree and references inside the
// flat layout. TreeSHAP (shared/runtime/explain) still refuses a shape that is not a tree when it
// walks one; prediction never reads these sections.

import { ModelFormatError } from '../../errors/grove-error.js';
import type { Container } from '../container.js';
import { boolField, type Obj, objectField } from '../descriptor-checks.js';
import type { TreesDescriptorExtra } from './flat-layout.js';
import type { TreeArrays } from './kernels.js';

const SECTIONS = ['explain_tree_base', 'explain_kids', 'explain_ref', 'explain_cover', 'explain_gain'];

function bad(why: string): never {
  throw new ModelFormatError(`grove container: ${why}`);
}

/** The checked `explain` flags ({cover, gain}), or undefined when the container has none. */
export function checkExplainFlags(d: Obj): { cover: boolean; gain: boolean } | undefined {
  if (!Object.hasOwn(d, 'explain')) return undefined;
  const e = objectField(d, 'explain');
  return {
    cover: boolField(e, 'cover', undefined, 'explain.cover'),
    gain: boolField(e, 'gain', undefined, 'explain.gain'),
  };
}

export function checkExplainSections(c: Container, d: TreesDescriptorExtra, a: TreeArrays): void {
  const flags = checkExplainFlags(c.descriptor);
  if (flags === undefined) {
    for (const s of SECTIONS) if (c.has(s)) bad(`section ${s} without the descriptor's explain flags`);
    return;
  }
  if (!flags.cover && !flags.gain) bad('explain flags name no statistics');
  if (c.has('explain_cover') !== flags.cover || c.has('explain_gain') !== flags.gain)
    bad('explanation sections do not match the explain flags');
  // Container.i32/f64 refuse a missing section or another type.
  const base = c.i32('explain_tree_base');
  const kids = c.i32('explain_kids');
  const refs = c.i32('explain_ref');
  const T = d.numTrees;
  if (base.length !== T + 1 || base[0] !== 0) bad('explain_tree_base does not list every tree');
  const N = base[T]!;
  if (refs.length !== N || kids.length !== 2 * N) bad('explanation section lengths do not match');
  if (flags.cover && c.f64('explain_cover').length !== N) bad('explain_cover length does not match');
  if (flags.gain && c.f64('explain_gain').length !== N) bad('explain_gain length does not match');
  const maxRef = Math.max(a.nodeSlot.length, a.leafValue.length / d.leafWidth);
  for (let t = 0; t < T; t++) {
    const from = base[t]!;
    const to = base[t + 1]!;
    if (!(to > from)) bad(`explain_tree_base: tree ${t} has no nodes`);
    const n = to - from;
    for (let i = from; i < to; i++) {
      const l = kids[2 * i]!;
      const r = kids[2 * i + 1]!;
      if (l < 0 !== r < 0 || l < -1 || r < -1 || l >= n || r >= n)
        bad(`explain_kids: node ${i - from} of tree ${t} has a child outside its tree`);
      const ref = refs[i]!;
      if (ref < -1 || ref >= maxRef)
        bad(`explain_ref: node ${i - from} of tree ${t} points outside the layout`);
    }
  }
}
