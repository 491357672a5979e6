/**
 * Contiguous row slices of a minibatch, one per thread of data-parallel
 * training: slice k holds rows [start, end), slices in row order, sizes
 * differing by at most one (the first `rows mod parts` get the extra row).
 * A minibatch of fewer rows than threads gets one slice per row.
 */
export interface RowRange {
  start: number;
  end: number;
}

export function contiguousRowRanges(rows: number, parts: number): RowRange[] {
  if (!(Number.isInteger(rows) && rows >= 0)) throw new Error(`contiguousRowRanges: rows must be a non-negative integer, got ${rows}`);
  if (!(Number.isInteger(parts) && parts >= 1)) throw new Error(`contiguousRowRanges: parts must be a positive integer, got ${parts}`);
  const n = Math.max(1, Math.min(parts, rows));
  const base = Math.floor(rows / n);
  const extra = rows - base * n;
  const out: RowRange[] = [];
  let start = 0;
  for (let k = 0; k < n; k++) {
    const end = start + base + (k < extra ? 1 : 0);
    out.push({ start, end });
    start = end;
  }
  return out;
}
