/**
 * The SASRec model of stages/train/sasrec.ts as ONNX graphs (opset 17), for
 * serving without recpost:
 *
 *   scorer:  history int64 [batch, length] → scores float32 [batch, num_items]
 *   reward:  history int64 [batch, length], item int64 [batch] → reward float32 [batch]
 *
 * `history` is LEFT-padded with 0 (the last column is the most recent item),
 * the usual serving layout. recpost's own encoder right-pads and reads each
 * row's last real position; the graph reproduces it exactly: with n real
 * items in a row (n′ = max(n, 1), so an empty history is the padding token
 * at position 0, as padContexts does), column j holds position j − (L − n′),
 * keys left of the real suffix are masked beside the causal mask, and the
 * output is read at the last column. Histories longer than max_len keep
 * their last max_len items. Column 0 of the scores (padding) is −∞.
 *
 * Per block, as sasrecEncode (pre-norm, eval mode: no dropout):
 *   x ← x + Wo·MHA(LN₁(x)),  x ← x + W₂·ReLU(W₁·LN₂(x) + b₁) + b₂,
 * with inputs x = √d·E[id]·1[id > 0] + P[pos] and LN ε = 1e-6; scores are
 * LN_f(h)·Eᵀ (tied embeddings); the reward head is
 * w₂·ReLU(W₁·[h; e; h⊙e] + b₁) + b₂ with e = E[item].
 */
import type { SasrecConfig } from '../train/sasrec.js';
import { OnnxGraph, type ModelInfo } from './onnx-graph.js';

export type ParamArrays = ReadonlyMap<string, { shape: number[]; data: Float32Array }>;

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
const INT64_MAX = 9223372036854775807n;
const LN_EPS = 1e-6;
/** The additive mask value recpost's attention uses (sasrec.ts causalBias). */
const MASKED = -1e9;

function param(params: ParamArrays, name: string, g: OnnxGraph): string {
  const p = params.get(name);
  if (!p) throw new Error(`checkpoint has no parameter "${name}"`);
  return g.floats(name, p.shape, p.data);
}

/** Nodes from `history` to the encoder state at the last column, [batch, d]. */
function lastState(g: OnnxGraph, params: ParamArrays, c: SasrecConfig, history: string): { state: string; itemEmb: string } {
  const { d, heads } = c;
  const dh = d / heads;
  const itemEmb = param(params, 'item_emb', g);
  const posEmb = param(params, 'pos_emb', g);
  const zero = g.int64([0], []);
  const one = g.int64([1], []);
  const axis0 = g.int64([0]);
  const axis1 = g.int64([1]);

  // Keep the last max_len columns.
  const hist = g.node('Slice', [history, g.int64([-c.maxLen]), g.int64([INT64_MAX]), axis1]);
  const isItem = g.node('Greater', [hist, zero]);
  const count = g.node('ReduceSum', [g.node('Cast', [isItem], { to: 7 }), axis1], { keepdims: 1 }); // [B, 1]
  const real = g.node('Max', [count, one]); // n′ = max(n, 1)
  const lengthVec = g.node('Shape', [hist], { start: 1, end: 2 }); // [1] = L
  const length = g.node('Squeeze', [lengthVec, axis0]);
  const offset = g.node('Sub', [lengthVec, real]); // [B, 1] = L − n′
  const cols = g.node('Range', [zero, length, one]); // [L]
  const pos = g.node('Max', [g.node('Sub', [cols, offset]), zero]); // [B, L]

  // x = √d·E[id]·1[id > 0] + P[pos]
  const itemScale = g.node('Mul', [g.node('Cast', [isItem], { to: 1 }), g.float([Math.sqrt(d)], [])]);
  const emb = g.node('Mul', [g.node('Gather', [itemEmb, hist], { axis: 0 }), g.node('Unsqueeze', [itemScale, g.int64([2])])]);
  let x = g.node('Add', [emb, g.node('Gather', [posEmb, pos], { axis: 0 })]); // [B, L, d]

  // Additive mask [B, 1, L, L]: −1e9 where the key is right of the query or left of the real suffix.
  const keyPadding = g.node('Unsqueeze', [g.node('Not', [g.node('GreaterOrEqual', [cols, offset])]), g.int64([1, 2])]); // [B, 1, 1, L]
  const future = g.node('Greater', [g.node('Unsqueeze', [cols, axis0]), g.node('Unsqueeze', [cols, axis1])]); // [L, L]: key j > query i
  const maskBias = g.node('Where', [g.node('Or', [keyPadding, future]), g.float([MASKED], []), g.float([0], [])]);

  const splitHeads = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, g.int64([0, 0, heads, dh])])], { perm });
  const dense = (t: string, w: string, b: string) => g.node('Add', [g.node('MatMul', [t, param(params, w, g)]), param(params, b, g)]);
  const layerNorm = (t: string, gamma: string, beta: string) =>
    g.node('LayerNormalization', [t, param(params, gamma, g), param(params, beta, g)], { axis: -1, epsilon: { f: LN_EPS } });
  const scale = g.float([1 / Math.sqrt(dh)], []);

  for (let b = 0; b < c.blocks; b++) {
    const k = `block${b}`;
    const y = layerNorm(x, `${k}/ln1_g`, `${k}/ln1_b`);
    const q = splitHeads(dense(y, `${k}/q_w`, `${k}/q_b`), [0, 2, 1, 3]); // [B, H, L, dh]
    const kT = splitHeads(dense(y, `${k}/k_w`, `${k}/k_b`), [0, 2, 3, 1]); // [B, H, dh, L]
    const v = splitHeads(dense(y, `${k}/v_w`, `${k}/v_b`), [0, 2, 1, 3]);
    const scores = g.node('Add', [g.node('Mul', [g.node('MatMul', [q, kT]), scale]), maskBias]);
    const attn = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]); // [B, H, L, dh]
    const merged = g.node('Reshape', [g.node('Transpose', [attn], { perm: [0, 2, 1, 3] }), g.int64([0, 0, d])]);
    x = g.node('Add', [x, dense(merged, `${k}/out_w`, `${k}/out_b`)]);
    const y2 = layerNorm(x, `${k}/ln2_g`, `${k}/ln2_b`);
    const hidden = g.node('Relu', [dense(y2, `${k}/ffn1_w`, `${k}/ffn1_b`)]);
    x = g.node('Add', [x, dense(hidden, `${k}/ffn2_w`, `${k}/ffn2_b`)]);
  }
  const last = g.node('Squeeze', [g.node('Slice', [x, g.int64([-1]), g.int64([INT64_MAX]), axis1]), axis1]); // [B, d]
  return { state: layerNorm(last, 'final_ln_g', 'final_ln_b'), itemEmb };
}

