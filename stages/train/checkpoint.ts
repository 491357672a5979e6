/**
 * Checkpoint directories.
 *
 *   <dir>/checkpoint.json   what the checkpoint is (kind, model config, step,
 *                           epoch, seed, data position, objective state,
 *                           optimiser step) and a manifest of the tensors
 *   <dir>/weights.bin       the tensors' float32 values, little-endian,
 *                           concatenated in manifest order
 *
 * The directory is written under a temporary name and renamed into place, so
 * a crash never leaves a directory that looks complete; an existing directory
 * of the same name is replaced only after the new one is whole.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileSha256 } from '../core/content-hash.js';
import {
  checkFinite,
  checkMetaHash,
  checkMetaStructure,
  checkWeightsBytes,
  CheckpointError,
  configSha256,
  metaSha256,
  type CheckpointIntegrity,
} from './checkpoint-integrity.js';
import type { NamedArray } from './params.js';

export const CHECKPOINT_FORMAT = 'recpost-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Byte offset into weights.bin. */
  offset: number;
  /** Number of values. */
  length: number;
}

/** Where training stood: resume continues with batch `batch` of epoch `epoch` (0-based). */
export interface DataPosition {
  epoch: number;
  batch: number;
  /** Rows in the training set when the checkpoint was written (a resume checks it). */
  rows: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** The model's kind: a key of the model registry (model-registry.ts). */
  kind: string;
  /** Method label (bc, exp_rsft, drpo, grpo, …). */
  method: string;
  /** The model's configuration (architecture, catalog size). */
  model: Record<string, unknown>;
  /** The trainer's options, for the record. */
  trainer?: Record<string, unknown>;
  /** Optimiser steps taken. */
  step: number;
  /** Completed epochs (1 after the first full pass). */
  epoch: number;
  seed: number;
  position: DataPosition | null;
  /** The objective's state (JSON), e.g. DRPO's P. */
  objectiveState?: unknown;
  /** Randomness is keyed by (seed, counters); recorded here for the reader. */
  rng: { seed: number; step: number; epoch: number; batch: number };
  optimizer?: { kind: 'adam'; step: number; config: Record<string, number> };
  /** Anything else a trainer keeps (online trainer's KL window, counters). */
  extra?: Record<string, unknown>;
  /** The training configuration a resume must repeat (resume-check.ts); hashed into integrity.configSha256. */
  training?: Record<string, unknown>;
  /** The validation score measured when this checkpoint was written (lower is better unless mode is max), for keep_best. */
  validation?: { metric: string; value: number; mode?: 'min' | 'max' };
  params: TensorEntry[];
  optimizerTensors: TensorEntry[];
  createdAt: string;
  /** Content hashes checked on every read (checkpoint-integrity.ts); absent in checkpoints of older versions. */
  integrity?: CheckpointIntegrity;
}

export type CheckpointInput = Omit<CheckpointMeta, 'format' | 'version' | 'params' | 'optimizerTensors' | 'createdAt' | 'integrity'>;

export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  params: Map<string, { shape: number[]; data: Float32Array }>;
  optimizer: Map<string, { shape: number[]; data: Float32Array }>;
}

function layout(arrays: NamedArray[], start: number): { entries: TensorEntry[]; end: number } {
  let offset = start;
  const entries = arrays.map((a) => {
    const e: TensorEntry = { name: a.name, shape: a.shape, dtype: 'float32', offset, length: a.data.length };
    offset += a.data.length * 4;
    return e;
  });
  return { entries, end: offset };
}

function toLittleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** Write a checkpoint directory atomically; returns its path. */
export function writeCheckpoint(dir: string, input: CheckpointInput, params: NamedArray[], optimizer: NamedArray[] = []): string {
  const p = layout(params, 0);
  const o = layout(optimizer, p.end);
  const meta: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    ...input,
    params: p.entries,
    optimizerTensors: o.entries,
    createdAt: new Date().toISOString(),
  };
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  const fd = fs.openSync(path.join(tmp, 'weights.bin'), 'w');
  const weightsHash = createHash('sha256');
  let weightsBytes = 0;
  try {
    for (const a of [...params, ...optimizer]) {
      const bytes = toLittleEndianBytes(a.data);
      weightsHash.update(bytes);
      weightsBytes += bytes.length;
      fs.writeSync(fd, bytes);
    }
  } finally {
    fs.closeSync(fd);
  }
  meta.integrity = { weightsSha256: weightsHash.digest('hex'), weightsBytes, configSha256: configSha256(meta.training), metaSha256: metaSha256(meta) };
  fs.writeFileSync(path.join(tmp, 'checkpoint.json'), `${JSON.stringify(meta, null, 2)}\n`);
  if (fs.existsSync(dir)) {
    const old = `${dir}.old-${process.pid}-${Date.now()}`;
    fs.renameSync(dir, old);
    fs.renameSync(tmp, dir);
    fs.rmSync(old, { recursive: true, force: true });
  } else fs.renameSync(tmp, dir);
  return dir;
}

