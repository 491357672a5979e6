/**
 * Layout of a line chart: plot area, axes with ticks and grid, axis labels,
 * title, one line (+ markers, + optional ±std band) per series, horizontal
 * reference lines, vertical marker lines (e.g. a theoretical threshold on the x axis), highlighted points, and a legend to the right of the plot
 * area (outside it, so it never hides data). Margins are sized from the text
 * they hold. The output is a Scene (svg.ts); every series line is one
 * <path class="series" data-series="<id>" d="M x y L x y …">.
 */
import { linearScale, logScale, type Scale } from './scale.js';
import type { Shape, Scene } from './svg.js';
import { num } from './svg.js';

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down';
export const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'];

/** Colour-blind-safe first (Okabe–Ito order without yellow), then extra distinct hues. */
export const PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#8C6D31', '#7F7F7F', '#6A3D9A'];

export interface ChartSeries {
  /** Identifies the series in the SVG (data-series). */
  id: string;
  /** Legend text; null keeps the series out of the legend. */
  label: string | null;
  xs: readonly number[];
  ys: readonly number[];
  /** Band (e.g. mean ± std); NaN where absent. */
  lo?: readonly number[];
  hi?: readonly number[];
  color: string;
  dash?: boolean;
  marker?: MarkerShape | null;
}

export interface RefLine {
  id: string;
  label: string;
  y: number;
  lo?: number;
  hi?: number;
  color: string;
}

/** A vertical dotted line at x (inside the x range, which widens to hold it), with a legend entry. */
export interface VLine {
  id: string;
  label: string;
  x: number;
  color: string;
}

export interface ChartSpec {
  width: number;
  height: number;
  title?: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  series: ChartSeries[];
  refLines?: RefLine[];
  vLines?: VLine[];
  /** Points drawn as rings (e.g. the peak gold reward). */
  highlights?: { x: number; y: number; color: string }[];
  /** Extra legend lines in black explaining line styles (`ring`: the highlight ring instead of a line). */
  legendKeys?: { label: string; dash: boolean; ring?: boolean }[];
  bands?: boolean;
}

export interface ChartLayout {
  scene: Scene;
  x: Scale;
  y: Scale;
  /** Points left out (not finite, or ≤ 0 on a log axis). */
  dropped: number;
}

const SIZE = { tick: 11, label: 13, title: 15, legend: 12 };
/** Average advance of the fonts used, in em (DejaVu Sans ≈ 0.6, the bitmap font 0.625). */
const CHAR_EM = 0.63;
const CAP = 0.73;
const DASH = '6 4';
const DOT = '2 3';
/** A log x axis with at most this many distinct data values ticks at the values themselves. */
const MAX_DATA_TICKS = 10;

export const textWidth = (s: string, size: number) => [...s].length * CHAR_EM * size;

function truncate(s: string, max: number): string {
  const cs = [...s];
  return cs.length <= max ? s : `${cs.slice(0, max - 1).join('')}…`;
}

function markerShape(shape: MarkerShape, x: number, y: number, color: string, r = 3.6): Shape {
  const fill = color;
  const stroke = '#ffffff';
  switch (shape) {
    case 'circle':
      return { kind: 'circle', cx: x, cy: y, r, fill, stroke, width: 0.8, cls: 'marker' };
    case 'square':
      return { kind: 'path', d: `M${num(x - r)} ${num(y - r)}h${num(2 * r)}v${num(2 * r)}h${num(-2 * r)}z`, fill, stroke, width: 0.8, cls: 'marker' };
    case 'triangle':
      return {
        kind: 'path',
        d: `M${num(x)} ${num(y - 1.2 * r)}L${num(x + 1.1 * r)} ${num(y + 0.8 * r)}L${num(x - 1.1 * r)} ${num(y + 0.8 * r)}z`,
        fill,
        stroke,
        width: 0.8,
        cls: 'marker',
      };
    case 'triangle-down':
      return {
        kind: 'path',
        d: `M${num(x)} ${num(y + 1.2 * r)}L${num(x + 1.1 * r)} ${num(y - 0.8 * r)}L${num(x - 1.1 * r)} ${num(y - 0.8 * r)}z`,
        fill,
        stroke,
        width: 0.8,
        cls: 'marker',
      };
    case 'diamond':
      return {
        kind: 'path',
        d: `M${num(x)} ${num(y - 1.3 * r)}L${num(x + 1.3 * r)} ${num(y)}L${num(x)} ${num(y + 1.3 * r)}L${num(x - 1.3 * r)} ${num(y)}z`,
        fill,
        stroke,
        width: 0.8,
        cls: 'marker',
      };
  }
}

