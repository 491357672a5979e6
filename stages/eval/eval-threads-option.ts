/**
 * The `threads` option of evaluate_ranking: when a pool of scoring threads
 * (eval-threads.ts) is worth starting, started once per stage and closed at
 * its end. Threads serve factored scorers (SASRec) on the wasm or cpu
 * backend; a run whose ranking work is small (fewer than
 * MIN_THREADED_SCORES context × item scores in one evaluation) stays on one
 * thread, because starting the workers costs more than they save there.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Logger } from '../core/logger.js';
import type { RankingScorer } from '../core/policy.js';
import { EvalThreadPool, resolveEvalThreads } from './eval-threads.js';

/** Default of the option: every core. */
export const EVAL_THREADS_DEFAULT = 0;

/** Scores (contexts × items) below which one thread ranks (measured: see bench/large-catalog.ts). */
export const MIN_THREADED_SCORES = 200_000_000;

export class EvalThreads {
  private pool: Promise<EvalThreadPool> | undefined;
  private noted = false;
  readonly threads: number;

  constructor(
    option: number,
    private readonly log?: Pick<Logger, 'info'>,
    private readonly minScores = MIN_THREADED_SCORES,
  ) {
    this.threads = resolveEvalThreads(option);
  }

  /** The pool for ranking `rows` contexts with `scorer`, or undefined when one thread does it. */
  async poolFor(scorer: RankingScorer, rows: number): Promise<EvalThreadPool | undefined> {
    if (this.threads <= 1 || !scorer.scoreFactors || rows * (scorer.numItems - 1) < this.minScores) return undefined;
    const backend = tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') {
      if (!this.noted) this.log?.info(`evaluate_ranking: threads ${this.threads} ignored on the ${backend} backend; ranking on one thread`);
      this.noted = true;
      return undefined;
    }
    if (!this.pool) {
      this.log?.info(`evaluate_ranking: ${this.threads} threads share the catalog`);
      this.pool = EvalThreadPool.start(this.threads);
    }
    return this.pool;
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await (await p.catch(() => undefined))?.close();
  }
}
