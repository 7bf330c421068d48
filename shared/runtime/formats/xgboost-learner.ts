// The part of an XGBoost model document every booster shares (gbtree, dart, gblinear): the format
// version, objective, num_feature, output groups, feature names and the intercept (`base_score`,
// turned into margins), with the typed readers for the document's fields. The document is what
// decodeXgboostJson (xgboost-json.ts) or decodeUbjson (ubjson.ts) returns; the booster parsers are
// xgboost-json.ts (trees) and xgboost-gblinear.ts (linear booster).

import { fileText } from '../../errors/file-text.js';
import { ModelFormatError, UnknownObjectiveError } from '../../errors/grove-error.js';
import { declaredCount, LIMITS } from '../limits.js';
import { baseScoreToMargin, type XgbObjective, xgboostLink, xgboostObjective } from './xgboost-objectives.js';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

export function field(o: Obj, key: string, where: string): unknown {
  if (!Object.hasOwn(o, key)) throw new ModelFormatError(`XGBoost model: ${where} has no '${key}'`);
  return o[key];
}

export function objField(o: Obj, key: string, where: string): Obj {
  const v = field(o, key, where);
  if (!isObj(v)) throw new ModelFormatError(`XGBoost model: ${where}.${key} is not an object`);
  return v;
}

/** A number written as a number or a numeric string (XGBoost stores parameters as strings). */
export function num(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (!Number.isNaN(n) || v.trim() === 'NaN') return n;
  }
  throw new ModelFormatError(`XGBoost model: ${where} is not a number (${fileText(v)})`);
}

/**
 * A numeric array: a JSON array (null = NaN, booleans = 0/1) or a typed array from UBJSON, always
 * returned as a Float64Array so the loops reading it stay monomorphic (mixed typed-array kinds made
 * UBJSON parsing 2x slower).
 */
export function numList(o: Obj, key: string, where: string, length?: number): Float64Array {
  const v = field(o, key, where);
  let list: Float64Array;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const t = v as unknown as ArrayLike<number | bigint>;
    list =
      v instanceof Float64Array
        ? v
        : typeof t[0] === 'bigint'
          ? Float64Array.from(t, Number)
          : new Float64Array(t as ArrayLike<number>);
  } else if (Array.isArray(v)) {
    const a = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const e = v[i];
      a[i] =
        typeof e === 'number'
          ? e
          : e === null
            ? Number.NaN
            : typeof e === 'boolean'
              ? e
                ? 1
                : 0
              : num(e, `${where}.${key}[${i}]`);
    }
    list = a;
  } else {
    throw new ModelFormatError(`XGBoost model: ${where}.${key} is not an array`);
  }
  if (length !== undefined && list.length !== length) {
    throw new ModelFormatError(
      `XGBoost model: ${where}.${key} has ${list.length} entries, expected ${length}`,
    );
  }
  return list;
}

/** `base_score`: "5E-1" (1.x), "[5E-1]" (2.x) or "[a,b,c]" (3.1+, per class / target). */
export function parseBaseScore(v: unknown): number[] {
  if (typeof v === 'number') return [v];
  if (typeof v !== 'string')
    throw new ModelFormatError('XGBoost model: base_score is not a string or number');
  const s = v.trim();
  const inner = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const parts = inner.split(',').map((p, i) => num(p.trim(), `base_score[${i}]`));
  if (parts.length === 0) throw new ModelFormatError('XGBoost model: base_score is empty');
  return parts;
}

/** What the learner says about the model, whatever its booster. */
export interface XgbLearner {
  learner: Obj;
  /** [major, minor, patch]; [1, 0, 0] when the file has none. */
  version: number[];
  objName: string;
  obj: XgbObjective;
  numFeatures: number;
  /** Margin columns: num_class, else num_target, at least 1. */
  numGroups: number;
  /** `learner.gradient_booster` and its `name` ('gbtree', 'dart', 'gblinear'). */
  booster: Obj;
  boosterName: string;
  /** From the file's feature_names when it has one per feature, else null. */
  featureNames: string[] | null;
  /** Class labels 0..n-1 for binary (2) and multiclass objectives, else null. */
  classes: number[] | null;
}

export function readLearner(doc: unknown): XgbLearner {
  if (!isObj(doc) || !isObj(doc.learner)) {
    throw new ModelFormatError("not an XGBoost model: the document has no 'learner' object");
  }
  const version =
    Array.isArray(doc.version) || ArrayBuffer.isView(doc.version)
      ? Array.from(doc.version as ArrayLike<number>, Number)
      : [1, 0, 0];
  const learner = doc.learner;
  const mparam = objField(learner, 'learner_model_param', 'learner');
  const objective = objField(learner, 'objective', 'learner');
  const objName = String(field(objective, 'name', 'learner.objective'));
  const obj = xgboostObjective(objName);
  if (!obj) throw new UnknownObjectiveError(objName, 'XGBoost');

  const numFeatures = declaredCount(
    num(field(mparam, 'num_feature', 'learner_model_param'), 'num_feature'),
    LIMITS.features,
    'XGBoost model: num_feature',
  );
  const numClass = Object.hasOwn(mparam, 'num_class')
    ? declaredCount(num(mparam.num_class, 'num_class'), LIMITS.outputs, 'XGBoost model: num_class')
    : 0;
  const numTarget = Object.hasOwn(mparam, 'num_target')
    ? declaredCount(num(mparam.num_target, 'num_target'), LIMITS.outputs, 'XGBoost model: num_target')
    : 1;
  const numGroups = Math.max(1, numClass > 0 ? numClass : numTarget);
  const booster = objField(learner, 'gradient_booster', 'learner');
  const boosterName = String(field(booster, 'name', 'gradient_booster'));
  const names = learner.feature_names;
  const featureNames =
    Array.isArray(names) && names.length === numFeatures && names.length > 0
      ? names.map((n) => String(n).slice(0, LIMITS.nameLength))
      : null;
  const classCount = obj.task === 'binary' ? 2 : obj.task === 'multiclass' ? numGroups : 0;
  const classes = classCount > 0 ? Array.from({ length: classCount }, (_, i) => i) : null;
  return {
    learner,
    version,
    objName,
    obj,
    numFeatures,
    numGroups,
    booster,
    boosterName,
    featureNames,
    classes,
  };
}

/**
 * The intercept per margin column, in margin space: `base_score` through the objective's
 * ProbToMargin in float32 (src/learner.cc); one value for every column, or one per column (3.1+).
 */
export function learnerBaseMargin(h: XgbLearner): Float64Array {
  const mparam = objField(h.learner, 'learner_model_param', 'learner');
  const scores = parseBaseScore(field(mparam, 'base_score', 'learner_model_param'));
  if (scores.length !== 1 && scores.length !== h.numGroups) {
    throw new ModelFormatError(
      `XGBoost model: base_score has ${scores.length} values for ${h.numGroups} outputs`,
    );
  }
  const link = xgboostLink(h.objName, h.obj, h.version);
  const baseMargin = new Float64Array(h.numGroups);
  for (let k = 0; k < h.numGroups; k++) {
    const score = scores[scores.length === 1 ? 0 : k] as number;
    baseMargin[k] = baseScoreToMargin(score, link);
    // XGBoost refuses such a base_score at load (CheckIntercept); 0 and 1 give ±Infinity, as there
    if (Number.isNaN(baseMargin[k]))
      throw new ModelFormatError(`XGBoost model: base_score ${score} is outside what ${h.objName} accepts`);
  }
  return baseMargin;
}
