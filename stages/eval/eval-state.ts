/**
 * The evaluation state file that makes evaluation incremental and resumable.
 *
 *   {
 *     "version": 1,
 *     "kind": "evaluate_ranking",              the stage that wrote it
 *     "options": { "ks": [10, 50], … },         what the numbers depend on
 *     "done": [ { "target": "/ckpt/bc-step-100", "partition": "/data/split=test/part-00000.parquet@…", "rows": 6040 } ],
 *     "metrics": { "version": 1, "entries": [ … ] }   a MetricAccumulator
 *   }
 *
 * A (target, partition) pair, a checkpoint or baseline evaluated on one data
 * partition (a Parquet file), is committed at once: its metrics are merged into
 * the accumulator, the pair is marked done and the file is rewritten
 * atomically (temporary name, then rename). A later run over more checkpoints
 * or more partitions evaluates only the pairs not yet done and ADDS them, and a
 * run that was stopped resumes after the last committed pair. The options
 * fingerprint guards against mixing numbers made with different settings.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../io/parquet.js';
import { MetricAccumulator } from './accumulator.js';

export interface DonePair {
  target: string;
  partition: string;
  rows: number;
}

interface StateJSON {
  version: 1;
  kind: string;
  options: Record<string, unknown>;
  done: DonePair[];
  metrics: unknown;
}

const pairKey = (target: string, partition: string) => `${target}\u0000${partition}`;

export class EvaluationState {
  readonly metrics: MetricAccumulator;
  private readonly done = new Map<string, DonePair>();

  private constructor(
    /** File the state lives in; undefined keeps it in memory only. */
    readonly file: string | undefined,
    readonly kind: string,
    readonly options: Record<string, unknown>,
    metrics: MetricAccumulator,
    done: DonePair[],
  ) {
    this.metrics = metrics;
    for (const d of done) this.done.set(pairKey(d.target, d.partition), d);
  }

  /** A state that is never written (no `state` option given). */
  static memory(kind: string, options: Record<string, unknown> = {}): EvaluationState {
    return new EvaluationState(undefined, kind, options, new MetricAccumulator(), []);
  }

  /**
   * Open `file` (or start it when absent). Throws when it was written by
   * another stage or with other options, naming what differs.
   */
  static open(file: string | undefined, kind: string, options: Record<string, unknown>): EvaluationState {
    if (file === undefined) return EvaluationState.memory(kind, options);
    if (!fs.existsSync(file)) return new EvaluationState(file, kind, options, new MetricAccumulator(), []);
    let raw: StateJSON;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8')) as StateJSON;
    } catch (e) {
      throw new Error(`evaluation state ${file}: not valid JSON (${(e as Error).message})`);
    }
    if (raw?.version !== 1 || !Array.isArray(raw.done)) throw new Error(`evaluation state ${file}: not an evaluation state file (version 1 with a "done" list)`);
    if (raw.kind !== kind) throw new Error(`evaluation state ${file} was written by "${raw.kind}", not "${kind}"; give each evaluation stage its own state file`);
    const differs = Object.keys({ ...raw.options, ...options }).filter((k) => JSON.stringify(raw.options?.[k]) !== JSON.stringify(options[k]));
    if (differs.length) {
      const detail = differs.map((k) => `${k}: file has ${JSON.stringify(raw.options?.[k])}, now ${JSON.stringify(options[k])}`).join('; ');
      throw new Error(`evaluation state ${file} was made with other options (${detail}); use the same options or a new state file`);
    }
    let metrics: MetricAccumulator;
    try {
      metrics = MetricAccumulator.fromJSON(raw.metrics);
    } catch (e) {
      throw new Error(`evaluation state ${file}: ${(e as Error).message}`);
    }
    for (const [i, d] of raw.done.entries()) {
      if (typeof d?.target !== 'string' || typeof d.partition !== 'string') throw new Error(`evaluation state ${file}: done[${i}] needs "target" and "partition" strings`);
    }
    return new EvaluationState(file, kind, options, metrics, raw.done);
  }

  isDone(target: string, partition: string): boolean {
    return this.done.has(pairKey(target, partition));
  }

  /** Targets × partitions already evaluated. */
  donePairs(): DonePair[] {
    return [...this.done.values()];
  }

  /** Merge one pair's metrics, mark it done and save (atomically) when file-backed. */
  commit(target: string, partition: string, rows: number, metrics: MetricAccumulator): void {
    if (this.isDone(target, partition)) throw new Error(`evaluation state: (${target}, ${partition}) is already done`);
    this.metrics.merge(metrics);
    this.done.set(pairKey(target, partition), { target, partition, rows });
    this.save();
  }

  save(): void {
    if (this.file === undefined) return;
    const json: StateJSON = { version: 1, kind: this.kind, options: this.options, done: this.donePairs(), metrics: this.metrics.toJSON() };
    writeFileAtomic(this.file, `${JSON.stringify(json)}\n`);
  }
}
