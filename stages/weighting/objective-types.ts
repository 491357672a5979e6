/**
 * Types shared by the offline objective definitions (stages/weighting/*-objectives.ts)
 * and the registry. The core contract (stages/core/objective.ts) is kept as is;
 * WeightingBatch only adds optional columns some objectives can use.
 */
import { validateConfig, type Fields } from '../core/config-schema.js';
import type { ObjectiveBatch, ObjectiveResult, OfflineObjective, OfflineObjectiveFactory } from '../core/objective.js';
import type { CriticRequest, ProximalRequest } from './critic-request.js';

export interface WeightingBatch extends ObjectiveBatch {
  /**
   * Return R(τ) of each row's trajectory (exp_rsft_trajectory). When absent,
   * R is the sum of `reward` over the rows of the batch sharing `group`.
   */
  trajectoryReturn?: Float64Array;
  /** Per-row baseline b(s) (e.g. a learned value), for advantage objectives with `baseline: column`. */
  baseline?: Float64Array;
  /** A learned critic's Q(s, a) and baseline b(s) per row, for critic-based objectives (critic-request.ts). */
  critic?: { q: Float64Array; baseline: Float64Array };
}

/** What a stage must supply beyond the reward column. */
export interface ObjectiveInputs {
  /** A trajectory key per row (session or user). */
  group?: boolean;
  /** The trajectory return column, when the batch has one. */
  trajectoryReturn?: boolean;
  /** A per-row baseline column, when the config asks for one. */
  baseline?: (config: Record<string, unknown>) => boolean;
  /** A learned critic the trainer must fit first (IQL, CRR with a critic, BPPO, DRPO-Q). */
  critic?: (config: Record<string, unknown>) => CriticRequest;
  /** BPPO: train with the clipped surrogate against a proximal policy instead of the weighted NLL. */
  proximal?: (config: Record<string, unknown>) => ProximalRequest;
}

export interface OfflineObjectiveEntry {
  fields: Fields;
  /** The objective's equation and behaviour at edge cases (README, `recpost stages <name>`). */
  doc: string;
  factory: OfflineObjectiveFactory;
  /** One line for listings. */
  summary: string;
  inputs?: ObjectiveInputs;
  /** Cross-field checks of the validated options (run by `validate`; one message per problem). */
  check?: (config: Record<string, unknown>) => string[];
}

/** Validate an objective's configuration (errors name the objective and field). */
export function validateObjectiveConfig<C>(name: string, fields: Fields, config: unknown): C {
  return validateConfig<C>(`objective "${name}"`, fields, config);
}

/** A stateless objective from a per-batch function. */
export function statelessObjective(name: string, weigh: (batch: WeightingBatch) => ObjectiveResult): OfflineObjective<null> {
  return {
    name,
    initialState: () => null,
    weigh: (batch, _state) => ({ result: weigh(batch as WeightingBatch), state: null }),
  };
}
