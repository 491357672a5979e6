/**
 * Every objective by the name pipeline files, the CLI and the trainers use.
 *
 * Offline objectives (SPEC S3–S4) weight −(1/N)·Σ w·log π(a|s); grouped shapers
 * (SPEC S5) shape the rewards of G sampled candidates per context for GRPO.
 *
 *   const obj = createOfflineObjective('drpo', { rho: 0.5 }, { rewardStats });
 *   let state = obj.initialState();
 *   const { result, state: next } = obj.weigh({ reward }, state);
 */
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ObjectiveGlobals, OfflineObjective, OfflineObjectiveFactory } from '../core/objective.js';
import { apgEntry, asymreEntry, awrEntry, crrEntry } from './advantage-objectives.js';
import { bcEntry, expRsftEntry, expRsftTrajectoryEntry, rsftLinearEntry } from './exp-objectives.js';
import { adaptiveBcEntry, drpoEntry, drpoExpEntry, topkEntry } from './filter-objectives.js';
import type { OfflineObjectiveEntry } from './objective-types.js';

export { GROUP_SHAPERS, createGroupShaper } from './group-shapers.js';

export const OFFLINE_OBJECTIVES: Record<string, OfflineObjectiveEntry & { fields: Fields; doc: string; factory: OfflineObjectiveFactory }> = {
  bc: bcEntry,
  rsft_linear: rsftLinearEntry,
  exp_rsft: expRsftEntry,
  exp_rsft_trajectory: expRsftTrajectoryEntry,
  topk: topkEntry,
  drpo: drpoEntry,
  drpo_exp: drpoExpEntry,
  awr: awrEntry,
  asymre: asymreEntry,
  adaptive_bc: adaptiveBcEntry,
  apg: apgEntry,
  crr: crrEntry,
};

/**
 * Build an offline objective by name. The config is validated against the
 * objective's fields (unknown or ill-typed fields are errors naming the
 * objective and field) and defaults are filled; objectives that need global
 * statistics read them from `globals` and fail with a message saying how to
 * provide them.
 */
export function createOfflineObjective(name: string, config: Record<string, unknown> = {}, globals: ObjectiveGlobals = {}): OfflineObjective {
  const entry = OFFLINE_OBJECTIVES[name];
  if (!entry) throw new ConfigError(`unknown objective "${name}" (known: ${Object.keys(OFFLINE_OBJECTIVES).join(', ')})`, ['name']);
  return entry.factory(config, globals);
}
