/**
 * What one model (a checkpoint kind: "sasrec", "gaussian", …) gives the rest
 * of the code: its configuration codec (the "model" object of
 * checkpoint.json, read validated and typed), parameter creation, the policy
 * evaluation loads, the online trainer's view of it, and its offline
 * training task. Registered in model-registry.ts; everything that handles
 * checkpoints of any kind goes through an entry, never through a switch on
 * the kind.
 */
import { ConfigError } from '../core/config-schema.js';
import type { RankingScorer, RewardPredictor, SamplingPolicy } from '../core/policy.js';
import type { CheckpointMeta, LoadedCheckpoint } from './checkpoint.js';
import type { OfflineTask, PreparedBatch } from './offline-trainer.js';
import type { OnlineModel } from './online-model.js';
import type { NamedArray, ParamStore } from './params.js';

/** What a checkpoint records about its model: the registry key and the configuration as JSON. */
export interface StoredModel {
  kind: string;
  config: Record<string, unknown>;
}

/** The model configuration to and from the JSON kept in checkpoint.json. */
export interface ModelConfigCodec<C> {
  /** Validate and type a stored configuration; a bad value is a ConfigError naming `where` and the field. */
  read(json: unknown, where: string): C;
  write(config: C): Record<string, unknown>;
}

/** A trained model as evaluation uses it: scores always; rewards and sampling where the model has them. */
export type ModelPolicy = RankingScorer & Partial<RewardPredictor & SamplingPolicy> & { dispose(): void };

/** The online trainer's view of a model, and constant arrays its checkpoints must keep (e.g. catalog embeddings). */
export interface OnlineModelBuild {
  model: OnlineModel<unknown>;
  extraArrays?: NamedArray[];
}

/** What a model's author writes (see sasrec-model.ts, gaussian-model.ts). */
export interface ModelSpec<C, D, O, P extends PreparedBatch> {
  readonly kind: string;
  codec: ModelConfigCodec<C>;
  numItems(config: C): number;
  /** Longest context the model reads (online contexts are cut to it); Number.MAX_SAFE_INTEGER when unbounded. */
  maxContext(config: C): number;
  /** Parameters of this architecture, initial values from `seed`. */
  createParams(config: C, seed: number): ParamStore;
  /** Whether a checkpoint's parameters include a reward head (the online proxy). */
  hasRewardHead(config: C, params: ReadonlyMap<string, unknown>): boolean;
  /** The policy of a checkpoint of this kind (its parameters loaded). */
  policy(config: C, ck: LoadedCheckpoint): ModelPolicy;
  /** The online trainer's view of a checkpoint of this kind. */
  onlineModel(config: C, ck: LoadedCheckpoint): OnlineModelBuild;
  /** The offline training task on the model's own data `D` with its options `O`. */
  task(params: ParamStore, config: C, data: D, options: O): OfflineTask<P>;
}

/** A model with its configuration fixed: what kind-independent code works with. */
export interface BoundModel {
  readonly stored: StoredModel;
  readonly numItems: number;
  readonly maxContext: number;
  createParams(seed: number): ParamStore;
  hasRewardHead(params: ReadonlyMap<string, unknown>): boolean;
  policy(ck: LoadedCheckpoint): ModelPolicy;
  onlineModel(ck: LoadedCheckpoint): OnlineModelBuild;
}

/** The registry's view of an entry: its kind, and how to bind a stored configuration. */
export interface RegisteredModel {
  readonly kind: string;
  /** Read a stored configuration (validated) and bind it. */
  fromStored(json: unknown, where: string): BoundModel;
}

export interface ModelEntry<C, D, O, P extends PreparedBatch = PreparedBatch> extends RegisteredModel, ModelSpec<C, D, O, P> {
  /** The configuration of a checkpoint, which must be of this kind. */
  configOf(meta: Pick<CheckpointMeta, 'kind' | 'model'>, where: string): C;
  stored(config: C): StoredModel;
  bind(config: C): BoundModel;
}

/** Make an entry from a spec (the generic parts: binding, kind checks). */
export function defineModel<C, D, O, P extends PreparedBatch>(spec: ModelSpec<C, D, O, P>): ModelEntry<C, D, O, P> {
  const stored = (config: C): StoredModel => ({ kind: spec.kind, config: spec.codec.write(config) });
  const bind = (config: C): BoundModel => ({
    stored: stored(config),
    numItems: spec.numItems(config),
    maxContext: spec.maxContext(config),
    createParams: (seed) => spec.createParams(config, seed),
    hasRewardHead: (params) => spec.hasRewardHead(config, params),
    policy: (ck) => spec.policy(config, ck),
    onlineModel: (ck) => spec.onlineModel(config, ck),
  });
  return {
    ...spec,
    stored,
    bind,
    fromStored: (json, where) => bind(spec.codec.read(json, where)),
    configOf(meta, where) {
      if (meta.kind !== spec.kind) throw new ConfigError(`${where} holds a ${meta.kind} model, not ${spec.kind}`, ['kind']);
      return spec.codec.read(meta.model, where);
    },
  };
}
