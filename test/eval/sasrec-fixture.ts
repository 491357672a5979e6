/** A small random SASRec policy with exact score ties, and random evaluation rows, for the blocked-ranking and thread tests. */
import * as tf from '@tensorflow/tfjs-core';
import { createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { SasrecPolicy } from '../../stages/train/sasrec-policy.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { listColumn } from './helpers.js';

export const SASREC_CONFIG: SasrecConfig = { numItems: 203, maxLen: 8, d: 16, blocks: 1, heads: 2, ffn: 16, dropout: 0, rewardHead: false, rewardHidden: 4 };

/** A random SASRec policy whose items 5, 9, 100 and 202 share item 3's embedding: exact ties in every row. */
export function tiedPolicy(config: SasrecConfig = SASREC_CONFIG): SasrecPolicy {
  const params = createSasrecParams(config, 3);
  const emb = params.get('item_emb').dataSync() as Float32Array;
  const copy = Float32Array.from(emb);
  for (const j of [5, 9, 100, config.numItems - 1]) copy.set(copy.subarray(3 * config.d, 4 * config.d), j * config.d);
  (params.get('item_emb') as tf.Variable).assign(tf.tensor2d(copy, [config.numItems, config.d]));
  return new SasrecPolicy(params, config);
}

export function sasrecRows(seed: number, rows: number, numItems: number, tieTargets = true) {
  const rnd = mulberry32(seed);
  const ctx = listColumn(Array.from({ length: rows }, () => Array.from({ length: 1 + Math.floor(rnd() * 10) }, () => 1 + Math.floor(rnd() * (numItems - 1)))));
  const targets = Int32Array.from({ length: rows }, (_, r) => (tieTargets && r % 3 === 0 ? [3, 5, 9, 100][r % 4]! : 1 + Math.floor(rnd() * (numItems - 1))));
  return { ctx, targets };
}
