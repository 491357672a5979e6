/**
 * SASRec-style generative recommender (Kang & McAuley, 2018; SPEC S6):
 * item + position embeddings, `blocks` pre-norm transformer blocks of causal
 * multi-head self-attention and a ReLU feed-forward layer, each with dropout
 * and a residual connection, a final layer norm, and scores h_t·Eᵀ over the
 * catalog with the item embedding table E tied between input and output.
 *
 * Sequences are right-padded (items at positions 0..n−1, padding id 0 after),
 * so the causal mask alone keeps every real position from seeing padding; the
 * outputs at padding positions are computed and never used.
 *
 * Attention runs as two batched matrix products over [B·heads, T, d/heads];
 * every dense layer is one fused matMul + bias (+ ReLU).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ParamStore } from './params.js';
import { dropout } from './nn.js';
import { embedInputs, layerNormOp, linear, maskedAttention } from './fast-ops.js';
import { clearPaddingBiasCache } from './softmax-output.js';
import { Rng, RNG_PURPOSE, streamFor } from './rng.js';

export interface SasrecConfig {
  /** Catalog size including the padding index 0. */
  numItems: number;
  /** Longest input sequence (positions 0..maxLen−1). */
  maxLen: number;
  d: number;
  blocks: number;
  heads: number;
  /** Hidden width of the feed-forward layer. */
  ffn: number;
  dropout: number;
  /** Include the reward head's parameters. */
  rewardHead: boolean;
  rewardHidden: number;
}

export function validateSasrecConfig(c: SasrecConfig): void {
  if (c.d % c.heads !== 0) throw new Error(`sasrec: d (${c.d}) must be a multiple of heads (${c.heads})`);
  if (c.numItems < 2) throw new Error(`sasrec: the catalog needs at least one item besides padding (numItems = ${c.numItems})`);
}

/** Create and initialise the parameters (deterministic in `seed`). */
export function createSasrecParams(c: SasrecConfig, seed: number): ParamStore {
  validateSasrecConfig(c);
  const p = new ParamStore(true);
  const { d, ffn } = c;
  p.init('item_emb', [c.numItems, d], { kind: 'normal', std: 1 / Math.sqrt(d) }, seed);
  p.init('pos_emb', [c.maxLen, d], { kind: 'normal', std: 1 / Math.sqrt(d) }, seed);
  for (let b = 0; b < c.blocks; b++) {
    const k = `block${b}`;
    p.init(`${k}/ln1_g`, [d], { kind: 'ones' }, seed);
    p.init(`${k}/ln1_b`, [d], { kind: 'zeros' }, seed);
    for (const m of ['q', 'k', 'v']) {
      p.init(`${k}/${m}_w`, [d, d], { kind: 'glorot' }, seed);
      p.init(`${k}/${m}_b`, [d], { kind: 'zeros' }, seed);
    }
    p.init(`${k}/out_w`, [d, d], { kind: 'glorot' }, seed);
    p.init(`${k}/out_b`, [d], { kind: 'zeros' }, seed);
    p.init(`${k}/ln2_g`, [d], { kind: 'ones' }, seed);
    p.init(`${k}/ln2_b`, [d], { kind: 'zeros' }, seed);
    p.init(`${k}/ffn1_w`, [d, ffn], { kind: 'glorot' }, seed);
    p.init(`${k}/ffn1_b`, [ffn], { kind: 'zeros' }, seed);
    p.init(`${k}/ffn2_w`, [ffn, d], { kind: 'glorot' }, seed);
    p.init(`${k}/ffn2_b`, [d], { kind: 'zeros' }, seed);
  }
  p.init('final_ln_g', [d], { kind: 'ones' }, seed);
  p.init('final_ln_b', [d], { kind: 'zeros' }, seed);
  if (c.rewardHead) addRewardHeadParams(p, c, seed);
  return p;
}

