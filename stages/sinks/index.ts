import type { StageDefinition } from '../core/stage.js';
import { comparisonTableStage } from './comparison-table-stage.js';
import { consoleTableStage } from './console-table-stage.js';
import { metricsJsonlStage } from './metrics-jsonl-stage.js';
import { metricsParquetStage } from './metrics-parquet-stage.js';
import { plotStage } from './plot-stage.js';
import { mlflowStage } from './mlflow-stage.js';
import { readMetricsStage } from './read-metrics-stage.js';
import { tensorboardStage } from './tensorboard-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const sinksStages: StageDefinition<any>[] = [
  readMetricsStage,
  metricsJsonlStage,
  metricsParquetStage,
  consoleTableStage,
  comparisonTableStage,
  plotStage,
  tensorboardStage,
  mlflowStage,
];