/** The catalog scorer: history → scores over the catalog (column 0, padding, is −∞). */
export function sasrecScorerModel(params: ParamArrays, c: SasrecConfig, info: Omit<ModelInfo, 'opset' | 'irVersion'>): Uint8Array {
  const g = new OnnxGraph('recpost_sasrec_scorer');
  const history = g.input('history', 'int64', ['batch', 'length'], 'item ids, left-padded with 0; the last column is the most recent item');
  const { state, itemEmb } = lastState(g, params, c, history);
  const padBias = new Float32Array(c.numItems);
  padBias[0] = -Infinity;
  g.node('Gemm', [state, itemEmb, g.floats('padding_bias', [c.numItems], padBias)], { transB: 1 }, 'scores');
  g.output('scores', 'float32', ['batch', c.numItems], 'h·Eᵀ for every catalog item id (index = item id; 0 = padding, −∞)');
  return g.toModel({ ...info, opset: ONNX_OPSET, irVersion: ONNX_IR_VERSION });
}

/** The reward head: (history, next item) → predicted reward. */
export function sasrecRewardModel(params: ParamArrays, c: SasrecConfig, info: Omit<ModelInfo, 'opset' | 'irVersion'>): Uint8Array {
  const g = new OnnxGraph('recpost_sasrec_reward');
  const history = g.input('history', 'int64', ['batch', 'length'], 'item ids, left-padded with 0; the last column is the most recent item');
  const item = g.input('item', 'int64', ['batch'], 'the candidate next item of each row');
  const { state, itemEmb } = lastState(g, params, c, history);
  const e = g.node('Gather', [itemEmb, item], { axis: 0 });
  const feats = g.node('Concat', [state, e, g.node('Mul', [state, e])], { axis: 1 });
  const hidden = g.node('Relu', [g.node('Gemm', [feats, param(params, 'reward/w1', g), param(params, 'reward/b1', g)])]);
  const out = g.node('Gemm', [hidden, param(params, 'reward/w2', g), param(params, 'reward/b2', g)]);
  g.node('Reshape', [out, g.int64([-1])], {}, 'reward');
  g.output('reward', 'float32', ['batch'], 'predicted reward of each (history, item) row');
  return g.toModel({ ...info, opset: ONNX_OPSET, irVersion: ONNX_IR_VERSION });
}
