/** A SASRec checkpoint with every parameter random (seeded), and random histories, for the export tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ListColumn } from '../../stages/core/batch.js';
import { initBackend } from '../../stages/train/backend.js';
import { writeCheckpoint } from '../../stages/train/checkpoint.js';
import { createSasrecParams, type SasrecConfig } from '../../stages/train/sasrec.js';
import { mulberry32 } from '../../stages/core/seeded-random.js';

export const CONFIG: SasrecConfig = { numItems: 31, maxLen: 6, d: 8, blocks: 2, heads: 2, ffn: 12, dropout: 0.2, rewardHead: true, rewardHidden: 5 };

export const tmpDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `recpost-export-${prefix}-`));

/** Normal(0, 1) draws from a seeded uniform source (Box–Muller). */
function normals(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * Write a checkpoint whose parameters are all random: the initialiser's
 * values plus noise, layer-norm gains around 1 and biases around 0, so no
 * term of the forward pass is a no-op.
 */
export async function randomCheckpoint(dir: string, config: SasrecConfig = CONFIG, seed = 11): Promise<string> {
  await initBackend('cpu');
  const store = createSasrecParams(config, seed);
  const arrays = store.toArrays();
  store.dispose();
  const z = normals(mulberry32(seed * 7919));
  for (const a of arrays) {
    const data = new Float32Array(a.data.length);
    const noise = /_b$|\/b\d$/.test(a.name) ? 0.2 : /_g$/.test(a.name) ? 0.3 : 0.1;
    for (let i = 0; i < data.length; i++) data[i] = a.data[i]! + noise * z();
    a.data = data;
  }
  writeCheckpoint(
    dir,
    {
      kind: 'sasrec',
      method: 'bc',
      model: config as unknown as Record<string, unknown>,
      step: 12,
      epoch: 1,
      seed,
      position: null,
      rng: { seed, step: 12, epoch: 1, batch: 0 },
    },
    arrays,
  );
  return dir;
}

/** Random histories (lengths 0..maxLen + 3, some longer than max_len) as a list column. */
export function randomHistories(rows: number, config: SasrecConfig = CONFIG, seed = 5): ListColumn<Int32Array> {
  const rand = mulberry32(seed);
  const offsets = new Int32Array(rows + 1);
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    const n = r === 0 ? 0 : r === 1 ? 1 : Math.floor(rand() * (config.maxLen + 4));
    for (let i = 0; i < n; i++) values.push(1 + Math.floor(rand() * (config.numItems - 1)));
    offsets[r + 1] = values.length;
  }
  return { kind: 'list', offsets, values: Int32Array.from(values) };
}

/** Left-pad a list column into int64 [rows, width] (width ≥ the longest row). */
export function leftPadded(c: ListColumn<Int32Array>, width: number): BigInt64Array {
  const rows = c.offsets.length - 1;
  const out = new BigInt64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const s = c.offsets[r]!;
    const e = c.offsets[r + 1]!;
    for (let i = s; i < e; i++) out[r * width + width - (e - i)] = BigInt(c.values[i]!);
  }
  return out;
}

export function longest(c: ListColumn<Int32Array>): number {
  let m = 0;
  for (let r = 0; r + 1 < c.offsets.length; r++) m = Math.max(m, c.offsets[r + 1]! - c.offsets[r]!);
  return m;
}
