import type { StageDefinition } from '../core/stage.js';
import { readParquetStage, writeParquetStage } from './parquet-stages.js';

export const ioStages: StageDefinition<any>[] = [readParquetStage, writeParquetStage];

export { DatasetError, MANIFEST_NAME, readManifest, type DatasetManifest, type ManifestPart, type ManifestSideFile, type SchemaField } from './manifest.js';
export { listDataset, verifyDataset, type DatasetListing, type DatasetPart } from './manifest-read.js';
export { recoverInterrupted, StagedDirectory } from './manifest-staging.js';
