/**
 * The evaluation state file that makes evaluation incremental and resumable.
 *
 *   {
 *     "version": 2,
 *     "kind": "evaluate_ranking",              the stage that wrote it
 *     "options": { "ks": [10, 50], … },         what the numbers depend on
 *     "done": [ {
 *        "target": "checkpoint:sha256:…",       the checkpoint by content (content-identity.ts)
 *        "partition": "sha256:…",               the data file by content
 *        "targetPath": "/ckpt/bc/step-100",     where they were (for messages and for replacing)
 *        "partitionPath": "/data/test/part-00000.parquet",
 *        "rows": 6040,
 *        "metrics": { "version": 1, "entries": [ … ] }   this pair's MetricAccumulator
 *     } ],
 *     "metrics": { … }                           the total, for readers of the file
 *   }
 *
 * A (target, partition) pair, a checkpoint or baseline evaluated on one data
 * partition (a Parquet file), is committed at once: the pair and its metrics
 * are recorded and the file is rewritten atomically (temporary name, then
 * rename). A later run evaluates only the pairs not yet done and adds them; a
 * run that was stopped resumes after the last committed pair. Pairs are keyed
 * by content: touching or regenerating identical data changes nothing, while a
 * checkpoint overwritten in place (or a data file rewritten with other rows)
 * is a new pair that REPLACES the pair recorded for the same place, so its old
 * numbers are dropped, not added. The totals are the pairs' metrics merged in
 * commit order (the same sums as merging as they come). The options
 * fingerprint guards against mixing numbers made with different settings, and
 * merging state files refuses a pair present in two of them.
 *
 * A sharded evaluation (eval-shard.ts) narrows a state to the pairs of its
 * shard (`restrict`), and hands the coordinator's state the shards' pairs as
 * ready results (`adoptResults`): the stage then commits each of them in its
 * own order, as if it had just evaluated it.
 */
import * as fs from 'node:fs';
import { ConfigError } from '../core/config-schema.js';
import { writeFileAtomic } from '../io/parquet.js';
import { MetricAccumulator } from './accumulator.js';

/** The (target, partition) pairs one shard of a sharded evaluation evaluates: targets × partitions (every partition when absent), by content id. */
export interface PairScope {
  targets: string[];
  partitions?: string[];
}

/** Whether a (target, partition) pair is one of `scope`'s. */
function scopeIncludes(scope: PairScope): (target: string, partition: string) => boolean {
  const targets = new Set(scope.targets);
  const partitions = scope.partitions ? new Set(scope.partitions) : undefined;
  return (target, partition) => targets.has(target) && (partitions?.has(partition) ?? true);
}

export const EVALUATION_STATE_VERSION = 2;

export interface DonePair {
  target: string;
  partition: string;
  rows: number;
  /** Where the target and partition were when evaluated (absent for in-memory ones). */
  targetPath?: string;
  partitionPath?: string;
}

/** Where a pair was evaluated: paths that a later pair with other content replaces. */
export interface PairPlace {
  targetPath?: string;
  partitionPath?: string;
}

interface StoredPair extends DonePair {
  metrics: MetricAccumulator;
}

interface StateJSON {
  version: number;
  kind: string;
  options: Record<string, unknown>;
  done: (DonePair & { metrics: unknown })[];
  metrics?: unknown;
}

const pairKey = (target: string, partition: string) => `${target}\u0000${partition}`;
const placeKey = (p: DonePair) => `${p.targetPath ?? p.target}\u0000${p.partitionPath ?? p.partition}`;

/** Read and check a state file (not its options). */
function readStateFile(file: string): { raw: StateJSON; pairs: StoredPair[] } {
  let raw: StateJSON;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as StateJSON;
  } catch (e) {
    throw new ConfigError(`evaluation state ${file}: not valid JSON (${(e as Error).message})`, ['state']);
  }
  if (raw?.version === 1 && Array.isArray(raw.done))
    throw new ConfigError(`evaluation state ${file} was written by an older recpost that keyed checkpoints and data by path; start a new state file`, [
      'state',
    ]);
  if (raw?.version !== EVALUATION_STATE_VERSION || !Array.isArray(raw.done))
    throw new ConfigError(`evaluation state ${file}: not an evaluation state file (version ${EVALUATION_STATE_VERSION} with a "done" list)`, ['state']);
  const pairs = raw.done.map((d, i) => {
    if (typeof d?.target !== 'string' || typeof d.partition !== 'string')
      throw new ConfigError(`evaluation state ${file}: done[${i}] needs "target" and "partition" strings`, ['state']);
    let metrics: MetricAccumulator;
    try {
      metrics = MetricAccumulator.fromJSON(d.metrics);
    } catch (e) {
      throw new ConfigError(`evaluation state ${file}: done[${i}]: ${(e as Error).message}`, ['state']);
    }
    const pair: StoredPair = { target: d.target, partition: d.partition, rows: typeof d.rows === 'number' ? d.rows : 0, metrics };
    if (typeof d.targetPath === 'string') pair.targetPath = d.targetPath;
    if (typeof d.partitionPath === 'string') pair.partitionPath = d.partitionPath;
    return pair;
  });
  return { raw, pairs };
}

