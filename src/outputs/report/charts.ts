// Hand-written SVG charts for the reports. Why not a chart library: the report must open from disk
// with no network, stay small and render without JavaScript. Inlining e.g. uPlot (~50 KB) or
// Chart.js (~200 KB) would need JavaScript to draw anything, could not be checked in Node tests
// without a browser, and would still need our own code for the per-endpoint data. The charts here
// are line/area and stacked-bar plots with nice axes and a reference line; a few lines of inline
// JavaScript add a hover read-out (data in a JSON block). Colours come from CSS classes, so the
// page's stylesheet (and its dark mode) styles them.
import { esc, fmtElapsed, fmtNum } from './format';
import { round1 } from '../../common/round';

export const W = 600;
export const H = 220;
const M = { left: 52, right: 14, top: 26, bottom: 30 };
const PLOT_W = W - M.left - M.right;

interface LineDef {
  label: string;
  cls: string;
  values: Array<number | null>;
  dashed?: boolean;
  /** Fill the area under the line. */
  area?: boolean;
}

interface BarDef {
  label: string;
  cls: string;
  values: number[];
}

interface ChartSpec {
  id: string;
  title: string;
  /** One sentence for screen readers: what the chart shows and its extremes. */
  summary: string;
  /** Bucket starts and ends, seconds from the first period. */
  from: number[];
  to: number[];
  span: number;
  unit: string;
  lines?: LineDef[];
  /** Stacked bars, bottom first. */
  bars?: BarDef[];
  ref?: { value: number; label: string };
  /** Vertical markers, e.g. where the breaker stopped the load (seconds from the first period). */
  marks?: Array<{ at: number; label: string }>;
  integer?: boolean;
  /** Shown in the plot when every value is zero or missing. */
  empty?: string;
  height?: number;
}

/** What the page's script needs for the hover read-out of one chart. */
export interface ChartData {
  x: number[];
  from: number[];
  to: number[];
  unit: string;
  series: Array<{ label: string; cls: string; values: Array<number | null> }>;
}

const c = (n: number) => round1(n).toString();

export function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}

const X_STEPS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400];

function xTicks(span: number, max = 7): number[] {
  const step = X_STEPS.find((s) => span / s <= max) ?? Math.ceil(span / max / 86400) * 86400;
  const ticks: number[] = [];
  for (let t = 0; t <= span + 1e-9; t += step) ticks.push(t);
  return ticks;
}

function yScale(dataMax: number, integer: boolean): { max: number; step: number } {
  if (!(dataMax > 0)) return { max: integer ? 2 : 1, step: integer ? 1 : 0.25 };
  let step = niceStep(dataMax / 4);
  if (integer) step = Math.max(1, Math.round(step));
  return { max: Math.ceil(dataMax / step - 1e-9) * step || step, step };
}

const fmtTick = (v: number, step: number) => fmtNum(v, step < 1 ? 2 : step < 10 && !Number.isInteger(step) ? 1 : 0);

