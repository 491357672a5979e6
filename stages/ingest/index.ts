import type { AnyStageDefinition } from '../core/stage.js';
import { ingestStage } from './ingest-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const ingestStages: AnyStageDefinition[] = [ingestStage];

export { runIngest, type IngestSummary, type IngestEnv } from './ingest-run.js';
export { loadVocabulary, mapRawIds, saveVocabulary, vocabPaths, type VocabPaths } from './vocab-files.js';
export { IdVocabulary } from './id-vocabulary.js';
export type { IngestConfig } from './ingest-config.js';