function readEntries(dir: string, buf: Buffer, entries: TensorEntry[]) {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const e of entries) {
    const data = new Float32Array(e.length);
    const view = new DataView(buf.buffer, buf.byteOffset + e.offset, e.length * 4);
    for (let i = 0; i < e.length; i++) data[i] = view.getFloat32(i * 4, true);
    checkFinite(dir, e.name, data);
    out.set(e.name, { shape: e.shape, data });
  }
  return out;
}

/** Parse and check checkpoint.json: structure, tensor table, content hash. Returns it with the bytes weights.bin must hold. */
function readVerifiedMeta(dir: string): { meta: CheckpointMeta; weightsBytes: number } {
  const file = path.join(dir, 'checkpoint.json');
  if (!fs.existsSync(file)) throw new CheckpointError(dir, 'not a checkpoint directory (no checkpoint.json)');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CheckpointError(dir, `checkpoint.json is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CheckpointError(dir, 'checkpoint.json must hold a JSON object');
  const meta = raw as Record<string, unknown>;
  if (meta.format !== CHECKPOINT_FORMAT) throw new CheckpointError(dir, `not a recpost checkpoint (format ${JSON.stringify(meta.format)})`);
  if (typeof meta.version !== 'number') throw new CheckpointError(dir, `checkpoint.json: "version" must be a number, got ${JSON.stringify(meta.version)}`);
  if (meta.version > CHECKPOINT_VERSION) throw new CheckpointError(dir, `checkpoint version ${meta.version} is newer than this reader (${CHECKPOINT_VERSION})`);
  const weightsBytes = checkMetaStructure(dir, meta);
  checkMetaHash(dir, meta);
  return { meta: meta as unknown as CheckpointMeta, weightsBytes };
}

/** Read only checkpoint.json (cheap; for listings and `init` resolution), checked for structure and content hash. */
export function readCheckpointMeta(dir: string): CheckpointMeta {
  return readVerifiedMeta(dir).meta;
}

/** Read a checkpoint, verifying checkpoint.json, weights.bin's size and hash, and that every value is finite. */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  const { meta, weightsBytes } = readVerifiedMeta(dir);
  const bin = path.join(dir, 'weights.bin');
  if (!fs.existsSync(bin)) throw new CheckpointError(dir, 'weights.bin is missing');
  const buf = fs.readFileSync(bin);
  checkWeightsBytes(dir, meta as unknown as Record<string, unknown>, weightsBytes, buf.length, () => createHash('sha256').update(buf).digest('hex'));
  return { dir, meta, params: readEntries(dir, buf, meta.params), optimizer: readEntries(dir, buf, meta.optimizerTensors ?? []) };
}

/** Verify a checkpoint without keeping its tensors (recovery of interrupted writes, `recpost` checks). */
export function verifyCheckpoint(dir: string): CheckpointMeta {
  const { meta, weightsBytes } = readVerifiedMeta(dir);
  const bin = path.join(dir, 'weights.bin');
  if (!fs.existsSync(bin)) throw new CheckpointError(dir, 'weights.bin is missing');
  checkWeightsBytes(dir, meta as unknown as Record<string, unknown>, weightsBytes, fs.statSync(bin).size, () => fileSha256(bin));
  return meta;
}

/** Checkpoint directories `step-<n>` under `root`, by step ascending. */
export function listCheckpoints(root: string): { dir: string; step: number }[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^step-\d+$/.test(e.name) && fs.existsSync(path.join(root, e.name, 'checkpoint.json')))
    .map((e) => ({ dir: path.join(root, e.name), step: Number(e.name.slice(5)) }))
    .sort((a, b) => a.step - b.step);
}
