import { describe, expect, it } from 'vitest';
import { lineChart } from './line-chart.js';
import { assertWellFormed } from './well-formed.test-helper.js';

describe('lineChart', () => {
  it('draws one polyline per series with one vertex per point, in x order', () => {
    const svg = lineChart({
      title: 'throughput',
      xLabel: 'seconds',
      yLabel: 'requests/s',
      series: [
        {
          name: 'gateway',
          points: [
            [3, 30],
            [1, 10],
            [2, 20],
          ],
        },
        {
          name: 'nginx',
          points: [
            [1, 5],
            [2, 6],
            [3, 7],
          ],
        },
      ],
    });
    assertWellFormed(svg);
    const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]+)"/g)].map((m) => m[1]!.split(' '));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toHaveLength(3);
    const xs = lines[0]!.map((p) => Number(p.split(',')[0]));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    // Higher values sit higher on screen (smaller y).
    const ys = lines[0]!.map((p) => Number(p.split(',')[1]));
    expect(ys[0]).toBeGreaterThan(ys[2]!);
    expect(svg).toContain('>gateway<');
    expect(svg).toContain('>requests/s<');
  });

  it('breaks the line at non-finite points instead of drawing them', () => {
    const svg = lineChart({
      title: 't',
      series: [
        {
          name: 's',
          points: [
            [0, 1],
            [1, 2],
            [2, Number.NaN],
            [3, 3],
            [4, 4],
          ],
        },
      ],
    });
    assertWellFormed(svg);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).not.toContain('NaN"');
  });

  it('escapes user text and renders a placeholder without data', () => {
    const svg = lineChart({ title: 'a <b> & "c"', series: [{ name: '<x>', points: [] }] });
    assertWellFormed(svg);
    expect(svg).toContain('no data');
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;');
  });
});
