// Every command the README and docs/ show must exist: each `grove <command>` in a code block or
// inline code span is a real subcommand and each of its --flags appears in that command's --help;
// each `npm run <script>` is a script in package.json. Documentation that drifts from the CLI
// fails here instead of in a newcomer's shell.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const grove = join(root, 'dist', 'cli', 'grove.js');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Code blocks and inline code spans of a Markdown page, one string per line of code. */
function codeLines(markdown: string): string[] {
  const out: string[] = [];
  let inBlock = false;
  let block: string[] = [];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      if (inBlock) {
        // Join shell continuation lines so flags stay with their command.
        out.push(
          ...block
            .join('\n')
            .replace(/\\\n\s*/g, ' ')
            .split('\n'),
        );
        block = [];
      }
      inBlock = !inBlock;
      continue;
    }
    if (inBlock) block.push(line);
    else for (const m of line.matchAll(/`([^`]+)`/g)) out.push(m[1]!);
  }
  return out;
}

interface Use {
  page: string;
  command: string;
  flags: string[];
  text: string;
}

function groveUses(): Use[] {
  const uses: Use[] = [];
  for (const page of pages) {
    for (const line of codeLines(readFileSync(join(root, page), 'utf8'))) {
      // A command ends at a pipe, a shell operator, or a comment.
      for (const part of line.split(/\||&&|;|\s#\s/)) {
        const m = /(?:^|\s|\$\()(?:npx )?grove ([a-z][a-z-]*)(.*)$/.exec(part);
        if (!m) continue;
        const flags = [...m[2]!.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]!);
        uses.push({ page, command: m[1]!, flags, text: part.trim() });
      }
    }
  }
  return uses;
}

const helps = new Map<string, string>();
function help(command: string): { status: number | null; text: string } {
  if (!helps.has(command)) {
    const r = spawnSync(process.execPath, [grove, command, '--help'], { encoding: 'utf8', timeout: 20_000 });
    helps.set(command, JSON.stringify({ status: r.status, text: `${r.stdout}${r.stderr}` }));
  }
  return JSON.parse(helps.get(command)!);
}

describe('README and docs/ commands', () => {
  const uses = groveUses();

  it('show grove commands at all (the extraction works)', () => {
    const commands = new Set(uses.map((u) => u.command));
    for (const c of ['serve', 'split', 'loadtest', 'predict', 'compare', 'profile', 'gateway', 'worker']) {
      expect(commands, c).toContain(c);
    }
  });

  it('use only grove subcommands and flags that exist', () => {
    const problems: string[] = [];
    for (const use of uses) {
      const { status, text } = help(use.command);
      if (status !== 0 || !/usage/i.test(text)) {
        problems.push(`${use.page}: 'grove ${use.command}' is not a command (${use.text})`);
        continue;
      }
      for (const flag of use.flags) {
        if (!new RegExp(`${flag}\\b`).test(text))
          problems.push(`${use.page}: grove ${use.command} has no ${flag} (${use.text})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('use only npm scripts that exist', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
        .scripts,
    );
    const problems: string[] = [];
    for (const page of pages) {
      for (const line of codeLines(readFileSync(join(root, page), 'utf8'))) {
        for (const m of line.matchAll(/npm run ([a-z][a-z:-]*)/g)) {
          if (!scripts.includes(m[1]!)) problems.push(`${page}: npm run ${m[1]}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
