/**
 * The public API of `recpost` (package.json `exports["."]`). Deliberately
 * narrow: pipelines, single stages, batches, objectives, models and errors.
 * Everything else under stages/ is internal and may change between versions;
 * `recpost/weighting` is the objective math alone (no TensorFlow.js loaded).
 */

// Pipelines: a file or an object, validated as `recpost validate` does, then run.
export {
  loadPipelineFile,
  resolvePipeline,
  parsePipelineText,
  type PipelineSpec,
  type StageSpec,
  type ResolvedPipeline,
  type ResolvedStage,
} from './pipelines/spec.js';
export { runPipeline, formatStageReport, type RunOptions, type RunResult, type StageReport } from './pipelines/runner.js';

// One stage on batches (arrays, async iterables, Node object-mode streams), options typed per stage.
export { runStage, runStageByName, stageContext, type BatchInput, type RunStageSettings, type StageRun } from './pipelines/run-stage.js';
export type {
  StageName,
  StageOptions,
  StageOptionsMap,
  ObjectiveName,
  ObjectiveSpec,
  ObjectiveOptionsMap,
  ShaperName,
  ShaperOptionsMap,
} from './pipelines/stage-options.js';
export { STAGES, getStage, stageNames } from './stages/registry.js';

// Writing one's own stage (for runPipeline with a resolved pipeline).
export {
  defineStage,
  type StageDefinition,
  type StageContext,
  type StageInstance,
  type BatchStage,
  type CombineStage,
  type SourceStage,
  type StageCounters,
} from './stages/core/stage.js';
export type { Fields, FieldSpec } from './stages/core/config-schema.js';
export type { ConfigOf } from './stages/core/config-types.js';
export { ArtifactMap, ARTIFACT } from './stages/core/artifacts.js';
export { stderrLogger, memoryLogger, type Logger } from './stages/core/logger.js';

// Batches and tables.
export {
  column,
  numericColumn,
  float64Column,
  sliceBatch,
  concatBatches,
  takeRows,
  assertBatchShape,
  isListColumn,
  isNumericColumn,
  type Batch,
  type Column,
  type ListColumn,
  type NumericColumn,
  type TableName,
} from './stages/core/batch.js';
export { TABLE_SCHEMAS, SPLIT_CODES, SPLIT_NAMES, type SplitName } from './schemas/tables.js';
export { metricRecord, type MetricRecord } from './schemas/metric-record.js';
export { metricsToBatch, batchToMetrics } from './stages/core/metric-batch.js';
export { readParquetFile, readParquetAll, writeParquetFile, type ParquetReadOptions, type ParquetWriteOptions } from './stages/io/parquet.js';

// Errors: a configuration mistake, a located data error, a broken dataset.
export { ConfigError } from './stages/core/config-schema.js';
export { DataError } from './stages/core/errors.js';
export { DatasetError } from './stages/io/manifest.js';

// Objectives and their math (also `recpost/weighting`).
export * from './stages/weighting/public.js';

// Models: the registry of model kinds and loading a trained policy.
export { registerModel, modelKinds } from './stages/train/model-registry.js';
export { loadPolicy, type LoadedPolicy } from './stages/train/load-policy.js';
export { initBackend } from './stages/train/backend.js';
export type { RankingScorer, RewardPredictor, SamplingPolicy } from './stages/core/policy.js';

// Evaluation and statistics helpers.
export { MetricAccumulator } from './stages/eval/accumulator.js';
export { targetRanks } from './stages/eval/ranking-metrics.js';
export { RewardStats } from './stages/stats/reward-stats.js';
export type { RewardStatsSummary } from './schemas/reward-stats.js';

// Each concern's curated list (their own index files).
export * as ingest from './stages/ingest/index.js';
export * as stats from './stages/stats/index.js';
export * as split from './stages/split/index.js';
export * as simulators from './stages/simulators/index.js';
