// Dependency-free SVG charts for grove's reports (the load-test suite, `grove compare --html`).
// Each function returns a standalone `<svg>` string: inline it in HTML or write it to a .svg file.
//
//   import { lineChart, groupedBarChart, histogram, binValues } from '../cli/charts/index.js';
//   groupedBarChart({ title: 'p99 latency', yLabel: 'ms', categories: ['direct', 'gateway'],
//                     series: [{ name: 'p50', values: [0.4, 0.6] }, { name: 'p99', values: [1.2, 1.9] }] });
//   lineChart({ title: 'requests/s', xLabel: 's', series: [{ name: 'gateway', points: [[1, 9000], [2, 9400]] }] });
//   histogram({ title: 'predictions', ...binValues(values, 20) -> { edges, series: [{ name, counts }] } });
export { type BarSeries, type GroupedBarChartOptions, groupedBarChart } from './bar-chart.js';
export type { ChartBase } from './frame.js';
export { type Bins, binValues, type HistogramOptions, type HistogramSeries, histogram } from './histogram.js';
export { type LineChartOptions, type LineSeries, lineChart } from './line-chart.js';
export { extent, type LinearScale, linearScale, niceStep } from './scale.js';
export { escapeXml, formatNumber, PALETTE } from './svg.js';
