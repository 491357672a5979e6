import type { AnyStageDefinition } from '../core/stage.js';
import { trainGaussianStage } from './train-gaussian-stage.js';
import { trainOnlineStage } from './train-online-stage.js';
import { trainSasrecStage } from './train-sasrec-stage.js';
import { trainInformHeadStage } from './train-inform-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const trainStages: AnyStageDefinition[] = [trainSasrecStage, trainGaussianStage, trainOnlineStage];

// Paper 004's InfoRM baseline (issue 12).
trainStages.push(trainInformHeadStage);
