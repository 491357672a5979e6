/**
 * Simulators with known ground truth (SPEC S8): RecSim (paper 002 App. H)
 * and the sequential ratings simulator. Stages plus the library API that
 * evaluation and training code against.
 */
import type { AnyStageDefinition } from '../core/stage.js';
import { simulateRecSimStage } from './recsim-stage.js';
import { simulateRatingsStage } from './ratings-stage.js';

/** Stages of this concern, joined by stages/registry.ts. */
export const simulatorsStages: AnyStageDefinition[] = [simulateRecSimStage, simulateRatingsStage];

export { RecSimWorld, rbfReward, observedReward, type RecSimWorldParams, type RecSimWorldData } from './recsim-world.js';
export { generateRecSimWorld } from './recsim-generate.js';
export { RecSimLogger, LOGGING_POLICY_NAMES, POLICY_CODES, type PolicyMix, type RecSimLogParams, type RecSimLogStats } from './recsim-log.js';
export { resolveRecSimOptions, recsimWorldParams, recsimLogParams, type RecSimOptions } from './recsim-options.js';
export { simulateRecSimStage, type RecSimArtifact } from './recsim-stage.js';
export { RatingsWorld, type RatingsWorldParams, type RatingsWorldData, type RecommendationValue } from './ratings-world.js';
export { generateRatingsWorld, simulateUserRatings, type UserRatings } from './ratings-generate.js';
export { resolveRatingsOptions, ratingsWorldParams, type RatingsOptions } from './ratings-options.js';
export { simulateRatingsStage, type RatingsArtifact } from './ratings-stage.js';
export { MovieLensWriter } from './movielens-writer.js';
export { expectedRoundedRating, ratingProbabilities, roundClipRating } from './expected-rating.js';
export {
  asOracle,
  IdMappedOracle,
  loadWorld,
  resolveOracle,
  vocabFiles,
  worldKind,
  VOCAB_ARTIFACT,
  WORLD_ARTIFACT,
  type TrueRewardOracle,
  type WorldKind,
} from './truth.js';
export { DenseRatingsTruth, denseExpectedRatings, denseToRaw, readDenseToRaw, type VocabularyLike } from './dense-truth.js';
export { erf, erfc, normalCdf, normalPdf } from './normal-cdf.js';
export { Rng } from './rng.js';
export { AliasTable } from './alias-table.js';
export { fitZipfExponent, zipfWeights, type ZipfFit } from './zipf.js';
export { presetNames, readPreset } from './presets.js';
