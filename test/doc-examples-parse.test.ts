// How test/integration/doc-examples.test.ts reads a page (test/support/doc-examples.ts): which lines
// are commands and which their shown output, the `# needs:` mark, and the output comparison
// (numbers at the digits shown, `...` as any text or any lines).
import { describe, expect, it } from 'vitest';
import { lineMatches, numberMatches, outputMismatch, parseBlock } from './support/doc-examples.js';

describe('parseBlock', () => {
  it('splits commands, joins continuations and open quotes, and keeps the # lines right after a command as its output', () => {
    const { needs, commands } = parseBlock(
      [
        '# prose before any command',
        "curl -s x -d '{",
        '  "a": 1}\'',
        '# {"b":2}',
        '',
        '# prose after a blank line',
        'npx grove split churn 1=90 \\',
        '  2=10   # a trailing comment',
        '# churn: version 1 90%',
        'echo "a # not a comment',
        'b"',
      ],
      10,
    );
    expect(needs).toBeNull();
    expect(commands).toEqual([
      { line: 12, text: 'curl -s x -d \'{\n  "a": 1}\'', shown: ['{"b":2}'] },
      {
        line: 17,
        text: 'npx grove split churn 1=90 \\\n  2=10   # a trailing comment',
        shown: ['churn: version 1 90%'],
      },
      { line: 20, text: 'echo "a # not a comment\nb"', shown: [] },
    ]);
  });

  it('runs nothing of a block marked # needs: on its first line', () => {
    expect(parseBlock(['# needs: Docker', 'docker-compose up'], 1)).toEqual({
      needs: 'Docker',
      commands: [],
    });
    // A mark further down is a comment, not a way to skip the block.
    expect(parseBlock(['echo hi', '# needs: Docker'], 1).needs).toBeNull();
  });
});

describe('shown output', () => {
  it('matches a number at the digits shown, rounded', () => {
    expect(numberMatches('0.9983', '0.9983323415606864')).toBe(true);
    expect(numberMatches('0.9984', '0.9983323415606864')).toBe(false);
    expect(numberMatches('0.998', '0.9975')).toBe(true);
    expect(numberMatches('23', '23.4')).toBe(true);
    expect(numberMatches('23', '24')).toBe(false);
  });

  it('compares text exactly, numbers whole, ... as any text', () => {
    expect(lineMatches('{"predictions":[0.8094]}', '{"predictions":[0.8093931904141037]}')).toBe(true);
    expect(lineMatches('{"predictions":[0.8094]}', '{"predictions":[0.8093931904141037],"x":1}')).toBe(false);
    expect(lineMatches('version 1 90%', 'version 10 90%')).toBe(false);
    expect(lineMatches('version 1 90%', 'version 1 90%')).toBe(true);
    expect(lineMatches('requests ... (... req/s)', 'requests 359 (55.0 req/s)')).toBe(true);
    expect(lineMatches('grove_build_info{version="0.1.0"} 1', 'grove_build_info{version="0.1.0"} 1')).toBe(
      true,
    );
    expect(lineMatches('grove_build_info{version="0.1.0"} 1', 'grove_build_info{version="0.2.0"} 1')).toBe(
      false,
    );
  });

  it('matches lines in order from the first, a ... line standing for any lines', () => {
    expect(outputMismatch(['a', '...'], 'a\nb\nc\n')).toBeNull();
    expect(outputMismatch(['a', '...', 'c'], 'a\nc\n')).toBeNull();
    expect(outputMismatch(['a'], 'a\nb\n')).not.toBeNull();
    expect(outputMismatch(['b'], 'a\nb\n')).not.toBeNull();
    expect(outputMismatch(['exit 2'], 'exit 1\n')).not.toBeNull();
  });
});
