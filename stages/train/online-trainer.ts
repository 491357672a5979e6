/**
 * Grouped online post-training (paper 004 Algorithms 1–4; SPEC S5, S6):
 *
 *   for update u = 0 … M−1:
 *     π̄ ← π_θ (frozen rollout policy); draw B contexts
 *     sample G candidates per context from π̄; score them with the proxy
 *     (the frozen reward head, or a simulator's noisy reward)
 *     shape the group: GRPO, DRRO hard / soft (fixed or dynamic budget), DRO
 *     S steps on the clipped surrogate
 *       L = −(1/BG) Σ min(ρ_k A_k, clip(ρ_k, 1 − ε, 1 + ε) A_k),  ρ_k = π_θ(y_k)/π̄(y_k)
 *
 * and the baselines of paper 000: PPO (the same surrogate with advantages
 * r̂ − V(s) from a value head, normalised over the batch, plus c_v·MSE(V, r̂))
 * and online DPO (two samples per context, the preferred one by the proxy,
 * loss −log σ(β[(log π_θ − log π_ref)(y_w) − (log π_θ − log π_ref)(y_l)])
 * with the frozen initial policy as π_ref; ties are skipped).
 *
 * No KL penalty enters any loss. The exact KL(π̄‖π₀) over the catalog is
 * computed for every context (the dynamic budget's better estimator, and a
 * drift statistic). The gold reward (a simulator's true reward) is only ever
 * reported: records proxy_reward, gold_reward, kl_ref, entropy at step u are
 * measured on the rollout of π_u (step 0 = the initial policy; one extra
 * rollout after the last update reports step M).
 *
 * Resuming: a checkpoint after update u holds the policy, Adam's moments, the
 * PPO value head and its Adam state, the shaper's state (the dynamic budget's
 * KL window) and u. Every random draw is keyed by (seed, update): the context
 * order by (seed, pass), the candidates by (seed, u), the stage's proxy noise
 * by (seed, u). So a run stopped after u updates (`stopAfterUpdates`) and
 * resumed ends with exactly the bytes of the uninterrupted run, and its
 * records for updates u … M are the uninterrupted run's (tested).
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { GroupShaper } from '../core/objective.js';
import type { Logger } from '../core/logger.js';
import { Adam, clipScale, globalNorm, type AdamConfig } from './adam.js';
import { listCheckpoints, readCheckpointMeta, writeCheckpoint, type LoadedCheckpoint } from './checkpoint.js';
import { linear } from './fast-ops.js';
import type { CheckpointInfo, TrainingRecord } from './offline-trainer.js';
import type { ContextBatch, OnlineModel } from './online-model.js';
import { ParamStore, type NamedArray } from './params.js';
import { permutation, Rng, RNG_PURPOSE, sampleCategorical, streamFor } from './rng.js';

export const ONLINE_ALGORITHMS = ['grpo', 'drro_hard', 'drro_soft', 'dro', 'ppo', 'dpo'] as const;
export type OnlineAlgorithm = (typeof ONLINE_ALGORITHMS)[number];

export interface OnlineTrainerOptions {
  algorithm: OnlineAlgorithm;
  method: string;
  seed: number;
  /** Candidates per context (DPO always draws 2). */
  groupSize: number;
  updates: number;
  contextsPerUpdate: number;
  /** Policy-gradient steps per rollout (S). */
  innerSteps: number;
  /** ε of the clipped surrogate. */
  clip: number;
  adam: AdamConfig;
  clipNorm: number;
  /** PPO: weight of the value loss and the value head's hidden width. */
  valueCoef: number;
  valueHidden: number;
  /** DPO: β. */
  dpoBeta: number;
  checkpointRoot?: string;
  /** Write a checkpoint every this many updates (the last update always gets one). */
  checkpointEvery: number;
  /** Stop, with a checkpoint, once this many updates are done in total (for tests and for splitting long runs). */
  stopAfterUpdates?: number;
  trainerConfig?: Record<string, unknown>;
  extraArrays?: NamedArray[];
}

