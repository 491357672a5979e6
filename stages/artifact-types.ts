/**
 * The value type of every artifact key (stages/core/artifacts.ts spells the
 * keys; this file, which may import each publisher's types, gives their
 * values by declaration merging, so core imports none of the concerns).
 */
import type { RewardStatsSummary } from '../schemas/reward-stats.js';
import { ARTIFACT } from './core/artifacts.js';
import type { DatasetManifest } from './io/dataset-writer.js';
import type { IngestSummary } from './ingest/ingest-run.js';
import type { VocabPaths } from './ingest/vocab-files.js';
import type { RatingsArtifact } from './simulators/ratings-stage.js';
import type { RecSimArtifact } from './simulators/recsim-stage.js';
import type { Comparison } from './sinks/comparison.js';
import type { WrittenPlot } from './sinks/plot-stage.js';
import type { SplitCounts } from './split/leave-last-out.js';
import type { RewardStats } from './stats/reward-stats.js';
import type { CheckpointRef } from './eval/checkpoints.js';
import type { ReportNote } from './eval/report-notes.js';
import type { EvaluationShard } from './eval/eval-shard.js';
import type { StageCounters } from './core/stage.js';

/** The dataset ingest wrote. */
export interface IngestDatasetArtifact {
  dir: string;
  manifest: DatasetManifest;
  manifestPath: string;
  table: 'interactions';
  timestampUnit: 's' | 'ms';
}

declare module './core/artifacts.js' {
  interface ArtifactTypes {
    [key: `dataset:${string}`]: DatasetManifest;
    [key: `plot:${string}`]: WrittenPlot;
    [key: `metrics_parquet:${string}`]: { path: string; records: number; bytes: number };
    [key: `metrics_jsonl:${string}`]: { path: string; records: number };
    [key: `tensorboard:${string}`]: { path: string; records: number; files: string[] };
    [ARTIFACT.rewardStats]: RewardStatsSummary;
    [ARTIFACT.rewardStatsPerSplit]: Record<string, RewardStatsSummary>;
    [ARTIFACT.rewardStatsAccumulator]: RewardStats;
    [ARTIFACT.rewardStatsPath]: string;
    [ARTIFACT.splitCounts]: SplitCounts;
    [ARTIFACT.vocab]: VocabPaths;
    [ARTIFACT.dataset]: IngestDatasetArtifact;
    [ARTIFACT.ingest]: IngestSummary;
    [ARTIFACT.simulator]: RatingsArtifact | RecSimArtifact;
    /** A world directory, or (tests, library use) a world object. */
    [ARTIFACT.world]: string | object;
    [ARTIFACT.checkpoint]: string;
    /** Trainers publish {method, dir, step, epoch, seed}; `recpost evaluate` and tests may pass in-memory policies. */
    [ARTIFACT.checkpoints]: CheckpointRef[];
    [ARTIFACT.reportTable]: string;
    [ARTIFACT.reportConsoleTable]: string;
    [ARTIFACT.reportComparisonTable]: { path: string; text: string; comparison: Comparison };
    [ARTIFACT.reportNotes]: ReportNote[];
    [ARTIFACT.mlflow]: { trackingUri: string; experimentId?: string; runId?: string; metrics: number };
    [ARTIFACT.evaluationShard]: EvaluationShard;
    [ARTIFACT.stageReports]: (StageCounters & { id: string; stage: string; wallMs: number })[];
  }
}
