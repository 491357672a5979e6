/** Library entry point: the stage model, schemas, I/O, runner and every stage. */
export * from './stages/core/batch.js';
export * from './stages/core/config-schema.js';
export * from './stages/core/stage.js';
export * from './stages/core/errors.js';
export * from './stages/core/logger.js';
export * from './stages/core/progress.js';
export * from './schemas/tables.js';
export * from './stages/core/arrow.js';
export * from './schemas/metric-record.js';
export * from './stages/io/parquet.js';
export * from './stages/io/dataset-writer.js';
export * from './stages/io/parquet-stages.js';
export { STAGES, getStage, stageNames } from './stages/registry.js';
export * from './pipelines/spec.js';
export * from './pipelines/runner.js';

// Each concern as a namespace (their own index files list what they export).
export * as ingest from './stages/ingest/index.js';
export * as stats from './stages/stats/index.js';
export * as split from './stages/split/index.js';
export * as simulators from './stages/simulators/index.js';

// The most used entry points, flat.
export { createOfflineObjective, createGroupShaper, OFFLINE_OBJECTIVES, GROUP_SHAPERS } from './stages/weighting/registry.js';
export { drroWaterFilling, droTopM } from './stages/weighting/promptwise.js';
export { noiseBound, worstCaseValueLoss, minSafeLambda } from './stages/weighting/theory.js';
export { initBackend } from './stages/train/backend.js';
export { loadPolicy } from './stages/train/load-policy.js';
export { MetricAccumulator } from './stages/eval/accumulator.js';
export { targetRanks } from './stages/eval/ranking-metrics.js';
export { RewardStats } from './stages/stats/reward-stats.js';
export { RecSimWorld } from './stages/simulators/recsim-world.js';
export { RatingsWorld } from './stages/simulators/ratings-world.js';
export { runIngest } from './stages/ingest/ingest-run.js';
export type * from './stages/core/objective.js';
export type * from './stages/core/policy.js';
export type { RewardStatsSummary } from './schemas/reward-stats.js';
