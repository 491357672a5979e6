/**
 * `regret_bonus`: a grouped shaper (GRPO, DRRO hard/soft, DRO) as a stream
 * stage over a table of sampled candidates — rows group-major, `group_size`
 * consecutive rows per context — so logged rollouts can be shaped from a
 * pipeline file or `recpost stage regret_bonus --input candidates.parquet`.
 * Each batch is one update of the dynamic budget's KL window; the window is
 * the stage state (getState/setState).
 */
import type { Batch } from '../core/batch.js';
import { numericColumn } from '../core/batch.js';
import { ConfigError, type Fields } from '../core/config-schema.js';
import type { ConfigOf } from '../core/config-types.js';
import type { GroupShapingInput } from '../core/objective.js';
import { defineStage } from '../core/stage.js';
import { createGroupShaper, GROUP_SHAPERS } from './group-shapers.js';
import type { BudgetState } from './kl-budget.js';
import { toFloat64 } from './numeric.js';

/** The union of every shaper's options: a flat option list, each option checked against the chosen shaper (stage check). */
const shaperFields: Fields = {};
for (const e of Object.values(GROUP_SHAPERS)) Object.assign(shaperFields, e.fields);

const ownFields = {
  shaper: { type: 'string', enum: Object.keys(GROUP_SHAPERS), default: 'drro_soft', doc: 'Which shaping: grpo, drro_hard, drro_soft or dro.' },
  group_size: { type: 'integer', min: 1, default: 16, doc: 'Candidates per context G; every batch must hold whole groups.' },
} as const satisfies Fields;

const columnFields = {
  proxy_reward_column: { type: 'string', default: 'proxy_reward', doc: 'Column of proxy rewards r̂.' },
  rollout_logprob_column: { type: 'string', default: 'rollout_logprob', doc: 'Column of log π̄(y|x) under the rollout policy.' },
  ref_logprob_column: { type: 'string', default: 'ref_logprob', doc: 'Column of log π₀(y|x) under the reference policy (k3 KL), used when present.' },
  exact_kl_column: {
    type: 'string',
    default: 'exact_kl',
    doc: "Column of KL(π̄‖π₀) over the catalog, one value per group (read from the group's first row), used when present.",
  },
} as const satisfies Fields;

/** The stage's options: its own, the shapers' (flat, as the README lists them), the column names. */
const fields: Fields = { ...ownFields, ...shaperFields, ...columnFields };

type ColumnOption = keyof typeof columnFields;
type RegretBonusConfig = ConfigOf<typeof ownFields> & ConfigOf<typeof columnFields> & { [shaperOption: string]: unknown };

interface RegretBonusState {
  batch_index: number;
  shaper: BudgetState;
}

/**
 * The chosen shaper's options out of the flat configuration, and one problem
 * per option given that belongs to another shaper (a default of the union
 * does not count as given).
 */
function shaperOptions(config: RegretBonusConfig): { options: Record<string, unknown>; problems: string[] } {
  const name = config.shaper;
  const own = GROUP_SHAPERS[name]!.fields;
  const options: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const k of Object.keys(shaperFields)) {
    if (config[k] === undefined) continue;
    if (k in own) options[k] = config[k];
    else if (config[k] !== shaperFields[k]!.default)
      problems.push(`field "${k}" does not apply to shaper ${name} (its fields: ${Object.keys(own).join(', ') || 'none'})`);
  }
  return { options, problems };
}

export const regretBonusStage = defineStage<RegretBonusConfig>({
  name: 'regret_bonus',
  role: 'transform',
  summary: 'Shape the rewards of G sampled candidates per context (GRPO, DRRO hard/soft, DRO) and add GRPO advantages.',
  doc:
    'Adds `shaped_reward` (float64) and `advantage` (float32) = (r̃ − mean_g)/(std_g + 1e-8). Shapers as in paper 004 Eq. 4.14–4.15 with fixed (2.5·G) or dynamic ' +
    '(δ̃₀ + α·KL over the last 20 batches) budgets; per-batch diagnostics (delta, kl, kl_smoothed, bonus_mean) go to the metric stream.',
  fields,
  check: (config) => shaperOptions(config).problems,
  create(config, ctx) {
    const name = config.shaper;
    const { options, problems } = shaperOptions(config);
    if (problems.length) throw new ConfigError(`stage "regret_bonus": ${problems[0]}`, problems);
    const shaper = createGroupShaper(name, options);
    let state: BudgetState = shaper.initialState();
    let batchIndex = 0;
    const G = config.group_size;
    const col = (b: Batch, key: ColumnOption) => toFloat64(numericColumn(b, config[key]));
    return {
      process(b) {
        const where = `regret_bonus: batch ${batchIndex}`;
        if (b.numRows % G !== 0)
          throw new ConfigError(`${where}: ${b.numRows} rows is not a multiple of group_size ${G}; batches must hold whole groups`, ['group_size']);
        const shapingInput: GroupShapingInput = {
          groupSize: G,
          proxyReward: col(b, 'proxy_reward_column'),
          rolloutLogProb: col(b, 'rollout_logprob_column'),
        };
        if (config.ref_logprob_column in b.columns) shapingInput.refLogProb = col(b, 'ref_logprob_column');
        if (config.exact_kl_column in b.columns) {
          const perRow = col(b, 'exact_kl_column');
          const perGroup = new Float64Array(b.numRows / G);
          for (let g = 0; g < perGroup.length; g++) perGroup[g] = perRow[g * G]!;
          shapingInput.exactKl = perGroup;
        }
        let out;
        try {
          out = shaper.shape(shapingInput, state);
        } catch (e) {
          throw new Error(`${where}: ${(e as Error).message}`);
        }
        state = out.state;
        for (const [metric, value] of Object.entries(out.result.diagnostics)) {
          if (Number.isFinite(value))
            ctx.emitMetric({ method: name, seed: ctx.seed, step: batchIndex, epoch: 0, split: 'batch', metric, value, count: b.numRows });
        }
        batchIndex++;
        return { ...b, columns: { ...b.columns, shaped_reward: out.result.shapedReward, advantage: new Float32Array(out.result.advantage) } };
      },
      getState: (): RegretBonusState => ({ batch_index: batchIndex, shaper: structuredClone(state) }),
      setState(s: unknown) {
        const v = s as RegretBonusState;
        if (typeof v !== 'object' || v === null || !Number.isInteger(v.batch_index) || !Array.isArray(v.shaper?.window)) {
          throw new ConfigError('regret_bonus: invalid saved state (expected { batch_index, shaper: { window } })', ['state']);
        }
        batchIndex = v.batch_index;
        state = { window: v.shaper.window.map(Number) };
      },
    };
  },
});
