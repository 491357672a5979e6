/**
 * Progress of a sweep on stderr: one line when it starts and one each time a
 * replicate ends, with replicates done / total, running now, failed (and
 * retried, when a worker crashed), e.g.
 * `sweep: 3/8 done, 2 running, 1 failed — seed-2__rho-0.5 succeeded in 4.21 s`.
 */
import type { Logger } from '../../stages/core/logger.js';

export type ReplicateStatus = 'pending' | 'running' | 'succeeded' | 'skipped' | 'failed';

export class SweepProgress {
  private readonly status = new Map<string, ReplicateStatus>();
  private readonly retries = new Map<string, number>();

  constructor(
    names: readonly string[],
    private readonly log: Logger,
  ) {
    for (const n of names) this.status.set(n, 'pending');
  }

  counts(): { total: number; done: number; running: number; failed: number; skipped: number; retried: number } {
    let done = 0;
    let running = 0;
    let failed = 0;
    let skipped = 0;
    for (const s of this.status.values()) {
      if (s === 'running') running++;
      if (s === 'succeeded' || s === 'skipped' || s === 'failed') done++;
      if (s === 'failed') failed++;
      if (s === 'skipped') skipped++;
    }
    let retried = 0;
    for (const r of this.retries.values()) retried += r;
    return { total: this.status.size, done, running, failed, skipped, retried };
  }

  /** The counts as text: "3/8 done, 2 running, 1 failed". */
  line(): string {
    const c = this.counts();
    return `${c.done}/${c.total} done, ${c.running} running, ${c.failed} failed${c.retried > 0 ? `, ${c.retried} retried` : ''}`;
  }

  /** A replicate's task is running (first progress from its worker). */
  running(name: string, retries: number): void {
    if (this.status.get(name) === 'pending') this.status.set(name, 'running');
    this.retries.set(name, retries);
  }

  /** A replicate ended: print the counts and what happened. */
  finished(name: string, status: 'succeeded' | 'skipped' | 'failed', what: string): void {
    this.status.set(name, status);
    const text = `sweep: ${this.line()} — ${name} ${what}`;
    if (status === 'failed') this.log.warn(text);
    else this.log.info(text);
  }
}
