// chart.js charts of a run. Animation is off so a chart is complete when it is first drawn; each chart reports
// that through the onRendered callback (used for the panel's "rendered" message and the render-time benchmark).
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Title, Tooltip,
  type ChartConfiguration, type ChartDataset, type Plugin,
} from 'chart.js';
import { formatNumber, formatOverhead, formatValue, shownAsDifference, type Group, type OverheadRow, type SeriesLine } from './run-data';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Title, Tooltip);

export interface Theme {
  foreground: string;
  grid: string;
  background: string;
  font: string;
  palette: string[];
}

/** Colours from the page's CSS variables (VS Code theme colours in a webview, fallbacks in the HTML report). */
export function readTheme(el: HTMLElement = document.body): Theme {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    foreground: v('--hs-foreground', '#333333'),
    grid: v('--hs-grid', 'rgba(128,128,128,0.25)'),
    background: v('--hs-background', '#ffffff'),
    font: v('--hs-font', 'sans-serif'),
    palette: [1, 2, 3, 4, 5, 6].map((i) => v(`--hs-series-${i}`, ['#3794ff', '#d18616', '#388a34', '#e51400', '#652d90', '#bf8803'][i - 1])),
  };
}

/** A colour with transparency; accepts #rgb, #rrggbb and rgb()/rgba() notations. */
function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join('') : hex[1];
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  const rgb = /^rgba?\(([^)]+)\)$/.exec(color);
  if (rgb) {
    const [r, g, b] = rgb[1].split(/[\s,/]+/);
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return color;
}

export interface ChartHooks {
  theme: Theme;
  /** Called once per chart, after its first complete drawing. */
  onRendered: (chart: Chart) => void;
}

function renderedPlugin(hooks: ChartHooks): Plugin {
  let reported = false;
  return {
    id: 'hsRendered',
    afterRender: (chart) => {
      if (reported) return;
      reported = true;
      // A canvas is opaque to screen readers: describe the chart with its title and legend.
      const title = chart.options.plugins?.title?.text;
      const legend = chart.legend?.legendItems?.map((i) => i.text) ?? [];
      chart.canvas.setAttribute('aria-label', `${Array.isArray(title) ? title.join(' ') : title ?? 'Chart'}. Legend: ${legend.join(', ')}`);
      hooks.onRendered(chart);
    },
  };
}

/** Paints the theme background under the chart, so a saved image looks like the panel. */
function backgroundPlugin(theme: Theme): Plugin {
  return {
    id: 'hsBackground',
    beforeDraw: (chart) => {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
}

const numericTick = (value: number | string) => (typeof value === 'number' ? formatNumber(value) : value);

function baseOptions(theme: Theme, title: string, yTitle: string): NonNullable<ChartConfiguration['options']> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    color: theme.foreground,
    font: { family: theme.font },
    plugins: {
      title: { display: true, text: title, color: theme.foreground },
      legend: { labels: { color: theme.foreground, usePointStyle: true } },
      tooltip: { intersect: false },
    },
    scales: {
      x: { ticks: { color: theme.foreground }, grid: { color: theme.grid } },
      // Our own number format: chart.js would build an Intl.NumberFormat per axis, a large share of drawing time.
      y: { title: { display: true, text: yTitle, color: theme.foreground }, ticks: { color: theme.foreground, callback: numericTick }, grid: { color: theme.grid } },
    },
  };
}

function create(canvas: HTMLCanvasElement, config: ChartConfiguration, hooks: ChartHooks): Chart {
  config.plugins = [...(config.plugins ?? []), backgroundPlugin(hooks.theme), renderedPlugin(hooks)];
  return new Chart(canvas, config);
}

/**
 * Every repetition as a point, the median as a bar-wide mark and the interquartile range as a floating bar, per
 * mode x placement group. `colorIndex` picks each group's palette colour (by mode, or by run when comparing).
 */