export interface OnlineHooks {
  emit(rec: TrainingRecord): void;
  log?: Pick<Logger, 'info' | 'warn'>;
  label?: string;
  onCheckpoint?(info: CheckpointInfo): void;
  /** Proxy reward r̂ of candidate items[r·G + k] for context r of `batch` (used for updates). */
  proxy(batch: ContextBatch, items: Int32Array, groupSize: number, update: number): Float64Array;
  /** Gold (true) reward of (users[i], items[i]); reported only. */
  gold?(users: Int32Array, items: Int32Array): ArrayLike<number>;
}

export interface OnlineContexts extends ContextBatch {
  rows: number;
}

export interface OnlineResult {
  /** Updates done in total (a resumed run counts those before the checkpoint). */
  updates: number;
  /** The update a resumed run started at (0 for a fresh run). */
  startUpdate: number;
  /** Every checkpoint of the series this run published: on resume, the earlier ones too. */
  checkpoints: CheckpointInfo[];
  stoppedEarly: boolean;
}

/** The names the value head's parameters and Adam moments carry in a checkpoint. */
const VALUE_PREFIX = 'value/';

function subBatch(all: OnlineContexts, rows: Int32Array): ContextBatch {
  const offsets = new Int32Array(rows.length + 1);
  for (let j = 0; j < rows.length; j++) offsets[j + 1] = offsets[j]! + all.offsets[rows[j]! + 1]! - all.offsets[rows[j]!]!;
  const values = new Int32Array(offsets[rows.length]!);
  const users = new Int32Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j]!;
    values.set(all.values.subarray(all.offsets[r]!, all.offsets[r + 1]!), offsets[j]!);
    users[j] = all.users[r]!;
  }
  return { offsets, values, users };
}

/** Rows of update u: consecutive slices of per-pass permutations of the contexts. */
function contextRows(n: number, b: number, u: number, seed: number, cache: Map<number, Int32Array>): Int32Array {
  const out = new Int32Array(b);
  for (let j = 0; j < b; j++) {
    const idx = u * b + j;
    const pass = Math.floor(idx / n);
    let perm = cache.get(pass);
    if (!perm) {
      perm = permutation(n, streamFor(seed, RNG_PURPOSE.contexts, pass));
      cache.clear();
      cache.set(pass, perm);
    }
    out[j] = perm[idx % n]!;
  }
  return out;
}

