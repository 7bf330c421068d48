import { describe, expect, it } from 'vitest';
import { groupedBarChart } from './bar-chart.js';
import { assertWellFormed } from './well-formed.test-helper.js';

function bars(svg: string): Array<{ x: number; y: number; h: number }> {
  return [
    ...svg.matchAll(/<rect class="bar" x="([\d.-]+)" y="([\d.-]+)" width="[\d.]+" height="([\d.]+)" fill/g),
  ].map((m) => ({
    x: Number(m[1]),
    y: Number(m[2]),
    h: Number(m[3]),
  }));
}

describe('groupedBarChart', () => {
  it('draws one bar per finite value, heights proportional to the values', () => {
    const svg = groupedBarChart({
      title: 'latency',
      yLabel: 'ms',
      categories: ['direct', 'gateway', 'nginx'],
      series: [
        { name: 'p50', values: [1, 2, 4] },
        { name: 'p99', values: [2, Number.NaN, 8] },
      ],
    });
    assertWellFormed(svg);
    const b = bars(svg);
    expect(b).toHaveLength(5);
    // p50 bars: 1, 2, 4 -> heights double.
    expect(b[1]!.h / b[0]!.h).toBeCloseTo(2, 1);
    expect(b[2]!.h / b[0]!.h).toBeCloseTo(4, 1);
    // Within a group the second series sits right of the first; groups go left to right.
    expect(b[3]!.x).toBeGreaterThan(b[0]!.x);
    expect(b[1]!.x).toBeGreaterThan(b[0]!.x);
    for (const c of ['direct', 'gateway', 'nginx', 'p50', 'p99']) expect(svg).toContain(`>${c}<`);
  });

  it('grows negative bars downward from the zero line', () => {
    const svg = groupedBarChart({
      title: 't',
      categories: ['a', 'b'],
      series: [{ name: 's', values: [5, -5] }],
    });
    assertWellFormed(svg);
    const [pos, neg] = bars(svg);
    expect(pos!.y + pos!.h).toBeCloseTo(neg!.y, 0);
  });

  it('renders a placeholder when there is nothing to draw', () => {
    const svg = groupedBarChart({ title: 't', categories: [], series: [] });
    assertWellFormed(svg);
    expect(svg).toContain('no data');
  });
});

describe('groupedBarChart category labels', () => {
  it('wraps names wider than their group onto several lines and keeps short ones on one', () => {
    const categories = [
      'gateway + 2 workers',
      'policy least-outstanding',
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
      'h',
    ];
    const svg = groupedBarChart({
      title: 't',
      width: 640,
      categories,
      series: [{ name: 's', values: categories.map(() => 1) }],
    });
    assertWellFormed(svg);
    expect(svg).toContain('<tspan');
    expect(svg).toMatch(/<tspan[^>]*>gateway<\/tspan>/);
    expect(svg).toMatch(/<tspan[^>]*>workers<\/tspan>/);
    expect(svg).toMatch(/>a<\/text>/);
    // 'least-outstanding' is one word wider than its group: set in a smaller font.
    expect(svg).toMatch(/font-size="(8|9|10|11)"><tspan[^>]*>policy<\/tspan><tspan[^>]*>least-outstanding</);
  });
});
