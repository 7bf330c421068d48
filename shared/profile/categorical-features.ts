// Which features a model treats as categorical, read from the model file where the library records
// it: XGBoost JSON `split_type` (1 = categorical split, XGBoost's JSON schema) and
// `learner.feature_types` ("c"), LightGBM text `decision_type` (bit 0 = categorical, LightGBM's
// Tree::ToString). Other files (and features the model never splits on) fall back to the data
// heuristic in build-profile.ts: few distinct integer values.
import type { Model } from '../runtime/model.js';

export function categoricalFromModelFile(path: string, bytes: Uint8Array): Set<number> {
  const out = new Set<number>();
  try {
    if (path.endsWith('.json')) {
      type XgbDoc = {
        learner?: {
          feature_types?: unknown;
          gradient_booster?: { model?: { trees?: Array<{ split_type?: unknown; split_indices?: unknown }> } };
        };
      };
      const learner = (JSON.parse(Buffer.from(bytes).toString('utf8')) as XgbDoc | null)?.learner;
      const types = learner?.feature_types;
      if (Array.isArray(types)) {
        for (let i = 0; i < types.length; i++) if (types[i] === 'c') out.add(i);
      }
      const trees = learner?.gradient_booster?.model?.trees;
      if (Array.isArray(trees)) {
        for (const t of trees) {
          const st = t?.split_type;
          const si = t?.split_indices;
          if (!Array.isArray(st) || !Array.isArray(si)) continue;
          for (let i = 0; i < st.length; i++) if (st[i] === 1) out.add(Number(si[i]));
        }
      }
    } else if (path.endsWith('.txt')) {
      const text = Buffer.from(bytes).toString('utf8');
      let features: number[] | null = null;
      for (const line of text.split('\n')) {
        if (line.startsWith('split_feature=')) features = line.slice(14).trim().split(' ').map(Number);
        else if (line.startsWith('decision_type=') && features) {
          const dt = line.slice(14).trim().split(' ').map(Number);
          for (let i = 0; i < dt.length; i++)
            if ((dt[i]! & 1) === 1 && features[i] !== undefined) out.add(features[i]!);
          features = null;
        }
      }
    }
  } catch {
    // Not the format the extension suggests: the data heuristic decides.
  }
  return out;
}

/** Categorical features a Model exposes itself, if its meta carries them (optional extension). */
export function categoricalFromModel(model: Model): Set<number> {
  const extra = (model.meta as unknown as { categoricalFeatures?: unknown }).categoricalFeatures;
  return new Set(Array.isArray(extra) ? extra.filter((x): x is number => typeof x === 'number') : []);
}
