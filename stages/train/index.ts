import type { AnyStageDefinition } from '../core/stage.js';
import { trainGaussianStage } from './train-gaussian-stage.js';
import { trainOnlineStage } from './train-online-stage.js';
import { trainSasrecStage } from './train-sasrec-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const trainStages: AnyStageDefinition[] = [trainSasrecStage, trainGaussianStage, trainOnlineStage];
