/**
 * The proxy reward of online training, as one function of the rollout
 * (train_online's `proxy` hook), built in this order:
 *
 *   1. the base proxy of each ensemble member:
 *        reward_head  the init checkpoint's frozen reward head (member 0) and
 *                     the heads of `ensemble.checkpoints` (members 1…);
 *        controlled   r* + σ·b_j(item) from a calibrate_proxy file (member j);
 *        simulator    r* + N(0, proxy_noise²) (one member);
 *   2. the ensemble's combination (Ensemble-Mean / Ensemble-UWO,
 *      stages/weighting/reward-ensemble.ts), else member 0;
 *   3. InfoRM's penalty −c·KL(q(z|s,a) ‖ N(0, I)) (inform-head.ts);
 *   4. BSPO's replacement of candidates outside the behaviour policy's
 *      support (π₀(a|s) < ε_β) by v_pess (stages/weighting/bspo.ts).
 *
 * Every step is deterministic given (seed, update), so resumed runs repeat
 * the uninterrupted run's rewards.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ControlledProxySpec } from '../simulators/controlled-proxy.js';
import { ControlledProxy } from '../simulators/controlled-proxy.js';
import type { TrueRewardOracle } from '../simulators/truth.js';
import { bspoRewards } from '../weighting/bspo.js';
import { combineEnsemble, type EnsembleCombine, type EnsembleDisagreement } from '../weighting/reward-ensemble.js';
import { informPenalty } from './inform-head.js';
import type { ContextBatch, OnlineModel } from './online-model.js';
import type { ParamStore } from './params.js';
import { Rng, RNG_PURPOSE } from './rng.js';

export type ProxyKind = 'reward_head' | 'simulator' | 'controlled';

export interface OnlineProxyOptions {
  kind: ProxyKind;
  seed: number;
  /** proxy simulator: std of the i.i.d. noise. */
  proxyNoise: number;
  /** proxy controlled: the calibrate_proxy file's content. */
  controlled?: ControlledProxySpec;
  ensemble: { combine: 'none' | EnsembleCombine; lambda: number; disagreement: EnsembleDisagreement; members: number };
  /** proxy reward_head: the other members' parameters (member 0 is `reference`). */
  memberHeads: ParamStore[];
  inform?: { params: ParamStore; penalty: number };
  bspo: { threshold: number; value: number };
}

export type OnlineProxyFn = (batch: ContextBatch, items: Int32Array, groupSize: number, update: number, refLogProb?: Float64Array) => Float64Array;

/** Candidate i's user: the user of its context ⌊i / G⌋. */
const candidateUsers = (batch: ContextBatch, items: Int32Array, G: number) => Int32Array.from(items, (_, i) => batch.users[Math.floor(i / G)]!);

export function onlineProxy<P>(model: OnlineModel<P>, reference: ParamStore, oracle: TrueRewardOracle | undefined, opts: OnlineProxyOptions): OnlineProxyFn {
  const ensembleOn = opts.ensemble.combine !== 'none';
  const controlled = opts.controlled ? new ControlledProxy(opts.controlled) : undefined;
  const controlledMembers = ensembleOn ? (opts.ensemble.members > 0 ? opts.ensemble.members : (opts.controlled?.members ?? 1)) : 1;
  return (batch, items, G, update, refLogProb) => {
    let members: Float64Array[];
    if (opts.kind === 'controlled') {
      const gold = oracle!.trueRewards(candidateUsers(batch, items, G), items);
      members = Array.from({ length: controlledMembers }, (_, j) => controlled!.score(j, gold, items));
    } else if (opts.kind === 'reward_head') {
      const prep = model.prepare(batch);
      members = [reference, ...opts.memberHeads].map((p) => Float64Array.from(model.predictRewards!(p, prep, items, G)));
    } else {
      const truth = oracle!.trueRewards(candidateUsers(batch, items, G), items);
      const rng = new Rng(opts.seed, RNG_PURPOSE.sample, 1_000_003, update);
      members = [Float64Array.from(truth, (t) => t + opts.proxyNoise * rng.normal())];
    }
    let reward = ensembleOn ? combineEnsemble(members, { ...opts.ensemble, combine: opts.ensemble.combine as EnsembleCombine }).reward : members[0]!;
    if (opts.inform) {
      const features = model.stateFeatures(reference, model.prepare(batch));
      const rows = Int32Array.from({ length: items.length }, (_, i) => Math.floor(i / G));
      const repeated = tf.tidy(() => tf.gather(features, tf.tensor1d(rows, 'int32')) as tf.Tensor2D);
      features.dispose();
      const kl = informPenalty(opts.inform.params, repeated, items);
      repeated.dispose();
      const c = opts.inform.penalty;
      reward = Float64Array.from(reward, (r, i) => r - c * kl[i]!);
    }
    if (opts.bspo.threshold > 0) {
      if (!refLogProb) throw new Error('BSPO needs the behaviour log-probabilities of the candidates');
      reward = bspoRewards(reward, refLogProb, opts.bspo).reward;
    }
    return reward;
  };
}
