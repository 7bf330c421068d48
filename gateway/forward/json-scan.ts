// Finds where JSON values start and end in a text without building them, so the coalescer can cut
// a merged answer into per-client answers by slicing its text (no parse and re-encode of every
// number). The scanner checks structure (brackets, strings, commas) but not number syntax: it runs
// on texts the caller has validated or will validate (a worker's answer, a body JSON.parse took).

/** Skips spaces, tabs and line ends. */
export function ws(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** `i` at a '"': the index after the closing quote, or -1. */
export function skipString(s: string, i: number): number {
  i++;
  for (;;) {
    const q = s.indexOf('"', i);
    if (q < 0) return -1;
    let b = q - 1;
    while (s.charCodeAt(b) === 92 /* '\' */) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/** `i` at a value's first character: the index after it, or -1. */
export function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 34) return skipString(s, i);
  if (c === 123 || c === 91) {
    const close = c === 123 ? 125 : 93;
    i = ws(s, i + 1);
    if (s.charCodeAt(i) === close) return i + 1;
    for (;;) {
      if (c === 123) {
        if (s.charCodeAt(i) !== 34) return -1;
        i = ws(s, skipString(s, i));
        if (i < 0 || s.charCodeAt(i) !== 58) return -1;
        i = ws(s, i + 1);
      }
      i = skipValue(s, i);
      if (i < 0) return -1;
      i = ws(s, i);
      const d = s.charCodeAt(i);
      if (d === close) return i + 1;
      if (d !== 44) return -1;
      i = ws(s, i + 1);
    }
  }
  // A number or a literal: runs to the next delimiter.
  const start = i;
  for (;;) {
    const d = s.charCodeAt(i);
    if (Number.isNaN(d) || d === 44 || d === 93 || d === 125 || d === 32 || d === 10 || d === 13 || d === 9)
      return i > start ? i : -1;
    i++;
  }
}

export interface Member {
  /** The key's raw text between its quotes (escapes not decoded). */
  key: string;
  start: number;
  end: number;
}

/** The members of the object at `i` (a '{'), in order, with their value spans; null if malformed. */
export function objectMembers(s: string, i: number): Member[] | null {
  if (s.charCodeAt(i) !== 123) return null;
  const out: Member[] = [];
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 125) return out;
  for (;;) {
    if (s.charCodeAt(i) !== 34) return null;
    const ke = skipString(s, i);
    if (ke < 0) return null;
    const key = s.slice(i + 1, ke - 1);
    i = ws(s, ke);
    if (s.charCodeAt(i) !== 58) return null;
    i = ws(s, i + 1);
    const ve = skipValue(s, i);
    if (ve < 0) return null;
    out.push({ key, start: i, end: ve });
    i = ws(s, ve);
    const d = s.charCodeAt(i);
    if (d === 125) return out;
    if (d !== 44) return null;
    i = ws(s, i + 1);
  }
}

/** The last member named `key` (JSON.parse keeps the last of repeated keys), or undefined. */
export function member(ms: readonly Member[], key: string): Member | undefined {
  for (let i = ms.length - 1; i >= 0; i--) if (ms[i]!.key === key) return ms[i];
  return undefined;
}

/** Start and end offsets of each element of the array at `i` (a '['), flat [s0, e0, s1, e1...]; null if malformed. */
export function arrayElements(s: string, i: number): number[] | null {
  if (s.charCodeAt(i) !== 91) return null;
  const out: number[] = [];
  i = ws(s, i + 1);
  if (s.charCodeAt(i) === 93) return out;
  for (;;) {
    const e = skipValue(s, i);
    if (e < 0) return null;
    out.push(i, e);
    i = ws(s, e);
    const d = s.charCodeAt(i);
    if (d === 93) return out;
    if (d !== 44) return null;
    i = ws(s, i + 1);
  }
}
