/**
 * Shared shape of benchmark results. Each bench/<concern>.ts exports
 * `run(opts): Promise<BenchResult[]>`; bench/run.ts runs them and prints a table.
 * Peak memory is the process's max RSS; benches that must report a clean peak
 * run their workload in a child process (see childPeakRss).
 */
export interface BenchResult {
  /** Suite (ingest, stats, weighting, train, eval). */
  suite: string;
  /** What was measured, e.g. "csv→parquet 20M rows". */
  name: string;
  rows: number;
  seconds: number;
  /** rows (or examples) per second. */
  rate: number;
  /** Unit of `rate` when it is not rows/s (e.g. "examples/s"). */
  unit?: string;
  peakRssMB?: number;
  /** Target the figure is held to, e.g. "≥ 1.5M rows/s", and whether it is met. */
  target?: string;
  met?: boolean;
  notes?: string;
}

export interface BenchOptions {
  /** Smaller sizes for a quick check (`npm run bench -- --quick`). */
  quick: boolean;
  /** Scratch directory for generated data (deleted afterwards). */
  scratch: string;
}

export function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
