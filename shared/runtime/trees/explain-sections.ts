// Builds the explanation sections of the flat layout (flat-layout.ts, "Explanation sections"):
// each tree's IR nodes with their children, the flat node or leaf slot that stands for them, and
// the covers and gains the parser read. layout-builder.ts reports where each IR node went.
import type { ContainerBuilder } from '../container.js';
import type { TreeIR } from './tree-ir.js';

export class ExplainSectionsBuilder {
  private readonly base: Int32Array;
  private readonly kids: Int32Array;
  private readonly refs: Int32Array;
  private readonly cover: Float64Array | null;
  private readonly gain: Float64Array | null;
  private at = 0;

  /** null when no tree carries covers or gains: the container then has no explanation sections. */
  static forTrees(trees: TreeIR[]): ExplainSectionsBuilder | null {
    const all = (key: 'cover' | 'gain') =>
      trees.length > 0 && trees.every((t) => t[key] !== undefined && t[key].length >= t.left.length);
    const cover = all('cover');
    const gain = all('gain');
    return cover || gain ? new ExplainSectionsBuilder(trees, cover, gain) : null;
  }

  private constructor(
    private readonly trees: TreeIR[],
    hasCover: boolean,
    hasGain: boolean,
  ) {
    let n = 0;
    this.base = new Int32Array(trees.length + 1);
    trees.forEach((t, i) => {
      this.base[i] = n;
      n += t.left.length;
    });
    this.base[trees.length] = n;
    this.kids = new Int32Array(2 * n);
    this.refs = new Int32Array(n).fill(-1);
    this.cover = hasCover ? new Float64Array(n) : null;
    this.gain = hasGain ? new Float64Array(n) : null;
  }

  /** Tree t's nodes come next. */
  startTree(t: number): void {
    const tree = this.trees[t]!;
    const at = this.base[t]!;
    this.at = at;
    for (let i = 0; i < tree.left.length; i++) {
      const leaf = tree.left[i]! < 0;
      this.kids[2 * (at + i)] = leaf ? -1 : tree.left[i]!;
      this.kids[2 * (at + i) + 1] = leaf ? -1 : tree.right[i]!;
      if (this.cover) this.cover[at + i] = tree.cover![i]!;
      if (this.gain) this.gain[at + i] = leaf ? 0 : tree.gain![i]!;
    }
  }

  /** IR node i of the current tree is flat node (inner) or leaf slot (leaf) `ref`. */
  ref(i: number, ref: number): void {
    if (this.refs[this.at + i] < 0) this.refs[this.at + i] = ref;
  }

  addTo(b: ContainerBuilder): void {
    b.add('explain_tree_base', this.base).add('explain_kids', this.kids).add('explain_ref', this.refs);
    if (this.cover) b.add('explain_cover', this.cover);
    if (this.gain) b.add('explain_gain', this.gain);
  }

  flags(): { cover: boolean; gain: boolean } {
    return { cover: this.cover !== null, gain: this.gain !== null };
  }
}
