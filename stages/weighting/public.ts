/**
 * The objectives as a library (package export `recpost/weighting`): build an
 * offline objective or a group shaper by name and call it on typed arrays;
 * the closed forms of paper 001's theory. Imports no TensorFlow.js.
 *
 *   const drpo = createOfflineObjective('drpo', { rho: 0.5 });
 *   const { result, state } = drpo.weigh({ reward }, drpo.initialState());
 */
export { createOfflineObjective, createGroupShaper, OFFLINE_OBJECTIVES, GROUP_SHAPERS } from './registry.js';
export { drroWaterFilling, droTopM } from './promptwise.js';
export { noiseBound, worstCaseValueLoss, minSafeLambda } from './theory.js';
export type * from '../core/objective.js';
