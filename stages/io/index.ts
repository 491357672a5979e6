import type { StageDefinition } from '../core/stage.js';
import { readParquetStage, writeParquetStage } from './parquet-stages.js';

export const ioStages: StageDefinition<any>[] = [readParquetStage, writeParquetStage];
