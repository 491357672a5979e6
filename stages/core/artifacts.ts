/**
 * Values stages publish for later stages (ctx.artifacts), keyed by the names
 * below: the one place artifact keys are spelled. Each key's value type is in
 * ArtifactTypes, declared empty here and filled in stages/artifact-types.ts
 * (which may import the publishers' types; core imports none of them), so
 * `ctx.artifacts.get(ARTIFACT.rewardStats)` is a RewardStatsSummary.
 *
 * Readers still check what they read: a caller may supply artifacts before a
 * run (RunOptions.artifacts, tests, `recpost evaluate --checkpoints`).
 */

export const ARTIFACT = {
  /** Global reward statistics (RewardStatsSummary), published by reward_stats. */
  rewardStats: 'reward_stats',
  rewardStatsPerSplit: 'reward_stats:per_split',
  rewardStatsAccumulator: 'reward_stats:accumulator',
  rewardStatsPath: 'reward_stats:path',
  splitCounts: 'split_counts',
  /** Paths of the id vocabularies (ingest). */
  vocab: 'vocab',
  /** The dataset ingest wrote, with its manifest. */
  dataset: 'dataset',
  /** Ingest's run summary. */
  ingest: 'ingest',
  /** The simulator that generated the log (kind, world directory, rows). */
  simulator: 'simulator',
  /** A simulator world: its directory, or a world object. */
  world: 'world',
  /** The last checkpoint directory a trainer wrote. */
  checkpoint: 'checkpoint',
  /** Every checkpoint trainers wrote in this run. */
  checkpoints: 'checkpoints',
  reportTable: 'report:table',
  reportConsoleTable: 'report:console_table',
  reportComparisonTable: 'report:comparison_table',
  /** How metrics were measured (which judge, which history excluded), for table captions. */
  reportNotes: 'report:notes',
  /** Where the mlflow sink logged (tracking URI, experiment and run ids, metrics sent). */
  mlflow: 'mlflow',
  /** A sharded evaluation's scope or shard results, for the one evaluation stage it is handed to (stages/eval/eval-shard.ts). */
  evaluationShard: 'evaluation:shard',
  /** The runner's per-stage counters, live (reports at the end of a pipeline read the finished stages before them). */
  stageReports: 'run:stage_reports',
} as const;

/** Keys with a path part: one artifact per file or directory written. */
export const datasetArtifact = (dir: string) => `dataset:${dir}` as const;
export const plotArtifact = (file: string) => `plot:${file}` as const;
export const metricsParquetArtifact = (file: string) => `metrics_parquet:${file}` as const;
export const metricsJsonlArtifact = (file: string) => `metrics_jsonl:${file}` as const;
export const tensorboardArtifact = (dir: string) => `tensorboard:${dir}` as const;

/** Value type of each artifact key; filled in by stages/artifact-types.ts (declaration merging). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ArtifactTypes {}

export type ArtifactKey = keyof ArtifactTypes & string;

/** The run's artifacts: a Map whose get/set are typed by key. */
export class ArtifactMap extends Map<string, unknown> {
  override get<K extends ArtifactKey>(key: K): ArtifactTypes[K] | undefined {
    return super.get(key) as ArtifactTypes[K] | undefined;
  }

  override set<K extends ArtifactKey>(key: K, value: ArtifactTypes[K]): this {
    return super.set(key, value);
  }
}

/** An ArtifactMap holding the given entries (keys unchecked: what callers supply is checked where it is read). */
export function artifactMap(entries: Iterable<readonly [string, unknown]> = []): ArtifactMap {
  const m = new ArtifactMap();
  for (const [k, v] of entries) Map.prototype.set.call(m, k, v);
  return m;
}