/**
 * The pairs a state file holds, with their metrics, without checking its
 * stage or options (for a reader that only needs to know what is done, such
 * as `evaluate --watch`); none when the file does not exist yet.
 */
export function readDonePairs(file: string): (DonePair & { metrics: MetricAccumulator })[] {
  if (!fs.existsSync(file)) return [];
  return readStateFile(file).pairs;
}

function optionsDiff(a: Record<string, unknown> | undefined, b: Record<string, unknown>): string[] {
  return Object.keys({ ...a, ...b })
    .filter((k) => JSON.stringify(a?.[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: file has ${JSON.stringify(a?.[k])}, now ${JSON.stringify(b[k])}`);
}

export class EvaluationState {
  private readonly pairs = new Map<string, StoredPair>();
  private total = new MetricAccumulator();
  /** Pairs dropped since opening because their checkpoint or data changed in place. */
  replaced = 0;
  /** Only these pairs are this run's to evaluate (a shard); all when undefined. */
  private inScope: ((target: string, partition: string) => boolean) | undefined;
  /** Pairs evaluated elsewhere (by shards), committed from here when the stage reaches them. */
  private readonly ready = new Map<string, StoredPair>();

  private constructor(
    /** File the state lives in; undefined keeps it in memory only. */
    readonly file: string | undefined,
    readonly kind: string,
    readonly options: Record<string, unknown>,
    pairs: StoredPair[],
  ) {
    for (const p of pairs) this.pairs.set(pairKey(p.target, p.partition), p);
    this.retotal();
  }

  /** The metrics of every done pair, merged in commit order. */
  get metrics(): MetricAccumulator {
    return this.total;
  }

  private retotal(): void {
    const t = new MetricAccumulator();
    for (const p of this.pairs.values()) t.merge(p.metrics);
    this.total = t;
  }

  /** A state holding `pairs` (for merges); not saved until save(). */
  static fromPairs(
    file: string | undefined,
    kind: string,
    options: Record<string, unknown>,
    pairs: readonly (DonePair & { metrics: MetricAccumulator })[],
  ): EvaluationState {
    return new EvaluationState(
      file,
      kind,
      options,
      pairs.map((p) => ({ ...p })),
    );
  }

  /** A state that is never written (no `state` option given). */
  static memory(kind: string, options: Record<string, unknown> = {}): EvaluationState {
    return new EvaluationState(undefined, kind, options, []);
  }

  /**
   * Open `file` (or start it when absent). Throws when it was written by
   * another stage or with other options, naming what differs.
   */
  static open(file: string | undefined, kind: string, options: Record<string, unknown>): EvaluationState {
    if (file === undefined) return EvaluationState.memory(kind, options);
    if (!fs.existsSync(file)) return new EvaluationState(file, kind, options, []);
    const { raw, pairs } = readStateFile(file);
    if (raw.kind !== kind)
      throw new ConfigError(`evaluation state ${file} was written by "${raw.kind}", not "${kind}"; give each evaluation stage its own state file`, ['state']);
    const differs = optionsDiff(raw.options, options);
    if (differs.length)
      throw new ConfigError(`evaluation state ${file} was made with other options (${differs.join('; ')}); use the same options or a new state file`, [
        'state',
      ]);
    return new EvaluationState(file, kind, options, pairs);
  }

  isDone(target: string, partition: string): boolean {
    return this.pairs.has(pairKey(target, partition));
  }

  /** Evaluate only the pairs of `scope` here (one shard of a sharded evaluation): the others are not pending. */
  restrict(scope: PairScope): void {
    this.inScope = scopeIncludes(scope);
  }

  /** Whether the pair is this run's to commit: not done, and in the scope if restricted. */
  pending(target: string, partition: string): boolean {
    if (this.isDone(target, partition)) return false;
    return this.inScope?.(target, partition) ?? true;
  }

  /** Whether committing the pair needs an evaluation here: pending and not evaluated by a shard. */
  needsEvaluation(target: string, partition: string): boolean {
    return this.pending(target, partition) && !this.ready.has(pairKey(target, partition));
  }

  /** The metrics a shard made for this pair (adoptResults), if any. */
  readyMetrics(target: string, partition: string): MetricAccumulator | undefined {
    return this.ready.get(pairKey(target, partition))?.metrics;
  }

  /**
   * Take the pairs of `scope` that a shard committed to its state `file` as
   * ready results (pairs outside the scope, left there by an earlier run of
   * the shard, are not taken). The file must come from the same stage with
   * the same options; a pair already taken from another file is refused.
   */
  adoptResults(file: string, scope: PairScope): void {
    const { raw, pairs } = readStateFile(file);
    if (raw.kind !== this.kind) throw new Error(`evaluation shard state ${file} was written by "${raw.kind}", not "${this.kind}"`);
    const differs = optionsDiff(raw.options, this.options);
    if (differs.length) throw new Error(`evaluation shard state ${file} was made with other options (${differs.join('; ')})`);
    const inScope = scopeIncludes(scope);
    for (const p of pairs) {
      if (!inScope(p.target, p.partition)) continue;
      const key = pairKey(p.target, p.partition);
      if (this.ready.has(key))
        throw new Error(`evaluation shard state ${file}: the pair ${p.targetPath ?? p.target} on ${p.partitionPath ?? p.partition} came from two shards`);
      this.ready.set(key, p);
    }
  }

  /** Targets × partitions already evaluated, in commit order. */
  donePairs(): DonePair[] {
    return [...this.pairs.values()].map(({ metrics: _m, ...d }) => d);
  }

  /**
   * Record one pair's metrics and save (atomically) when file-backed. A pair
   * recorded earlier for the same place (target path, partition path) with
   * other content is replaced: its numbers leave the totals.
   */
  commit(target: string, partition: string, rows: number, metrics: MetricAccumulator, place: PairPlace = {}): void {
    if (this.isDone(target, partition)) throw new Error(`evaluation state: (${target}, ${partition}) is already done`);
    const pair: StoredPair = { target, partition, rows, metrics: new MetricAccumulator().merge(metrics) };
    if (place.targetPath !== undefined) pair.targetPath = place.targetPath;
    if (place.partitionPath !== undefined) pair.partitionPath = place.partitionPath;
    const here = placeKey(pair);
    let dropped = 0;
    for (const [k, p] of this.pairs)
      if (placeKey(p) === here) {
        this.pairs.delete(k);
        dropped++;
      }
    this.replaced += dropped;
    this.pairs.set(pairKey(target, partition), pair);
    if (dropped) this.retotal();
    else this.total.merge(pair.metrics);
    this.save();
  }

  save(): void {
    if (this.file === undefined) return;
    const json: StateJSON = {
      version: EVALUATION_STATE_VERSION,
      kind: this.kind,
      options: this.options,
      done: [...this.pairs.values()].map((p) => ({ ...p, metrics: p.metrics.toJSON() })),
      metrics: this.total.toJSON(),
    };
    writeFileAtomic(this.file, `${JSON.stringify(json)}\n`);
  }
}

/**
 * Merge the state files of evaluation shards (e.g. the same checkpoints on
 * disjoint data, or other checkpoints on the same data) into `output`. Every
 * input must come from the same stage with the same options; a pair
 * (checkpoint content, data content) present in two inputs, or two versions of
 * one place, is refused: merging it would count those rows twice.
 */
export function mergeEvaluationStates(inputs: readonly string[], output: string): EvaluationState {
  if (inputs.length === 0) throw new ConfigError('merge evaluation states: name the state files to merge', ['usage']);
  const opened = inputs.map((f) => {
    if (!fs.existsSync(f)) throw new ConfigError(`merge evaluation states: no such file: ${f}`, ['state']);
    return { file: f, ...readStateFile(f) };
  });
  const first = opened[0]!;
  const seen = new Map<string, string>();
  const places = new Map<string, { file: string; key: string }>();
  const all: StoredPair[] = [];
  for (const o of opened) {
    if (o.raw.kind !== first.raw.kind)
      throw new ConfigError(`merge evaluation states: ${o.file} was written by "${o.raw.kind}", ${first.file} by "${first.raw.kind}"`, ['state']);
    const differs = optionsDiff(first.raw.options, o.raw.options);
    if (differs.length)
      throw new ConfigError(`merge evaluation states: ${o.file} was made with other options than ${first.file} (${differs.join('; ')})`, ['state']);
    for (const p of o.pairs) {
      const key = pairKey(p.target, p.partition);
      const where = `${p.targetPath ?? p.target} on ${p.partitionPath ?? p.partition}`;
      const dup = seen.get(key);
      if (dup !== undefined)
        throw new ConfigError(
          `merge evaluation states: ${o.file} and ${dup} both hold ${where} (the same checkpoint and data by content); merging them would count it twice`,
          ['state'],
        );
      seen.set(key, o.file);
      const place = places.get(placeKey(p));
      if (place && place.key !== key)
        throw new ConfigError(`merge evaluation states: ${o.file} and ${place.file} hold different versions of ${where}; re-evaluate one of them`, ['state']);
      places.set(placeKey(p), { file: o.file, key });
      all.push(p);
    }
  }
  if (fs.existsSync(output)) throw new ConfigError(`merge evaluation states: ${output} exists; name a new file`, ['output']);
  const merged = EvaluationState.fromPairs(output, first.raw.kind, first.raw.options, all);
  merged.save();
  return merged;
}
