import type { AnyStageDefinition } from '../core/stage.js';
import { splitSequencesStage } from './split-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const splitStages: AnyStageDefinition[] = [splitSequencesStage];

export { splitSequencesStage, SPLIT_COUNTS_ARTIFACT, type SplitSequencesConfig } from './split-stage.js';
export { planLeaveLastOut, type LeaveLastOutOptions, type SplitCounts, type SplitPlan, type ShortUserPolicy, type ReturnBy } from './leave-last-out.js';
export { exampleBatches } from './example-batches.js';
export { InteractionLogBuilder, type InteractionLog } from './interaction-log.js';
export { sortByUserThenTime, radixSortByUser } from './sort-by-user-time.js';
