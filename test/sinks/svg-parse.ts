/** Reading back what the plot wrote: series paths and axis ticks from SVG text. */

export type Pt = [number, number];

/** data-series id → the points of its <path class="series" d="M x y L x y …">. */
export function seriesPaths(svg: string, cls = 'series'): Map<string, Pt[]> {
  const out = new Map<string, Pt[]>();
  const re = new RegExp(`<path class="${cls}" data-series="([^"]*)" d="([^"]*)"`, 'g');
  for (const m of svg.matchAll(re)) {
    const pts = m[2]!
      .split(/[ML]/)
      .filter((s) => s.trim() !== '')
      .map((s) => s.trim().split(/\s+/).map(Number) as Pt);
    if (out.has(m[1]!)) throw new Error(`two series paths for ${m[1]}`);
    out.set(m[1]!, pts);
  }
  return out;
}

/** Ticks of both axes: value and pixel position (x ticks have vertical tick lines). */
export function axisTicks(svg: string): { x: Pt[]; y: Pt[] } {
  const x: Pt[] = [];
  const y: Pt[] = [];
  const re = /<g class="tick" data-value="([^"]+)"><line x1="([^"]+)" y1="([^"]+)" x2="([^"]+)" y2="([^"]+)"/g;
  for (const m of svg.matchAll(re)) {
    const [v, x1, y1, x2] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (x1 === x2) x.push([v, x1]);
    else y.push([v, y1]);
  }
  return { x, y };
}

/** The affine map value → pixel through the first and last tick (in `f` space, e.g. log10). */
export function tickMap(ticks: Pt[], f: (v: number) => number = (v) => v): (v: number) => number {
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  const slope = (b[1] - a[1]) / (f(b[0]) - f(a[0]));
  return (v) => a[1] + (f(v) - f(a[0])) * slope;
}