/** Keep every k-th tick, with the smallest k whose labels do not overlap. */
function thinTicks(ticks: readonly number[], scale: Scale, minGap: number, widthOf: (t: number) => number): number[] {
  for (let k = 1; k <= ticks.length; k++) {
    const kept = ticks.filter((_t, i) => i % k === 0);
    let ok = true;
    for (let i = 1; i < kept.length && ok; i++) {
      const gap = Math.abs(scale.map(kept[i]!) - scale.map(kept[i - 1]!));
      if (gap < (widthOf(kept[i]!) + widthOf(kept[i - 1]!)) / 2 + minGap) ok = false;
    }
    if (ok) return kept;
  }
  return ticks.slice(0, 1);
}

export function layoutChart(spec: ChartSpec): ChartLayout {
  const { width, height } = spec;
  const refLines = spec.refLines ?? [];
  const okX = (v: number) => Number.isFinite(v) && (!spec.logX || v > 0);
  const okY = (v: number) => Number.isFinite(v) && (!spec.logY || v > 0);
  let dropped = 0;
  let xlo = Infinity;
  let xhi = -Infinity;
  let ylo = Infinity;
  let yhi = -Infinity;
  const seenY = (v: number) => {
    if (okY(v)) {
      ylo = Math.min(ylo, v);
      yhi = Math.max(yhi, v);
    }
  };
  for (const s of spec.series) {
    s.xs.forEach((x, i) => {
      const y = s.ys[i]!;
      if (!okX(x) || !okY(y)) {
        dropped++;
        return;
      }
      xlo = Math.min(xlo, x);
      xhi = Math.max(xhi, x);
      seenY(y);
      if (spec.bands !== false) {
        if (s.lo) seenY(s.lo[i]!);
        if (s.hi) seenY(s.hi[i]!);
      }
    });
  }
  const vLines = (spec.vLines ?? []).filter((v) => okX(v.x));
  for (const v of vLines) {
    xlo = Math.min(xlo, v.x);
    xhi = Math.max(xhi, v.x);
  }
  for (const r of refLines) {
    seenY(r.y);
    if (spec.bands !== false && r.lo !== undefined) seenY(r.lo);
    if (spec.bands !== false && r.hi !== undefined) seenY(r.hi);
  }
  if (!Number.isFinite(xlo)) {
    xlo = spec.logX ? 1 : 0;
    xhi = spec.logX ? 10 : 1;
  }
  if (!Number.isFinite(ylo)) {
    ylo = spec.logY ? 1 : 0;
    yhi = spec.logY ? 10 : 1;
  }

  // Legend entries and the right margin they need.
  type Entry = { label: string; color: string; dash: boolean | string; marker: MarkerShape | null | undefined; ring?: boolean };
  const entries: Entry[] = [
    ...spec.series.filter((s) => s.label !== null).map((s) => ({ label: truncate(s.label!, 40), color: s.color, dash: Boolean(s.dash), marker: s.marker })),
    ...refLines.map((r) => ({ label: truncate(r.label, 40), color: r.color, dash: true, marker: null })),
    ...vLines.map((v) => ({ label: truncate(v.label, 40), color: v.color, dash: DOT, marker: null })),
    ...(spec.legendKeys ?? []).map((k) => ({ label: truncate(k.label, 40), color: '#333333', dash: k.dash, marker: null, ring: k.ring })),
  ];
  const swatch = 26;
  const legendW = entries.length > 0 ? 10 + swatch + 6 + Math.max(...entries.map((e) => textWidth(e.label, SIZE.legend))) + 10 : 0;
  const right = entries.length > 0 ? legendW + 24 : 24;
  const top = spec.title ? 44 : 20;
  const bottom = 6 + 6 + SIZE.tick * CAP + 14 + SIZE.label + 14;

  const y0 = height - bottom;
  const y1 = top;
  const yTarget = Math.max(3, Math.round((y0 - y1) / 55));
  const y = spec.logY ? logScale(ylo, yhi, y0, y1) : linearScale(ylo, yhi, y0, y1, yTarget);
  const yTicks = thinTicks(y.ticks, y, 4, () => SIZE.tick);
  const yTickW = Math.max(...yTicks.map((t) => textWidth(y.format(t), SIZE.tick)));
  const left = 14 + SIZE.label * CAP + 14 + yTickW + 6 + 6;
  const x0 = left;
  const x1 = width - right;
  if (x1 - x0 < 40 || y0 - y1 < 40) throw new Error(`plot: ${width}×${height} px leaves no room for the plot area (try a larger width or height)`);
  const xTarget = Math.max(3, Math.round((x1 - x0) / 80));
  const x = spec.logX ? logScale(xlo, xhi, x0, x1) : linearScale(xlo, xhi, x0, x1, xTarget);
  // A log axis over a few swept values (λ = 0.25 … 4) ticks exactly at them, not at 0.3, 0.5, 1 …
  const dataXs = [...new Set(spec.series.flatMap((s) => s.xs.filter(okX)))].sort((a, b) => a - b);
  const xTickValues = spec.logX && dataXs.length > 0 && dataXs.length <= MAX_DATA_TICKS ? dataXs : x.ticks;
  const xTicks = thinTicks(xTickValues, x, 10, (t) => textWidth(x.format(t), SIZE.tick));

  const shapes: Shape[] = [];
  // Grid and axes.
  const grid: Shape[] = [
    ...yTicks.map((t): Shape => ({ kind: 'line', x1: x0, y1: y.map(t), x2: x1, y2: y.map(t), stroke: '#e6e6e6' })),
    ...xTicks.map((t): Shape => ({ kind: 'line', x1: x.map(t), y1: y0, x2: x.map(t), y2: y1, stroke: '#e6e6e6' })),
  ];
  shapes.push({ kind: 'group', cls: 'grid', children: grid });
  shapes.push({
    kind: 'group',
    cls: 'axis x',
    children: [
      { kind: 'line', x1: x0, y1: y0, x2: x1, y2: y0, stroke: '#333333' },
      ...xTicks.map((t): Shape => ({
        kind: 'group',
        cls: 'tick',
        data: { value: String(t) },
        children: [
          { kind: 'line', x1: x.map(t), y1: y0, x2: x.map(t), y2: y0 + 6, stroke: '#333333' },
          { kind: 'text', x: x.map(t), y: y0 + 6 + 6 + SIZE.tick * CAP, text: x.format(t), size: SIZE.tick, anchor: 'middle' },
        ],
      })),
      { kind: 'text', cls: 'label', x: (x0 + x1) / 2, y: height - 14, text: spec.xLabel, size: SIZE.label, anchor: 'middle' },
    ],
  });
  shapes.push({
    kind: 'group',
    cls: 'axis y',
    children: [
      { kind: 'line', x1: x0, y1: y0, x2: x0, y2: y1, stroke: '#333333' },
      ...yTicks.map((t): Shape => ({
        kind: 'group',
        cls: 'tick',
        data: { value: String(t) },
        children: [
          { kind: 'line', x1: x0 - 6, y1: y.map(t), x2: x0, y2: y.map(t), stroke: '#333333' },
          { kind: 'text', x: x0 - 6 - 6, y: y.map(t) + (SIZE.tick * CAP) / 2, text: y.format(t), size: SIZE.tick, anchor: 'end' },
        ],
      })),
      { kind: 'text', cls: 'label', x: 14 + SIZE.label * CAP, y: (y0 + y1) / 2, text: spec.yLabel, size: SIZE.label, anchor: 'middle', rotate: -90 },
    ],
  });
  if (spec.title) {
    // Long titles shrink (bold text is ~10% wider) and centre on the whole
    // canvas rather than the plot area, so they are never clipped.
    const fit = (width - 24) / (1.1 * textWidth(spec.title, 1));
    const size = Math.max(8, Math.min(SIZE.title, fit));
    const cx = textWidth(spec.title, size) * 1.1 <= x1 - x0 ? (x0 + x1) / 2 : width / 2;
    shapes.push({ kind: 'text', cls: 'title', x: cx, y: 26, text: spec.title, size, anchor: 'middle', bold: true });
  }

  // Reference lines (methods without the swept parameter).
  for (const r of refLines) {
    if (!okY(r.y)) continue;
    const children: Shape[] = [];
    if (spec.bands !== false && r.lo !== undefined && r.hi !== undefined && okY(r.lo) && okY(r.hi)) {
      children.push({ kind: 'rect', cls: 'band', x: x0, y: y.map(r.hi), w: x1 - x0, h: y.map(r.lo) - y.map(r.hi), fill: r.color, opacity: 0.12 });
    }
    children.push({ kind: 'line', x1: x0, y1: y.map(r.y), x2: x1, y2: y.map(r.y), stroke: r.color, width: 1.8, dash: DASH });
    shapes.push({ kind: 'group', cls: 'reference', data: { series: r.id }, children });
  }

  // Vertical marker lines.
  for (const v of vLines) {
    const px = x.map(v.x);
    shapes.push({
      kind: 'group',
      cls: 'vreference',
      data: { series: v.id, value: String(v.x) },
      children: [{ kind: 'line', x1: px, y1: y0, x2: px, y2: y1, stroke: v.color, width: 1.8, dash: DOT }],
    });
  }

  // Series: band, line, markers.
  for (const s of spec.series) {
    const idx = s.xs.map((_v, i) => i).filter((i) => okX(s.xs[i]!) && okY(s.ys[i]!));
    if (idx.length === 0) continue;
    const px = idx.map((i) => x.map(s.xs[i]!));
    const py = idx.map((i) => y.map(s.ys[i]!));
    if (spec.bands !== false && s.lo && s.hi) {
      const bi = idx.filter((i) => okY(s.lo![i]!) && okY(s.hi![i]!));
      if (bi.length >= 2) {
        const upper = bi.map((i) => `${num(x.map(s.xs[i]!))} ${num(y.map(s.hi![i]!))}`);
        const lower = bi.map((i) => `${num(x.map(s.xs[i]!))} ${num(y.map(s.lo![i]!))}`).reverse();
        shapes.push({ kind: 'path', cls: 'band', data: { series: s.id }, d: `M${upper.join('L')}L${lower.join('L')}Z`, fill: s.color, opacity: 0.15 });
      }
    }
    const d = px.map((p, k) => `${k === 0 ? 'M' : 'L'}${num(p)} ${num(py[k]!)}`).join('');
    shapes.push({ kind: 'path', cls: 'series', data: { series: s.id }, d, stroke: s.color, width: 2, dash: s.dash ? DASH : undefined });
    if (s.marker) {
      shapes.push({ kind: 'group', cls: 'markers', data: { series: s.id }, children: px.map((p, k) => markerShape(s.marker!, p, py[k]!, s.color)) });
    }
  }
  for (const h of spec.highlights ?? []) {
    if (!okX(h.x) || !okY(h.y)) continue;
    shapes.push({ kind: 'circle', cls: 'peak', cx: x.map(h.x), cy: y.map(h.y), r: 7, fill: 'none', stroke: h.color, width: 2 });
  }

  // Legend.
  if (entries.length > 0) {
    const lx = x1 + 16;
    const rowH = 20;
    const children: Shape[] = [{ kind: 'rect', x: lx, y: y1, w: legendW, h: 10 + rowH * entries.length, fill: '#ffffff', stroke: '#cccccc' }];
    entries.forEach((e, k) => {
      const cy = y1 + 5 + rowH * k + rowH / 2;
      if (e.ring) children.push({ kind: 'circle', cx: lx + 10 + swatch / 2, cy, r: 7, fill: 'none', stroke: e.color, width: 2 });
      else {
        const dash = typeof e.dash === 'string' ? e.dash : e.dash ? DASH : undefined;
        children.push({ kind: 'line', x1: lx + 10, y1: cy, x2: lx + 10 + swatch, y2: cy, stroke: e.color, width: 2, dash });
      }
      if (e.marker) children.push(markerShape(e.marker, lx + 10 + swatch / 2, cy, e.color));
      children.push({ kind: 'text', x: lx + 10 + swatch + 6, y: cy + (SIZE.legend * CAP) / 2, text: e.label, size: SIZE.legend });
    });
    shapes.push({ kind: 'group', cls: 'legend', children });
  }
  return { scene: { width, height, background: '#ffffff', shapes }, x, y, dropped };
}
