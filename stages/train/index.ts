import type { StageDefinition } from '../core/stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const trainStages: StageDefinition<any>[] = [];
