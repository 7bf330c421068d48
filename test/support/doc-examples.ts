// The shell examples of README.md and docs/ as test/integration/doc-examples.test.ts runs them:
// which fenced blocks are examples, how a block splits into commands and the output each one shows,
// and how a shown output is compared with a printed one. The conventions are a page's reader's
// (docs/cli.md, "Examples in these pages are tested"): a command's `#` lines right after it are its
// output, `...` is any text, a number matches at the digits it is shown with.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

export interface Command {
  /** 1-based line in the page where the command starts. */
  line: number;
  /** The command as bash reads it (continuation lines kept). */
  text: string;
  /** Shown output lines (without the `# `), empty when none is shown. */
  shown: string[];
}

export interface Example {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** What the block's `# needs: ...` mark says it needs; null when it is run. */
  needs: string | null;
  commands: Command[];
}

/** README.md and every Markdown page under docs/ (sub-folders too), relative to root. */
export function docPages(root: string): string[] {
  const pages = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) pages.push(relative(root, path));
    }
  };
  walk(join(root, 'docs'));
  return pages;
}

interface Fence {
  lang: string;
  line: number;
  body: string[];
  /** Lines between the previous fence's end and this one's start, all blank. */
  adjacent: boolean;
}

function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  const lines = markdown.split('\n');
  let open: Fence | null = null;
  let lastEnd = -2;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^\s*```\s*([A-Za-z0-9_-]*)/.exec(line);
    if (open) {
      if (/^\s*```\s*$/.test(line)) {
        out.push(open);
        open = null;
        lastEnd = i;
      } else open.body.push(line);
    } else if (m) {
      const between = lines.slice(lastEnd + 1, i);
      open = {
        lang: m[1]!.toLowerCase(),
        line: i + 1,
        body: [],
        adjacent: lastEnd >= 0 && between.every((l) => l.trim() === ''),
      };
    }
  }
  return out;
}

/**
 * Whether a command's text is complete: no open quote, no trailing backslash. Comments (a `#`
 * starting a word outside quotes) end the scan of their line.
 */
function complete(text: string): boolean {
  let quote: "'" | '"' | null = null;
  let wordStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      continue;
    }
    if (quote === '"') {
      if (c === '\\') i++;
      else if (c === '"') quote = null;
      continue;
    }
    if (c === '\\') {
      if (i === text.length - 1) return false;
      i++;
      wordStart = false;
      continue;
    }
    if (c === '#' && wordStart) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) return true;
      i = nl;
      wordStart = true;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    wordStart = /[\s;&|()]/.test(c);
  }
  return quote === null;
}

function commentText(line: string): string {
  return line.trimStart().replace(/^# ?/, '');
}

/** A shell block's commands and their shown outputs. */
export function parseBlock(body: string[], firstLine: number): { needs: string | null; commands: Command[] } {
  const firstText = body.find((l) => l.trim() !== '');
  const mark = firstText === undefined ? null : /^\s*#\s*needs:\s*(\S.*)$/.exec(firstText);
  if (mark) return { needs: mark[1]!.trim(), commands: [] };
  const commands: Command[] = [];
  let current: Command | null = null;
  let open: Command | null = null;
  for (let i = 0; i < body.length; i++) {
    const line = body[i]!;
    if (open) {
      open.text += `\n${line}`;
      if (complete(open.text)) open = null;
      continue;
    }
    if (line.trim() === '') {
      current = null;
      continue;
    }
    if (line.trimStart().startsWith('#')) {
      current?.shown.push(commentText(line));
      continue;
    }
    current = { line: firstLine + 1 + i, text: line, shown: [] };
    commands.push(current);
    if (!complete(line)) open = current;
  }
  return { needs: null, commands };
}

/** The shell examples of one page. */
export function pageExamples(root: string, page: string): Example[] {
  const all = fences(readFileSync(join(root, page), 'utf8'));
  const out: Example[] = [];
  for (let k = 0; k < all.length; k++) {
    const f = all[k]!;
    if (!SHELL_LANGS.has(f.lang)) continue;
    const { needs, commands } = parseBlock(f.body, f.line);
    // A `text` block right after a shell block is what the block's last command prints.
    const next = all[k + 1];
    const last = commands.at(-1);
    if (next && next.lang === 'text' && next.adjacent && last && last.shown.length === 0) {
      last.shown = next.body.slice();
      while (last.shown.length > 0 && last.shown.at(-1)!.trim() === '') last.shown.pop();
    }
    out.push({ page, line: f.line, needs, commands });
  }
  return out;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether a printed number is the shown one at the digits shown (rounded, not truncated). */
export function numberMatches(shown: string, printed: string): boolean {
  const s = Number(shown);
  const p = Number(printed);
  if (!Number.isFinite(s) || !Number.isFinite(p)) return shown === printed;
  const exp = /[eE]([-+]?\d+)$/.exec(shown);
  const mantissa = shown.replace(/[eE].*$/, '');
  const decimals = mantissa.includes('.') ? mantissa.length - mantissa.indexOf('.') - 1 : 0;
  const unit = 10 ** ((exp ? Number(exp[1]) : 0) - decimals);
  // Half a unit of the last shown digit, and a hair more for binary floating point.
  return Math.abs(p - s) <= unit / 2 + Math.abs(s) * 1e-12;
}

/** Whether one printed line matches one shown line (`...` any text, numbers at their digits). */
export function lineMatches(shown: string, printed: string): boolean {
  const numbers: string[] = [];
  const pieces = shown
    .trimEnd()
    .split('...')
    .map((part) => {
      let piece = '';
      let last = 0;
      for (const m of part.matchAll(NUMBER)) {
        // The whole printed number, never a part of it: 10 does not pass for a shown 1.
        piece += `${escapeRegExp(part.slice(last, m.index))}(?<!\\d)(${NUMBER.source})(?![\\d])`;
        numbers.push(m[0]);
        last = m.index! + m[0].length;
      }
      return piece + escapeRegExp(part.slice(last));
    });
  const m = new RegExp(`^${pieces.join('.*?')}$`).exec(printed.trimEnd());
  if (!m) return false;
  return numbers.every((n, i) => numberMatches(n, m[i + 1]!));
}

/**
 * Whether printed output matches the shown lines: in order, from the first printed line, a `...`
 * line standing for any lines (none included); without a final `...` nothing more may be printed.
 * Returns null on a match, else what went wrong.
 */
export function outputMismatch(shown: string[], printed: string): string | null {
  const lines = printed.replace(/\n$/, '').split('\n');
  const go = (s: number, p: number): boolean => {
    if (s === shown.length) return p === lines.length;
    if (shown[s]!.trim() === '...') {
      for (let q = p; q <= lines.length; q++) if (go(s + 1, q)) return true;
      return false;
    }
    return p < lines.length && lineMatches(shown[s]!, lines[p]!) && go(s + 1, p + 1);
  };
  if (go(0, 0)) return null;
  return `shown:\n${shown.join('\n')}\nprinted:\n${printed.slice(0, 4000)}`;
}
