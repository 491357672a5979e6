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
import { ConfigError, fieldProblems, type Fields, type UnionField } from '../core/config-schema.js';
import type { ObjectiveGlobals, OfflineObjective, OfflineObjectiveFactory } from '../core/objective.js';
import { apgEntry, asymreEntry, awrEntry, crrEntry } from './advantage-objectives.js';
import { bcEntry, expRsftEntry, expRsftTrajectoryEntry, rsftLinearEntry } from './exp-objectives.js';
import { adaptiveBcEntry, drpoEntry, drpoExpEntry, topkEntry } from './filter-objectives.js';
import type { OfflineObjectiveEntry } from './objective-types.js';
import { iqlEntry } from './iql.js';
import { crrCriticEntry } from './crr-critic.js';
import { bppoEntry } from './bppo.js';
import { drpoQEntry } from './drpo-q.js';

import { GROUP_SHAPERS } from './group-shapers.js';

export { GROUP_SHAPERS, createGroupShaper } from './group-shapers.js';

/** p_min ≤ p_max wherever an objective has both (the DRPO family's bounds of P). */
function pRangeCheck(c: Record<string, unknown>): string[] {
  const lo = c.p_min;
  const hi = c.p_max;
  return typeof lo === 'number' && typeof hi === 'number' && lo > hi ? [`p_min (${lo}) must be ≤ p_max (${hi})`] : [];
}

/** `shift` and `scale` replace global statistics, so they mean nothing with shift_mode batch. */
function shiftModeCheck(c: Record<string, unknown>): string[] {
  if (c.shift_mode !== 'batch') return [];
  return ['shift', 'scale'].filter((k) => c[k] !== undefined).map((k) => `field "${k}" applies to shift_mode global only (shift_mode is batch)`);
}

/** The cross-field checks an objective's fields call for, found from the fields themselves (so a new objective gets them too). */
function withChecks(entry: OfflineObjectiveEntry): OfflineObjectiveEntry {
  const checks: ((c: Record<string, unknown>) => string[])[] = [];
  if (entry.check) checks.push(entry.check);
  if ('p_min' in entry.fields && 'p_max' in entry.fields) checks.push(pRangeCheck);
  if ('shift_mode' in entry.fields) checks.push(shiftModeCheck);
  return checks.length ? { ...entry, check: (c) => checks.flatMap((f) => f(c)) } : entry;
}

export const OFFLINE_OBJECTIVES: Record<string, OfflineObjectiveEntry & { fields: Fields; doc: string; factory: OfflineObjectiveFactory }> = Object.fromEntries(
  Object.entries({
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
    iql: iqlEntry,
    crr_critic: crrCriticEntry,
    bppo: bppoEntry,
    drpo_q: drpoQEntry,
  }).map(([name, entry]) => [name, withChecks(entry)]),
);

/**
 * The `objective` option of a stage as a tagged union over every registered
 * objective: `{ name: drpo, rho: 0.5 }` is validated against DRPO's own
 * options (and its checks), its defaults filled; the JSON Schema gets one
 * `oneOf` branch per objective. A new objective appears here by itself.
 */
export function objectiveUnionField(
  defaultName = 'bc',
  doc = 'The objective that weights each example: { name, ...its options }, e.g. { name: exp_rsft, lambda: 0.5 } or { name: drpo, rho: 0.5 }.',
): UnionField {
  return { type: 'union', label: 'objective', variants: OFFLINE_OBJECTIVES, default: { name: defaultName }, doc };
}

/** The group shapers (GRPO, DRRO hard/soft, DRO) as a tagged union `{ name: drro_soft, tau: 2 }`, like objectiveUnionField. */
export function shaperUnionField(
  defaultName = 'drro_soft',
  doc = 'The group shaper: { name, ...its options }, e.g. { name: drro_soft, budget: dynamic, tau: 2 }.',
): UnionField {
  return { type: 'union', label: 'group shaper', variants: GROUP_SHAPERS, default: { name: defaultName }, doc };
}

/**
 * The problems of a group shaper's options when the shaper is named by another
 * option (train_online's `algorithm`): each option must be one of that
 * shaper's own, e.g. `field "shaper.tau" is not an option of group shaper "grpo" (its options: kl_estimator)`.
 */
export function shaperOptionProblems(name: string, options: Record<string, unknown>, path = 'shaper'): string[] {
  return fieldProblems(shaperUnionField(name), { ...options, name }, path);
}

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
