/**
 * BPPO (Behavior Proximal Policy Optimization; Zhuang et al. 2023; paper 002
 * baseline; SPEC S10) for the one-step bandit. Starting from the BC policy
 * π_β (the stage's `init`), maximise over the logged (s, a)
 *
 *   E[min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A)],   ρ = π(a|s)/π_k(a|s),
 *
 * with π_k replaced by the current policy every `refresh_steps` steps and the
 * advantage from a learned critic, A = Q(s, a) − V(s), Q fitted by MSE to the
 * logged reward and V(s) by expectile regression at τ = 0.5, i.e. the
 * behaviour policy's value (Zhuang et al. use a learned Q and V of π_β, as here).
 * This objective supplies A as the per-row weight; the trainer's loss is the
 * clipped surrogate (stages/train/losses/clipped-surrogate.ts).
 */
import type { Fields } from '../core/config-schema.js';
import { apgWeights } from './advantage-weights.js';
import { criticFields, criticOptionsOf, requireCritic } from './critic-request.js';
import { statelessObjective, validateObjectiveConfig, type OfflineObjectiveEntry } from './objective-types.js';

const bppoFields: Fields = {
  epsilon: { type: 'number', exclusiveMin: 0, max: 0.99, default: 0.2, doc: 'Clip radius ε of the ratio π/π_k (paper 002 tunes {0.1, 0.2, 0.3}).' },
  refresh_steps: { type: 'integer', min: 1, default: 50, doc: 'π_k is replaced by the current policy every this many optimiser steps.' },
  ...criticFields,
};

export const bppoEntry: OfflineObjectiveEntry = {
  summary: 'BPPO: clipped surrogate min(ρA, clip(ρ, 1±ε)A), ρ = π/π_k, A = Q − V from a learned critic; start from BC (train_gaussian).',
  doc:
    'Behaviour-proximal policy optimisation (Zhuang et al. 2023; paper 002 baseline, ε ∈ {0.1, 0.2, 0.3}): from the BC policy (set `init` to its checkpoint), ' +
    'minimise −mean(min(ρ·A, clip(ρ, 1 − ε, 1 + ε)·A)) over the logged rows, ρ = π(a|s)/π_k(a|s) on the Gaussian density of the logged action, π_k replaced by ' +
    'the current policy every refresh_steps steps; A = Q(s, a) − V(s) from a critic fitted first (Q by MSE to r, V by expectile regression at τ = 0.5). ' +
    'The weight column holds A (the trainer applies the clipped surrogate, not −w·log π). Needs train_gaussian.',
  fields: bppoFields,
  inputs: {
    critic: (c) => criticOptionsOf(c, 0.5, 'value'),
    proximal: (c) => ({ epsilon: c.epsilon as number, refreshSteps: c.refresh_steps as number }),
  },
  factory(config) {
    validateObjectiveConfig('bppo', bppoFields, config);
    return statelessObjective('bppo', (b) => {
      const { q, baseline } = requireCritic(b, 'bppo');
      return apgWeights(q, baseline);
    });
  },
};