export function spreadChart(canvas: HTMLCanvasElement, title: string, groups: Group[], colorIndex: (g: Group, i: number) => number, hooks: ChartHooks): Chart {
  const { theme } = hooks;
  const colors = groups.map((g, i) => theme.palette[colorIndex(g, i) % theme.palette.length]);
  const unit = groups[0]?.unit ?? '';
  const better = groups[0]?.better === 'lower' ? 'lower is better' : 'higher is better';
  const datasets: ChartDataset[] = [
    {
      type: 'bar',
      label: 'Interquartile range',
      data: groups.map((g) => (g.q1 !== undefined && g.q3 !== undefined ? [g.q1, g.q3] : null)) as unknown as number[],
      backgroundColor: colors.map((c) => withAlpha(c, 0.25)),
      borderColor: colors,
      borderWidth: 1,
      barPercentage: 0.5,
      order: 3,
    },
    {
      type: 'line',
      label: 'Repetitions',
      data: groups.flatMap((g) => g.values.map((v) => ({ x: g.label, y: v.value }))) as unknown as number[],
      showLine: false,
      pointRadius: 3,
      pointHoverRadius: 5,
      pointBackgroundColor: groups.flatMap((g, i) => g.values.map(() => colors[i])),
      pointBorderColor: theme.foreground,
      pointBorderWidth: 0.5,
      order: 1,
    },
    {
      type: 'line',
      label: 'Median',
      data: groups.map((g) => ({ x: g.label, y: g.median ?? null })) as unknown as number[],
      showLine: false,
      pointStyle: 'line',
      pointRadius: 18,
      pointHoverRadius: 18,
      pointBorderWidth: 3,
      pointBorderColor: theme.foreground,
      borderColor: theme.foreground,
      order: 2,
    },
  ];
  const options = baseOptions(theme, title, `${unit} (${better})`);
  // Zoom to the data: the spread between repetitions is what this chart is for.
  options.scales = { ...options.scales, y: { ...options.scales?.y, beginAtZero: false, grace: '10%' } };
  const repetitions = groups.flatMap((g) => g.values.map((v) => v.repetition));
  options.plugins = { ...options.plugins, tooltip: { intersect: false, callbacks: { label: (c) => {
    const g = groups[c.dataIndex];
    if (c.datasetIndex === 0) return g?.q1 !== undefined && g.q3 !== undefined ? `IQR ${formatNumber(g.q1)} – ${formatValue(g.q3, unit)}` : '';
    if (c.datasetIndex === 2) return `median ${formatValue(c.parsed.y ?? NaN, unit)}`;
    return `repetition ${repetitions[c.dataIndex]}: ${formatValue(c.parsed.y ?? NaN, unit)}`;
  } } } };
  return create(canvas, { type: 'bar', data: { labels: groups.map((g) => g.label), datasets }, options }, hooks);
}

