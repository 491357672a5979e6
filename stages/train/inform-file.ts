/** The InfoRM head's file: its dimensions, β, the checkpoint whose state features it reads, and its weights (JSON). */
import * as fs from 'node:fs';
import { ConfigError } from '../core/config-schema.js';
import { writeFileAtomic } from '../io/parquet.js';
import { createInformParams, type InformDims } from './inform-head.js';
import type { ParamStore } from './params.js';

export const INFORM_FORMAT = 'recpost-inform-head';

export interface InformFile {
  format: typeof INFORM_FORMAT;
  version: 1;
  /** The checkpoint whose frozen state features h(s) the head was trained on. */
  features_from: string;
  beta: number;
  dims: InformDims;
  /** Final training figures (mean over the last epoch). */
  train: { mse: number; kl: number; rows: number; epochs: number };
  arrays: Record<string, { shape: number[]; data: number[] }>;
}

export function writeInformHead(file: string, head: Omit<InformFile, 'format' | 'version' | 'arrays'>, params: ParamStore): void {
  const arrays = Object.fromEntries(params.toArrays().map((a) => [a.name, { shape: a.shape, data: Array.from(a.data) }]));
  writeFileAtomic(file, JSON.stringify({ format: INFORM_FORMAT, version: 1, ...head, arrays }) + '\n');
}

/** Read a head file into parameters; a missing or malformed file is a ConfigError naming it. */
export function readInformHead(file: string, field: string): { head: InformFile; params: ParamStore } {
  let o: Partial<InformFile>;
  try {
    o = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<InformFile>;
  } catch (e) {
    throw new ConfigError(`${file}: cannot read the InfoRM head (${(e as Error).message})`, [field]);
  }
  if (o?.format !== INFORM_FORMAT || !o.dims || !o.arrays) throw new ConfigError(`${file}: not a train_inform_head file`, [field]);
  const params = createInformParams(o.dims, 0);
  const map = new Map(Object.entries(o.arrays).map(([n, a]) => [n, { shape: a.shape, data: Float32Array.from(a.data) }]));
  try {
    params.load(map, file);
  } catch (e) {
    params.dispose();
    throw new ConfigError(`${(e as Error).message}`, [field]);
  }
  return { head: o as InformFile, params };
}
