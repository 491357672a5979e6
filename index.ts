/** Library entry point: the stage model, schemas, I/O, runner and every stage. */
export * from './stages/core/batch.js';
export * from './stages/core/config-schema.js';
export * from './stages/core/stage.js';
export * from './stages/core/helpers.js';
export * from './stages/core/errors.js';
export * from './stages/core/logger.js';
export * from './stages/core/progress.js';
export * from './schemas/tables.js';
export * from './schemas/arrow.js';
export * from './schemas/metric-record.js';
export * from './stages/io/parquet.js';
export * from './stages/io/dataset-writer.js';
export * from './stages/io/parquet-stages.js';
export { STAGES, getStage, stageNames } from './stages/registry.js';
export * from './pipelines/spec.js';
export * from './pipelines/runner.js';