/** Overhead of the model path relative to direct, per benchmark (headline metric) and placement. */
export function overheadChart(canvas: HTMLCanvasElement, title: string, sets: Array<{ label: string; rows: OverheadRow[] }>, hooks: ChartHooks): Chart {
  const { theme } = hooks;
  const benchmarks = [...new Set(sets.flatMap((s) => s.rows.map((r) => `${r.benchmark} ${r.metric}`)))];
  // One series per placement (and arm, on an A/B run of hypervisor builds).
  const series = sets.flatMap((s) => [...new Map(s.rows.map((r) => [`${r.placement}\0${r.arm ?? ''}`, r])).values()].map(({ placement, arm }) => {
    const name = arm === undefined ? placement : `${placement} · ${arm}`;
    return { label: s.label ? `${s.label} · ${name}` : name, placement, arm, rows: s.rows };
  }));
  const rowsOf = series.map((s) => benchmarks.map((b) => s.rows.find((r) => `${r.benchmark} ${r.metric}` === b && r.placement === s.placement && r.arm === s.arm)));
  const datasets: ChartDataset[] = series.map((s, i) => ({
    type: 'bar',
    label: s.label,
    data: rowsOf[i].map((r) => r?.overheadPercent ?? null) as number[],
    // Drawn faint unless the interval tells it from zero (an interval with 0 in it, or none from too few rounds).
    backgroundColor: rowsOf[i].map((r) => withAlpha(theme.palette[i % theme.palette.length], r && shownAsDifference(r) ? 0.7 : 0.2)),
    borderColor: theme.palette[i % theme.palette.length],
    borderWidth: 1,
  }));
  const options = baseOptions(theme, title, 'overhead % (positive = model path worse)');
  // Room for the whiskers: chart.js scales to the bars only.
  const bounds = rowsOf.flat().flatMap((r) => r?.ci95 ?? []);
  if (bounds.length) options.scales = { ...options.scales, y: { ...options.scales?.y, suggestedMin: Math.min(0, ...bounds), suggestedMax: Math.max(0, ...bounds) } };
  options.plugins = { ...options.plugins, tooltip: { intersect: false, callbacks: { label: (c) => {
    const r = rowsOf[c.datasetIndex]?.[c.dataIndex];
    return r ? `${c.dataset.label}: ${formatOverhead(r)}` : '';
  } } } };
  return create(canvas, { type: 'bar', data: { labels: benchmarks, datasets }, options, plugins: [ciWhiskers(rowsOf, theme)] }, hooks);
}

/** Draws each bar's 95 % interval as a whisker with caps, only when the summary has one (never with too few rounds). */
function ciWhiskers(rowsOf: Array<Array<OverheadRow | undefined>>, theme: Theme): Plugin {
  return {
    id: 'hsCiWhiskers',
    afterDatasetsDraw: (chart) => {
      const { ctx } = chart;
      const y = chart.scales.y;
      ctx.save();
      ctx.strokeStyle = theme.foreground;
      ctx.lineWidth = 1.5;
      rowsOf.forEach((rows, di) => {
        const meta = chart.getDatasetMeta(di);
        if (meta.hidden) return;
        rows.forEach((r, i) => {
          const bar = meta.data[i];
          if (!r?.ci95 || !bar) return;
          const [top, bottom] = [y.getPixelForValue(r.ci95[1]), y.getPixelForValue(r.ci95[0])];
          const cap = 5;
          ctx.beginPath();
          ctx.moveTo(bar.x, top);
          ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - cap, top);
          ctx.lineTo(bar.x + cap, top);
          ctx.moveTo(bar.x - cap, bottom);
          ctx.lineTo(bar.x + cap, bottom);
          ctx.stroke();
        });
      });
      ctx.restore();
    },
  };
}

/** Per-interval values over time, one line per mode x placement. */
export function seriesChart(canvas: HTMLCanvasElement, title: string, lines: SeriesLine[], hooks: ChartHooks): Chart {
  const { theme } = hooks;
  const datasets: ChartDataset[] = lines.map((l, i) => ({
    type: 'line',
    label: l.label,
    data: l.points.map(([x, y]) => ({ x, y })) as unknown as number[],
    borderColor: theme.palette[i % theme.palette.length],
    backgroundColor: theme.palette[i % theme.palette.length],
    pointRadius: 0,
    borderWidth: 1.5,
    tension: 0,
  }));
  const options = baseOptions(theme, title, lines[0]?.unit ?? '');
  options.scales = {
    ...options.scales,
    x: { type: 'linear', title: { display: true, text: 'seconds since start', color: theme.foreground }, ticks: { color: theme.foreground, callback: numericTick }, grid: { color: theme.grid } },
  };
  options.plugins = { ...options.plugins, tooltip: { intersect: false, mode: 'index', callbacks: { label: (c) => `${c.dataset.label}: ${formatValue(c.parsed.y ?? NaN, lines[0]?.unit ?? '')}` } } };
  return create(canvas, { type: 'line', data: { datasets }, options }, hooks);
}