function readAll(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** Differentiable log π(items[r·k + j] | s_r) from a [rows, V] log-probability tensor. */
function pick(lp: tf.Tensor2D, items: Int32Array, perRow: number): tf.Tensor1D {
  const v = lp.shape[1];
  const idx = Int32Array.from(items, (it, i) => Math.floor(i / perRow) * v + it);
  return tf.gather(tf.reshape(lp, [-1]), tf.tensor1d(idx, 'int32')) as tf.Tensor1D;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return a.length ? s / a.length : NaN;
}

export async function trainOnline<P>(
  model: OnlineModel<P>,
  policy: ParamStore,
  reference: ParamStore,
  contexts: OnlineContexts,
  shaper: GroupShaper<unknown> | undefined,
  opts: OnlineTrainerOptions,
  hooks: OnlineHooks,
  /** Continue from this checkpoint of an earlier run of the same algorithm and seed. */
  resume?: LoadedCheckpoint,
): Promise<OnlineResult> {
  const grouped = opts.algorithm !== 'ppo' && opts.algorithm !== 'dpo';
  if (grouped && !shaper) throw new Error(`online ${opts.algorithm}: a group shaper is required`);
  if (contexts.rows === 0) throw new Error(`${hooks.label ?? 'online'}: no contexts to train on`);
  const G = opts.algorithm === 'dpo' ? 2 : opts.groupSize;
  const B = Math.min(opts.contextsPerUpdate, contexts.rows);
  const V = model.numItems;
  const names = model.policyNames(policy);
  const adam = new Adam(policy, opts.adam, names);
  const policyVars = names.map((n) => policy.get(n));
  let value: ParamStore | undefined;
  let valueAdam: Adam | undefined;
  if (opts.algorithm === 'ppo') {
    value = new ParamStore(true);
    value.init(`${VALUE_PREFIX}w1`, [model.featureDim, opts.valueHidden], { kind: 'glorot' }, opts.seed);
    value.init(`${VALUE_PREFIX}b1`, [opts.valueHidden], { kind: 'zeros' }, opts.seed);
    value.init(`${VALUE_PREFIX}w2`, [opts.valueHidden, 1], { kind: 'glorot' }, opts.seed);
    value.init(`${VALUE_PREFIX}b2`, [1], { kind: 'zeros' }, opts.seed);
    valueAdam = new Adam(value, opts.adam);
  }
  const valueOf = (feats: tf.Tensor2D): tf.Tensor1D =>
    tf.tidy(() => tf.reshape(linear(linear(feats, value!.get('value/w1') as tf.Tensor2D, value!.get('value/b1') as tf.Tensor1D, true), value!.get('value/w2') as tf.Tensor2D, value!.get('value/b2') as tf.Tensor1D), [-1]) as tf.Tensor1D);
  let shaperState: unknown = shaper?.initialState();
  const checkpoints: CheckpointInfo[] = [];
  const permCache = new Map<number, Int32Array>();
  const label = hooks.label ?? 'online';
  let start = 0;
  if (resume) {
    try {
      start = restore(resume, opts, contexts.rows, policy, adam, value, valueAdam, label);
    } catch (e) {
      adam.dispose();
      valueAdam?.dispose();
      value?.dispose();
      throw e;
    }
    if (resume.meta.objectiveState !== undefined) shaperState = resume.meta.objectiveState;
  }

  const saveCheckpoint = (updates: number) => {
    if (!opts.checkpointRoot) return;
    const dir = path.join(opts.checkpointRoot, `step-${updates}`);
    const st = adam.state();
    const vst = valueAdam?.state();
    writeCheckpoint(
      dir,
      {
        kind: model.stored.kind,
        method: opts.method,
        model: model.stored.config,
        trainer: opts.trainerConfig,
        step: updates,
        epoch: 0,
        seed: opts.seed,
        position: { epoch: 0, batch: updates, rows: contexts.rows },
        objectiveState: shaperState,
        rng: { seed: opts.seed, step: updates, epoch: 0, batch: updates },
        optimizer: { kind: 'adam', step: st.step, config: { ...opts.adam } },
        extra: { algorithm: opts.algorithm, updates, ...(vst ? { valueOptimizerStep: vst.step } : {}) },
      },
      // The value head is stored with the parameters under value/… (a policy loader ignores it), its moments as m/value/…, v/value/….
      [...policy.toArrays(), ...(opts.extraArrays ?? []), ...(value ? value.toArrays() : [])],
      [...st.arrays, ...(vst ? vst.arrays : [])],
    );
    const info: CheckpointInfo = { method: opts.method, dir, step: updates, epoch: 0, seed: opts.seed };
    checkpoints.push(info);
    hooks.onCheckpoint?.(info);
  };

  /** Roll out π_u on a batch: candidates, their rollout/reference log-probs, exact KL and entropy per context. */
  const rollout = (batch: ContextBatch, prep: P, u: number) => {
    const lpBar = readAll(model.catalogLogProbs(policy, prep));
    const lp0 = readAll(model.catalogLogProbs(reference, prep));
    const rows = batch.users.length;
    const items = new Int32Array(rows * G);
    const rng: Rng = streamFor(opts.seed, RNG_PURPOSE.sample, u);
    const rolloutLogProb = new Float64Array(rows * G);
    const refLogProb = new Float64Array(rows * G);
    const exactKl = new Float64Array(rows);
    const entropy = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      sampleCategorical(lpBar, r * V, V, G, rng, items, r * G, 0);
      let kl = 0;
      let ent = 0;
      for (let i = 1; i < V; i++) {
        const lb = lpBar[r * V + i]!;
        const p = Math.exp(lb);
        if (p > 0) {
          kl += p * (lb - lp0[r * V + i]!);
          ent -= p * lb;
        }
      }
      exactKl[r] = Math.max(0, kl);
      entropy[r] = ent;
      for (let k = 0; k < G; k++) {
        rolloutLogProb[r * G + k] = lpBar[r * V + items[r * G + k]!]!;
        refLogProb[r * G + k] = lp0[r * V + items[r * G + k]!]!;
      }
    }
    return { items, rolloutLogProb, refLogProb, exactKl, entropy };
  };

  const report = (u: number, batch: ContextBatch, roll: ReturnType<typeof rollout>, proxy: Float64Array, extra: Record<string, number>) => {
    const count = roll.items.length;
    const rec = (metric: string, v: number) => Number.isFinite(v) && hooks.emit({ step: u, epoch: 0, metric, value: v, count });
    rec('proxy_reward', mean(proxy));
    if (hooks.gold) {
      const users = Int32Array.from(roll.items, (_, i) => batch.users[Math.floor(i / G)]!);
      rec('gold_reward', mean(hooks.gold(users, roll.items)));
    }
    rec('kl_ref', mean(roll.exactKl));
    rec('entropy', mean(roll.entropy));
    for (const [k, v] of Object.entries(extra)) rec(k, v);
  };

  let stoppedEarly = false;
  let done = start;
  try {
    // Step 0 is the initial policy: evaluate_proxy_gold recentres every curve
    // at the earliest checkpoint of a series and measures KL from it. A
    // resumed run keeps it and republishes the series' checkpoints so far.
    if (resume) {
      for (const info of earlierCheckpoints(resume, opts, start)) {
        checkpoints.push(info);
        hooks.onCheckpoint?.(info);
      }
    } else saveCheckpoint(0);
    for (let u = start; u < opts.updates; u++) {
      const batch = subBatch(contexts, contextRows(contexts.rows, B, u, opts.seed, permCache));
      const prep = model.prepare(batch);
      const roll = rollout(batch, prep, u);
      const proxy = hooks.proxy(batch, roll.items, G, u);
      const extra: Record<string, number> = {};
      let advantage: Float32Array | undefined;
      let dpoPairs: { win: Int32Array; lose: Int32Array; rows: Int32Array } | undefined;
      if (grouped) {
        const shaped = shaper!.shape(
          { groupSize: G, proxyReward: proxy, rolloutLogProb: roll.rolloutLogProb, refLogProb: roll.refLogProb, exactKl: roll.exactKl },
          shaperState,
        );
        shaperState = shaped.state;
        advantage = Float32Array.from(shaped.result.advantage);
        extra.shaped_reward = mean(shaped.result.shapedReward);
        for (const [k, v] of Object.entries(shaped.result.diagnostics)) extra[k] = v;
      } else if (opts.algorithm === 'ppo') {
        const v = readAll(tf.tidy(() => valueOf(model.stateFeatures(policy, prep))));
        const raw = Float64Array.from(proxy, (r, i) => r - v[Math.floor(i / G)]!);
        const m = mean(raw);
        let s2 = 0;
        for (const x of raw) s2 += (x - m) ** 2;
        const sd = Math.sqrt(s2 / raw.length);
        advantage = Float32Array.from(raw, (x) => (x - m) / (sd + 1e-8));
        extra.value_mean = mean(v);
      } else {
        const rows: number[] = [];
        const win: number[] = [];
        const lose: number[] = [];
        for (let r = 0; r < batch.users.length; r++) {
          const a = proxy[2 * r]!;
          const b = proxy[2 * r + 1]!;
          if (a === b) continue;
          rows.push(r);
          win.push(roll.items[2 * r + (a > b ? 0 : 1)]!);
          lose.push(roll.items[2 * r + (a > b ? 1 : 0)]!);
        }
        dpoPairs = { rows: Int32Array.from(rows), win: Int32Array.from(win), lose: Int32Array.from(lose) };
        extra.dpo_pairs = rows.length;
      }

      let lossSum = 0;
      let clipFrac = 0;
      let normSum = 0;
      let valueLossSum = 0;
      const steps = dpoPairs && dpoPairs.rows.length === 0 ? 0 : opts.innerSteps;
      const adv = advantage ? tf.tensor1d(advantage) : undefined;
      const rolloutLp = tf.tensor1d(Float32Array.from(roll.rolloutLogProb));
      const proxyT = tf.tensor1d(Float32Array.from(proxy));
      let refPair: tf.Tensor1D | undefined;
      if (dpoPairs && steps > 0) {
        const lp0 = model.catalogLogProbs(reference, prep);
        refPair = tf.tidy(() => {
          const rowsOf = (items: Int32Array) => Int32Array.from(items, (it, j) => dpoPairs!.rows[j]! * V + it);
          const flat = tf.reshape(lp0, [-1]);
          return tf.sub(tf.gather(flat, tf.tensor1d(rowsOf(dpoPairs!.win), 'int32')), tf.gather(flat, tf.tensor1d(rowsOf(dpoPairs!.lose), 'int32'))) as tf.Tensor1D;
        });
        lp0.dispose();
      }
      try {
        for (let s = 0; s < steps; s++) {
          let clipped: tf.Scalar | undefined;
          let vLoss: tf.Scalar | undefined;
          const vars = value ? [...policyVars, ...value.variables()] : policyVars;
          const { value: lossT, grads } = tf.variableGrads(() => {
            const lp = model.catalogLogProbs(policy, prep);
            if (dpoPairs) {
              const flat = tf.reshape(lp, [-1]);
              const idx = (items: Int32Array) => tf.tensor1d(Int32Array.from(items, (it, j) => dpoPairs!.rows[j]! * V + it), 'int32');
              const margin = tf.sub(tf.sub(tf.gather(flat, idx(dpoPairs.win)), tf.gather(flat, idx(dpoPairs.lose))), refPair!);
              // log σ(z) = −softplus(−z) (tf.logSigmoid's gradient loses its input on WASM).
              return tf.mean(tf.softplus(tf.neg(tf.mul(margin, opts.dpoBeta)))) as tf.Scalar;
            }
            const lpItems = pick(lp, roll.items, G);
            const ratio = tf.exp(tf.sub(lpItems, rolloutLp));
            const surr = tf.minimum(tf.mul(ratio, adv!), tf.mul(tf.clipByValue(ratio, 1 - opts.clip, 1 + opts.clip), adv!));
            clipped = tf.keep(tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), opts.clip), 'float32')) as tf.Scalar);
            let loss = tf.neg(tf.mean(surr)) as tf.Scalar;
            if (value) {
              const vPred = valueOf(model.stateFeatures(policy, prep));
              const rep = tf.tensor1d(Int32Array.from({ length: roll.items.length }, (_, i) => Math.floor(i / G)), 'int32');
              vLoss = tf.keep(tf.mean(tf.square(tf.sub(tf.gather(vPred, rep), proxyT))) as tf.Scalar);
              loss = tf.add(loss, tf.mul(vLoss, opts.valueCoef)) as tf.Scalar;
            }
            return loss;
          }, vars);
          const pg = new Map<string, tf.Tensor>();
          const vg = new Map<string, tf.Tensor>();
          for (const [vn, g] of Object.entries(grads)) {
            const pn = policy.nameOf(vn);
            if (pn) pg.set(pn, g);
            else vg.set(value!.nameOf(vn)!, g);
          }
          const norm = globalNorm([...pg.values()]);
          adam.apply(pg, clipScale(norm, opts.clipNorm));
          if (valueAdam) valueAdam.apply(vg, clipScale(globalNorm([...vg.values()]), opts.clipNorm));
          lossSum += lossT.dataSync()[0]!;
          normSum += norm;
          if (clipped) clipFrac += clipped.dataSync()[0]!;
          if (vLoss) valueLossSum += vLoss.dataSync()[0]!;
          tf.dispose([lossT, ...Object.values(grads), ...(clipped ? [clipped] : []), ...(vLoss ? [vLoss] : [])]);
        }
      } finally {
        tf.dispose([rolloutLp, proxyT, ...(adv ? [adv] : []), ...(refPair ? [refPair] : [])]);
      }
      if (steps > 0) {
        extra.loss = lossSum / steps;
        extra.grad_norm = normSum / steps;
        if (!dpoPairs) extra.clip_frac = clipFrac / steps;
        if (value) extra.value_loss = valueLossSum / steps;
      }
      report(u, batch, roll, proxy, extra);
      if (!Number.isFinite(extra.loss ?? 0)) throw new Error(`${label}: the loss became ${extra.loss} at update ${u}`);
      done = u + 1;
      const stop = opts.stopAfterUpdates !== undefined && done >= opts.stopAfterUpdates && done < opts.updates;
      if (stop || done === opts.updates || (opts.checkpointEvery > 0 && done % opts.checkpointEvery === 0)) saveCheckpoint(done);
      if (stop) {
        stoppedEarly = true;
        break;
      }
      if ((u & 3) === 3) await new Promise((r) => setImmediate(r));
    }
    // The policy after the last update, measured the same way (once, by the run that did the last update).
    if (!stoppedEarly && start < opts.updates) {
        const batch = subBatch(contexts, contextRows(contexts.rows, B, opts.updates, opts.seed, permCache));
      const prep = model.prepare(batch);
      const roll = rollout(batch, prep, opts.updates);
      report(opts.updates, batch, roll, hooks.proxy(batch, roll.items, G, opts.updates), {});
    }
  } finally {
    adam.dispose();
    valueAdam?.dispose();
    value?.dispose();
  }
  const what = start >= opts.updates ? `already complete at update ${start}` : `updates ${start + 1}…${done} of ${opts.updates}${stoppedEarly ? ' (stopped early)' : ''}`;
  hooks.log?.info(`${label}: ${what}, ${B} contexts × ${G} candidates each; ${checkpoints.length} checkpoint(s) in the series`);
  return { updates: done, startUpdate: start, checkpoints, stoppedEarly };
}