export function renderChart(spec: ChartSpec): { svg: string; data: ChartData; refOnScale: boolean } {
  const height = spec.height ?? H;
  const plotH = height - M.top - M.bottom;
  const n = spec.from.length;
  const span = Math.max(spec.span, 1e-9);
  const long = spec.span >= 3600;
  const xOf = (s: number) => M.left + (s / span) * PLOT_W;
  const mids = spec.from.map((f, i) => (f + spec.to[i]) / 2);
  const xs = mids.map(xOf);

  let dataMax = 0;
  for (const l of spec.lines ?? []) for (const v of l.values) if (v !== null && v > dataMax) dataMax = v;
  if (spec.bars) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const b of spec.bars) sum += b.values[i] ?? 0;
      if (sum > dataMax) dataMax = sum;
    }
  }
  const empty = !(dataMax > 0);
  // The reference line (gate or budget) joins the scale only when the data comes near it;
  // otherwise it would flatten the data into the floor. Off the scale, a label says where it is.
  const refOnScale = spec.ref !== undefined && !empty && spec.ref.value <= dataMax * 1.5;
  const y = yScale(refOnScale && spec.ref ? Math.max(dataMax, spec.ref.value) : dataMax, spec.integer ?? false);
  const yOf = (v: number) => M.top + plotH - (v / y.max) * plotH;

  const out: string[] = [];
  const titleId = `${spec.id}-t`;
  const descId = `${spec.id}-d`;
  out.push(
    `<svg class="chart" id="${spec.id}" data-chart="${spec.id}" viewBox="0 0 ${W} ${height}" role="img" aria-labelledby="${titleId} ${descId}" preserveAspectRatio="xMidYMid meet">`,
    `<title id="${titleId}">${esc(spec.title)}</title><desc id="${descId}">${esc(spec.summary)}</desc>`,
  );

  // Grid and axes.
  const grid: string[] = [];
  const labels: string[] = [];
  for (let v = 0; v <= y.max + 1e-9; v += y.step) {
    const yy = c(yOf(v));
    grid.push(`M${M.left} ${yy}H${W - M.right}`);
    labels.push(`<text x="${M.left - 6}" y="${yy}" dy="0.32em" text-anchor="end">${fmtTick(v, y.step)}</text>`);
  }
  const ticks = xTicks(spec.span);
  for (const t of ticks) {
    const xx = c(xOf(t));
    grid.push(`M${xx} ${M.top}V${M.top + plotH}`);
    labels.push(`<text x="${xx}" y="${M.top + plotH + 16}" text-anchor="middle">${fmtElapsed(t, long)}</text>`);
  }
  out.push(`<path class="grid" d="${grid.join('')}"/>`);
  out.push(`<path class="axis-line" d="M${M.left} ${M.top + plotH}H${W - M.right}"/>`);
  out.push(`<g class="axis">${labels.join('')}`);
  out.push(`<text class="unit" x="${M.left - 6}" y="${M.top - 12}" text-anchor="end">${esc(spec.unit)}</text>`);
  out.push(`<text class="unit" x="${W - M.right}" y="${height - 3}" text-anchor="end">elapsed ${long ? 'h:mm' : 'm:ss'}</text></g>`);

  // Bars: one path per kind, a rectangle per bucket with a value.
  if (spec.bars && !empty) {
    const slot = PLOT_W / Math.max(1, spec.span);
    const cum = new Array<number>(n).fill(0);
    for (const b of spec.bars) {
      const d: string[] = [];
      for (let i = 0; i < n; i++) {
        const v = b.values[i] ?? 0;
        if (!(v > 0)) continue;
        const x0 = M.left + spec.from[i] * slot;
        const w = (spec.to[i] - spec.from[i]) * slot;
        const gap = n <= 120 ? w * 0.18 : 0;
        const top = yOf(cum[i] + v);
        const bottom = yOf(cum[i]);
        cum[i] += v;
        d.push(`M${c(x0 + gap / 2)} ${c(top)}h${c(Math.max(0.6, w - gap))}V${c(bottom)}h${c(-Math.max(0.6, w - gap))}Z`);
      }
      if (d.length) out.push(`<path class="bar ${b.cls}" d="${d.join('')}"/>`);
    }
  }

  // Lines (and areas), broken where a bucket has no value.
  if (!empty) {
    for (const l of spec.lines ?? []) {
      const segs: Array<Array<[number, number]>> = [];
      let seg: Array<[number, number]> = [];
      l.values.forEach((v, i) => {
        if (v === null) {
          if (seg.length) segs.push(seg);
          seg = [];
        } else seg.push([xs[i], yOf(v)]);
      });
      if (seg.length) segs.push(seg);
      if (l.area) {
        const base = c(M.top + plotH);
        const d = segs.map((s) => `M${c(s[0][0])} ${base}` + s.map(([a, b]) => `L${c(a)} ${c(b)}`).join('') + `L${c(s[s.length - 1][0])} ${base}Z`);
        out.push(`<path class="area ${l.cls}" d="${d.join('')}"/>`);
      }
      const d = segs.map((s) => s.map(([a, b], j) => `${j ? 'L' : 'M'}${c(a)} ${c(b)}`).join(''));
      out.push(`<path class="line ${l.cls}${l.dashed ? ' dashed' : ''}" d="${d.join('')}"/>`);
      // Dots when points are few (or lone): a line of three points needs them to be read.
      const lone = segs.filter((s) => s.length === 1);
      const pts = n <= 40 ? segs.flat() : lone.flat();
      if (pts.length) {
        out.push(`<g class="dots ${l.cls}">${pts.map(([a, b]) => `<circle cx="${c(a)}" cy="${c(b)}" r="2.6"/>`).join('')}</g>`);
      }
    }
  }

  if (spec.ref) {
    if (refOnScale) {
      const yy = c(yOf(spec.ref.value));
      out.push(`<path class="ref" d="M${M.left} ${yy}H${W - M.right}"/>`);
      out.push(`<text class="ref-label" x="${W - M.right - 4}" y="${yy}" dy="-4" text-anchor="end">${esc(spec.ref.label)}</text>`);
    }
  }
  for (const m of spec.marks ?? []) {
    if (!(m.at >= 0 && m.at <= spec.span)) continue;
    const xx = c(xOf(m.at));
    out.push(`<path class="mark" d="M${xx} ${M.top}V${M.top + plotH}"/>`);
    out.push(`<text class="mark-label" x="${xx}" y="${M.top + 10}" dx="-4" text-anchor="end">${esc(m.label)}</text>`);
  }
  if (empty && spec.empty) {
    out.push(`<text class="empty" x="${M.left + PLOT_W / 2}" y="${M.top + plotH / 2}" text-anchor="middle">${esc(spec.empty)}</text>`);
  }
  out.push(`<line class="hover" x1="0" x2="0" y1="${M.top}" y2="${M.top + plotH}" visibility="hidden"/>`);
  out.push(`<rect class="hit" x="${M.left}" y="${M.top}" width="${PLOT_W}" height="${plotH}"/>`);
  out.push('</svg>');

  const series = [
    ...(spec.lines ?? []).map((l) => ({ label: l.label, cls: l.cls, values: l.values })),
    ...(spec.bars ?? []).map((b) => ({ label: b.label, cls: b.cls, values: b.values })),
  ];
  return { svg: out.join(''), data: { x: xs.map(round1), from: spec.from, to: spec.to, unit: spec.unit, series }, refOnScale };
}

