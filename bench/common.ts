/**
 * Shared shape of benchmark results. Each bench/<concern>.ts exports
 * `run(opts): Promise<BenchResult[]>`; bench/run.ts runs them and prints a table.
 * Peak memory is the process's max RSS; benches that must report a clean peak
 * run their workload in a child process (see childPeakRss).
 */
import { spawn } from 'node:child_process';

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

export interface BenchChildOptions {
  /** Shown in the error when the child fails ("scaling bench child"). */
  label: string;
  /** Keep the parent's `--expose-gc` (default: dropped, so the child runs as a plain process would). */
  keepExposeGc?: boolean;
  /** 'inherit' shows the child's stderr live; 'capture' keeps it and puts its last lines in the error. */
  stderr?: 'inherit' | 'capture';
  /** Lines of captured stderr in the error (default 3). */
  tailLines?: number;
}

/**
 * Run `script --child <args as JSON>` in a fresh Node process with the
 * parent's loader flags, and resolve to the JSON object on the last line of
 * its stdout: each suite measures in its own process so that peak memory and
 * warm-up are its own.
 */
export function runBenchChild<T>(script: string, args: unknown, opts: BenchChildOptions): Promise<T> {
  const execArgv = opts.keepExposeGc ? process.execArgv : process.execArgv.filter((a) => a !== '--expose-gc');
  const capture = opts.stderr === 'capture';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, script, '--child', JSON.stringify(args)], { stdio: ['ignore', 'pipe', capture ? 'pipe' : 'inherit'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        // The WASM loader's one-line source dump ("var Module …") says nothing about the failure.
        const tail = err
          .split('\n')
          .filter((l) => !l.startsWith('var Module'))
          .slice(-(opts.tailLines ?? 3))
          .join(' ');
        return reject(new Error(`${opts.label} exited with code ${code}${capture ? `: ${tail}` : ''}`));
      }
      resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
    });
  });
}
