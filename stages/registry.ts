/**
 * Every stage a pipeline file can name, by its `name`. Each concern keeps its
 * own list (stages/<concern>/index.ts); this file only joins them.
 */
import type { StageDefinition } from './core/stage.js';
import { ioStages } from './io/index.js';

const all: StageDefinition<any>[] = [...ioStages];

export const STAGES: ReadonlyMap<string, StageDefinition<any>> = new Map(all.map((s) => [s.name, s]));

export function getStage(name: string): StageDefinition<any> | undefined {
  return STAGES.get(name);
}

export function stageNames(): string[] {
  return [...STAGES.keys()].sort();
}
