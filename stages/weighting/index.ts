import type { AnyStageDefinition } from '../core/stage.js';
import { objectiveStage } from './objective-stage.js';
import { regretBonusStage } from './regret-bonus-stage.js';
import { OFFLINE_OBJECTIVES } from './registry.js';

/** Stages of this concern, joined by stages/registry.ts: one per offline objective, plus regret_bonus. */
export const weightingStages: AnyStageDefinition[] = [
  ...Object.entries(OFFLINE_OBJECTIVES).map(([name, entry]) => objectiveStage(name, entry)),
  regretBonusStage,
];
