/**
 * Every stage a pipeline file can name, by its `name`. Each concern keeps its
 * own list (stages/<concern>/index.ts); this file only joins them.
 */
import type { AnyStageDefinition } from './core/stage.js';
import type {} from './artifact-types.js';
import { ioStages } from './io/index.js';
import { ingestStages } from './ingest/index.js';
import { statsStages } from './stats/index.js';
import { splitStages } from './split/index.js';
import { weightingStages } from './weighting/index.js';
import { trainStages } from './train/index.js';
import { evalStages } from './eval/index.js';
import { simulatorsStages } from './simulators/index.js';
import { sinksStages } from './sinks/index.js';

const all: AnyStageDefinition[] = [
  ...ioStages,
  ...ingestStages,
  ...statsStages,
  ...splitStages,
  ...weightingStages,
  ...trainStages,
  ...evalStages,
  ...simulatorsStages,
  ...sinksStages,
];

export const STAGES: ReadonlyMap<string, AnyStageDefinition> = new Map(all.map((s) => [s.name, s]));

export function getStage(name: string): AnyStageDefinition | undefined {
  return STAGES.get(name);
}

export function stageNames(): string[] {
  return [...STAGES.keys()].sort();
}