/** A legend as HTML: a swatch and a label per series. */
export function legend(items: Array<{ label: string; cls: string; kind: 'line' | 'dashed' | 'box' | 'band' }>): string {
  return `<ul class="legend">${items.map((i) => `<li><span class="sw sw-${i.kind} ${i.cls}" aria-hidden="true"></span>${esc(i.label)}</li>`).join('')}</ul>`;
}

/**
 * A small trend line for the index page: values in run order, a dot per run (classed by its
 * outcome, with a native tooltip), and an optional limit line.
 */
export function sparkline(
  points: Array<{ value: number | null; cls: string; tip: string }>,
  opts: { width: number; height: number; limit?: number; unit: string; label: string },
): string {
  const { width, height } = opts;
  const m = { l: 34, r: 6, t: 8, b: 8 };
  const vals = points.map((p) => p.value).filter((v): v is number => v !== null);
  const dataMax = Math.max(0, ...vals);
  const limitOn = opts.limit !== undefined && opts.limit <= Math.max(dataMax, 1e-9) * 1.5;
  const top = Math.max(dataMax, limitOn && opts.limit !== undefined ? opts.limit : 0) || 1;
  const yOf = (v: number) => m.t + (height - m.t - m.b) * (1 - v / top);
  const xOf = (i: number) => (points.length <= 1 ? (m.l + width - m.r) / 2 : m.l + (i / (points.length - 1)) * (width - m.l - m.r));
  const out: string[] = [
    `<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(opts.label)}">`,
    `<path class="grid" d="M${m.l} ${c(yOf(0))}H${width - m.r}M${m.l} ${c(yOf(top))}H${width - m.r}"/>`,
    `<g class="axis"><text x="${m.l - 4}" y="${c(yOf(top))}" dy="0.32em" text-anchor="end">${fmtNum(top, 1)}</text>`,
    `<text x="${m.l - 4}" y="${c(yOf(0))}" dy="0.32em" text-anchor="end">0</text></g>`,
  ];
  if (limitOn && opts.limit !== undefined) out.push(`<path class="ref" d="M${m.l} ${c(yOf(opts.limit))}H${width - m.r}"/>`);
  let d = '';
  points.forEach((p, i) => {
    if (p.value === null) return;
    d += `${d ? 'L' : 'M'}${c(xOf(i))} ${c(yOf(p.value))}`;
  });
  if (d) out.push(`<path class="line s-trend" d="${d}"/>`);
  points.forEach((p, i) => {
    if (p.value === null) return;
    out.push(`<circle class="${p.cls}" cx="${c(xOf(i))}" cy="${c(yOf(p.value))}" r="3.2"><title>${esc(p.tip)}</title></circle>`);
  });
  out.push('</svg>');
  return out.join('');
}