/** Reward head: MLP on [h; e; h⊙e] → hidden (ReLU) → 1. */
export function addRewardHeadParams(p: ParamStore, c: SasrecConfig, seed: number): void {
  p.init('reward/w1', [3 * c.d, c.rewardHidden], { kind: 'glorot' }, seed);
  p.init('reward/b1', [c.rewardHidden], { kind: 'zeros' }, seed);
  p.init('reward/w2', [c.rewardHidden, 1], { kind: 'glorot' }, seed);
  p.init('reward/b2', [1], { kind: 'zeros' }, seed);
}

const causalCache = new Map<number, tf.Tensor2D>();

/** [T, T] additive mask: 0 on and below the diagonal, −1e9 above. */
function causalBias(t: number): tf.Tensor2D {
  let m = causalCache.get(t);
  if (!m || m.isDisposed) {
    const a = new Float32Array(t * t);
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) a[i * t + j] = -1e9;
    m = tf.keep(tf.tensor2d(a, [t, t]));
    causalCache.set(t, m);
  }
  return m;
}

/** Dispose the cached constant tensors (masks, padding biases); they are rebuilt on demand. */
export function clearConstantCaches(): void {
  for (const t of causalCache.values()) t.dispose();
  causalCache.clear();
  clearPaddingBiasCache();
}

/** Dropout randomness of one training step (undefined = evaluation, no dropout). */
export interface DropoutKey {
  seed: number;
  step: number;
  /** This input is rows rowOffset.. of the step's minibatch (a data-parallel slice): dropout uses those rows of the whole minibatch's masks. */
  rowOffset?: number;
}

/**
 * Hidden states [B·T, d] for right-padded item ids [B, T] (int32, 0 = padding).
 */
export function sasrecEncode(p: ParamStore, c: SasrecConfig, items: Int32Array, B: number, T: number, key?: DropoutKey): tf.Tensor2D {
  if (T > c.maxLen) throw new Error(`sasrec: input length ${T} exceeds max_len ${c.maxLen}`);
  if (items.length !== B * T) throw new Error(`sasrec: ${items.length} ids for a [${B}, ${T}] input`);
  const { d, heads } = c;
  const dh = d / heads;
  let layer = 0;
  const rng = (): Rng | undefined => (key && c.dropout > 0 ? streamFor(key.seed, RNG_PURPOSE.dropout, key.step, layer++) : undefined);
  // Every dropped tensor is [B·T, width]: a slice starting at minibatch row r skips r·T of its rows.
  const skip = (key?.rowOffset ?? 0) * T;
  return tf.tidy(() => {
    let x = embedInputs(p.get('item_emb') as tf.Tensor2D, p.get('pos_emb') as tf.Tensor2D, items, B, T, Math.sqrt(d));
    x = dropout(x, c.dropout, rng(), skip);
    const bias = causalBias(T);
    const scale = 1 / Math.sqrt(dh);
    for (let b = 0; b < c.blocks; b++) {
      const k = `block${b}`;
      const y = layerNormOp(x, p.get(`${k}/ln1_g`) as tf.Tensor1D, p.get(`${k}/ln1_b`) as tf.Tensor1D);
      const heads3 = (m: string) => {
        const t = linear(y, p.get(`${k}/${m}_w`) as tf.Tensor2D, p.get(`${k}/${m}_b`) as tf.Tensor1D);
        return (
          heads === 1 ? tf.reshape(t, [B, T, dh]) : tf.reshape(tf.transpose(tf.reshape(t, [B, T, heads, dh]), [0, 2, 1, 3]), [B * heads, T, dh])
        ) as tf.Tensor3D;
      };
      const attn = maskedAttention(heads3('q'), heads3('k'), heads3('v'), bias, scale, true);
      const merged = (
        heads === 1 ? tf.reshape(attn, [B * T, d]) : tf.reshape(tf.transpose(tf.reshape(attn, [B, heads, T, dh]), [0, 2, 1, 3]), [B * T, d])
      ) as tf.Tensor2D;
      const o = linear(merged, p.get(`${k}/out_w`) as tf.Tensor2D, p.get(`${k}/out_b`) as tf.Tensor1D);
      x = tf.add(x, dropout(o, c.dropout, rng(), skip));
      const y2 = layerNormOp(x, p.get(`${k}/ln2_g`) as tf.Tensor1D, p.get(`${k}/ln2_b`) as tf.Tensor1D);
      const f1 = dropout(linear(y2, p.get(`${k}/ffn1_w`) as tf.Tensor2D, p.get(`${k}/ffn1_b`) as tf.Tensor1D, true), c.dropout, rng(), skip);
      const f2 = linear(f1, p.get(`${k}/ffn2_w`) as tf.Tensor2D, p.get(`${k}/ffn2_b`) as tf.Tensor1D);
      x = tf.add(x, dropout(f2, c.dropout, rng(), skip));
    }
    return layerNormOp(x, p.get('final_ln_g') as tf.Tensor1D, p.get('final_ln_b') as tf.Tensor1D);
  });
}