/** Load a checkpoint's training state into the trainer's stores; returns the updates it had done. */
function restore(
  resume: LoadedCheckpoint,
  opts: OnlineTrainerOptions,
  rows: number,
  policy: ParamStore,
  adam: Adam,
  value: ParamStore | undefined,
  valueAdam: Adam | undefined,
  label: string,
): number {
  const m = resume.meta;
  const cannot = `${label}: cannot resume from ${resume.dir}`;
  const algorithm = m.extra?.algorithm;
  if (algorithm !== opts.algorithm) throw new Error(`${cannot}: it is ${typeof algorithm === 'string' ? `a ${algorithm}` : 'not an online'} checkpoint, this run is ${opts.algorithm}`);
  if (m.seed !== opts.seed) throw new Error(`${cannot}: it was trained with seed ${m.seed}, this run has seed ${opts.seed} (resume needs the same seed)`);
  if (m.position && m.position.rows !== rows) throw new Error(`${cannot}: it was trained on ${m.position.rows} contexts, this data has ${rows} (resume needs the same contexts)`);
  const updates = typeof m.extra?.updates === 'number' ? m.extra.updates : m.step;
  policy.load(resume.params, `checkpoint ${resume.dir}`);
  if (m.optimizer) adam.load(m.optimizer.step, resume.optimizer);
  else if (updates > 0) throw new Error(`${cannot}: it holds no optimiser state`);
  if (value && valueAdam) {
    if (updates > 0 && ![...resume.params.keys()].some((n) => n.startsWith(VALUE_PREFIX)))
      throw new Error(`${cannot}: it holds no PPO value head (written by a version that did not save it)`);
    if (updates > 0) {
      value.load(resume.params, `checkpoint ${resume.dir}`);
      const step = typeof m.extra?.valueOptimizerStep === 'number' ? m.extra.valueOptimizerStep : (m.optimizer?.step ?? 0);
      valueAdam.load(step, resume.optimizer);
    }
  }
  return updates;
}

/** The checkpoints of the resumed series up to the resume point (same directory of step-<n>, same method), step ascending. */
function earlierCheckpoints(resume: LoadedCheckpoint, opts: OnlineTrainerOptions, upTo: number): CheckpointInfo[] {
  const out: CheckpointInfo[] = [];
  for (const c of listCheckpoints(path.dirname(resume.dir))) {
    if (c.step > upTo) continue;
    const m = path.resolve(c.dir) === path.resolve(resume.dir) ? resume.meta : readCheckpointMeta(c.dir);
    if (m.method !== resume.meta.method) continue;
    out.push({ method: opts.method, dir: c.dir, step: c.step, epoch: 0, seed: opts.seed });
  }
  if (!out.some((c) => path.resolve(c.dir) === path.resolve(resume.dir))) out.push({ method: opts.method, dir: resume.dir, step: upTo, epoch: 0, seed: opts.seed });
  return out;
}
