import type { AnyStageDefinition } from '../core/stage.js';
import { rewardStatsStage } from './reward-stats-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const statsStages: AnyStageDefinition[] = [rewardStatsStage];

export { RewardStats, DEFAULT_QUANTILES, type RewardStatsOptions, type RewardStatsState } from './reward-stats.js';
export { KllSketch, type KllSketchOptions, type KllSketchState } from './kll-sketch.js';
export { GridHistogram, type GridHistogramOptions, type GridHistogramState } from './grid-histogram.js';
export * from './moments.js';
export { mergeStatsFiles, readStatsState, writeStatsFiles, statePathFor, type RewardStatsFile, type RewardStatsStateFile } from './stats-files.js';
export {
  rewardStatsStage,
  REWARD_STATS_ARTIFACT,
  REWARD_STATS_PER_SPLIT_ARTIFACT,
  REWARD_STATS_ACCUMULATOR_ARTIFACT,
  REWARD_STATS_PATH_ARTIFACT,
  type RewardStatsConfig,
} from './reward-stats-stage.js';
