/**
 * Keeps trajectories whole across batch boundaries for trajectory-level
 * weighting when returns are summed from per-step rewards: the rows of the
 * last trajectory of each batch are held back and prepended to the next batch,
 * so every emitted batch holds complete trajectories. This needs each
 * trajectory's rows to be adjacent in the stream (split_sequences writes them
 * so); a trajectory that reappears after it was emitted is an error.
 */
import { concatBatches, sliceBatch, type Batch } from '../core/batch.js';

export class TrajectoryBuffer {
  private pending: Batch | undefined;
  private readonly closed = new Set<number>();

  constructor(
    private readonly groupOf: (b: Batch) => Int32Array,
    private readonly where: string,
  ) {}

  /** Add a batch; returns the rows whose trajectories are complete, or undefined when none are. */
  push(b: Batch): Batch | undefined {
    const all = this.pending ? concatBatches([this.pending, b]) : b;
    const n = all.numRows;
    if (n === 0) return undefined;
    const g = this.groupOf(all);
    const last = g[n - 1]!;
    let s = n - 1;
    while (s > 0 && g[s - 1] === last) s--;
    this.pending = sliceBatch(all, s, n);
    if (s === 0) return undefined;
    const out = sliceBatch(all, 0, s);
    this.close(g.subarray(0, s));
    return out;
  }

  /** End of the stream: the rows still held back. */
  flush(): Batch | undefined {
    const p = this.pending;
    this.pending = undefined;
    if (!p || p.numRows === 0) return undefined;
    this.close(this.groupOf(p));
    return p;
  }

  /** Rows held back (saved with checkpoints). */
  held(): Batch | undefined {
    return this.pending;
  }

  restore(b: Batch | undefined): void {
    this.pending = b;
  }

  private close(g: Int32Array): void {
    for (let i = 0; i < g.length; i++) {
      if (i > 0 && g[i] === g[i - 1]) continue;
      if (this.closed.has(g[i]!)) {
        throw new Error(
          `${this.where}: trajectory ${g[i]} appears again after its rows were weighted; rows of a trajectory must be adjacent ` +
            '(sort by the group column, e.g. as split_sequences writes them) or the batches must carry a return column',
        );
      }
    }
    for (let i = 0; i < g.length; i++) if (i === 0 || g[i] !== g[i - 1]) this.closed.add(g[i]!);
  }
}