/**
 * Predicted reward of (state h, item e) for aligned rows: h [M, d], e [M, d].
 * The head sees [h; e; h⊙e] (paper 000 §6: a shallow head on the
 * recommender's state that predicts the reward of the next item).
 */
export function rewardHeadForward(p: ParamStore, h: tf.Tensor2D, e: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const feats = tf.concat([h, e, tf.mul(h, e)], 1) as tf.Tensor2D;
    const hidden = linear(feats, p.get('reward/w1') as tf.Tensor2D, p.get('reward/b1') as tf.Tensor1D, true);
    const out = linear(hidden, p.get('reward/w2') as tf.Tensor2D, p.get('reward/b2') as tf.Tensor1D);
    return tf.reshape(out, [-1]) as tf.Tensor1D;
  });
}

/**
 * Right-pad (and left-truncate to the last `maxLen` items) a list column of
 * contexts into [rows, T] ids, T = min(maxLen, longest context), at least 1.
 * Returns the ids and each row's last real position; an empty context gets
 * position 0 of an all-padding input (the state the model has learned for
 * "no history": position embedding only).
 */
export function padContexts(offsets: Int32Array, values: Int32Array, maxLen: number): { ids: Int32Array; rows: number; T: number; lastPos: Int32Array } {
  const rows = offsets.length - 1;
  let T = 1;
  for (let r = 0; r < rows; r++) T = Math.max(T, Math.min(maxLen, offsets[r + 1]! - offsets[r]!));
  const ids = new Int32Array(rows * T);
  const lastPos = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const s = offsets[r]!;
    const e = offsets[r + 1]!;
    const start = Math.max(s, e - maxLen);
    for (let i = start; i < e; i++) ids[r * T + (i - start)] = values[i]!;
    lastPos[r] = Math.max(0, e - start - 1);
  }
  return { ids, rows, T, lastPos };
}

/** The state after each context: [rows, d] hidden vectors at each row's last position. */
export function contextStates(p: ParamStore, c: SasrecConfig, offsets: Int32Array, values: Int32Array): tf.Tensor2D {
  const { ids, rows, T, lastPos } = padContexts(offsets, values, c.maxLen);
  return tf.tidy(() => {
    const H = sasrecEncode(p, c, ids, rows, T);
    const idx = new Int32Array(rows);
    for (let r = 0; r < rows; r++) idx[r] = r * T + lastPos[r]!;
    return tf.gather(H, tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
  });
}

/** Logits h·Eᵀ over the catalog, padding column set to −1e9: [rows, numItems]. */
export function catalogLogits(p: ParamStore, h: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const logits = tf.matMul(h, p.get('item_emb'), false, true);
    const n = logits.shape[1]!;
    const pad = new Float32Array(n);
    pad[0] = -1e9;
    return tf.add(logits, tf.tensor1d(pad)) as tf.Tensor2D;
  });
}
