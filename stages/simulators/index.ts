import type { StageDefinition } from '../core/stage.js';
import { simulateRecSimStage } from './recsim-stage.js';
import { simulateRatingsStage } from './ratings-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const simulatorsStages: StageDefinition<any>[] = [simulateRecSimStage, simulateRatingsStage];
