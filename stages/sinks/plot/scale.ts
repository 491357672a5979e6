/**
 * Axis scales: a data interval (domain) mapped affinely, or affinely in
 * log10, onto a pixel interval (range), with "nice" tick values (1, 2, 2.5 or
 * 5 times a power of ten; powers of ten and their 2× and 5× on log axes).
 */

export interface Scale {
  readonly log: boolean;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
  readonly ticks: readonly number[];
  /** Data value → pixel. */
  map(v: number): number;
  /** Tick label text. */
  format(v: number): string;
}

const NICE_STEPS = [1, 2, 2.5, 5, 10];

/** The nice step for about `target` intervals over a span. */
export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const s of NICE_STEPS) if (s * mag >= raw * (1 - 1e-9)) return s * mag;
  return 10 * mag;
}

/** Decimals needed to print multiples of `step` exactly (2.5 × 10^k needs one more). */
export function stepDecimals(step: number): number {
  let d = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  while (d < 12 && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  return d;
}

function tidy(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4))
    return v
      .toExponential()
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(v.toPrecision(12)));
}

/**
 * A domain covering [lo, hi] plus `margin` of its span on each side (so
 * markers at the extremes are not cut by the axes; widened when empty), with
 * ticks at the nice multiples inside it.
 */
export function linearScale(lo: number, hi: number, r0: number, r1: number, target = 6, margin = 0.04): Scale {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) throw new Error(`axis: no finite data (${lo}, ${hi})`);
  if (hi - lo <= Math.abs(hi) * 1e-12) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, target);
  const d0 = lo - margin * (hi - lo);
  const d1 = hi + margin * (hi - lo);
  const ticks: number[] = [];
  for (let k = Math.ceil(d0 / step - 1e-9); k * step <= d1 + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  const decimals = stepDecimals(step);
  const big = Math.max(Math.abs(d0), Math.abs(d1)) >= 1e6 || step < 1e-4;
  return {
    log: false,
    domain: [d0, d1],
    range: [r0, r1],
    ticks,
    map: (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0),
    format: (v) => (big ? tidy(v) : (Math.abs(v) < step * 1e-9 ? 0 : v).toFixed(decimals)),
  };
}

/**
 * Log10 scale over positive [lo, hi], padded by `margin` of the span in log
 * space; ticks inside it at powers of ten, and at more multiples of them the
 * fewer decades the axis spans.
 */
export function logScale(lo: number, hi: number, r0: number, r1: number, margin = 0.04): Scale {
  if (!(lo > 0 && hi > 0 && Number.isFinite(lo) && Number.isFinite(hi))) throw new Error(`log axis needs positive data (got ${lo} … ${hi})`);
  if (hi / lo < 1 + 1e-9) {
    lo /= 2;
    hi *= 2;
  }
  const span = Math.log10(hi / lo);
  const l0 = Math.log10(lo) - margin * span;
  const l1 = Math.log10(hi) + margin * span;
  const d0 = 10 ** l0;
  const d1 = 10 ** l1;
  const mults = span > 4 ? [1] : span > 2 ? [1, 2, 5] : span > 1 ? [1, 2, 3, 5] : [1, 1.5, 2, 3, 4, 5, 7];
  const ticks: number[] = [];
  for (let e = Math.floor(l0) - 1; e <= Math.ceil(l1); e++) {
    for (const m of mults) {
      const v = Number((m * 10 ** e).toPrecision(12));
      if (v >= d0 * (1 - 1e-9) && v <= d1 * (1 + 1e-9)) ticks.push(v);
    }
  }
  return {
    log: true,
    domain: [d0, d1],
    range: [r0, r1],
    ticks,
    map: (v) => r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0),
    format: tidy,
  };
}
