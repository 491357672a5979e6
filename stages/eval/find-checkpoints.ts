/**
 * Finding checkpoint directories below a path. A checkpoint directory holds
 * `checkpoint.json` (stages/train/checkpoint.ts); its method, step, epoch and
 * seed are read from that file so the labels are known without loading the
 * weights. A path that is not a checkpoint is searched (sorted, a few levels
 * deep) for directories that are. Leftovers of interrupted checkpoint writes
 * (`step-<n>.tmp-<pid>-<ms>`, `step-<n>.old-<pid>-<ms>`) are never
 * checkpoints, even with a checkpoint.json inside; the next training run
 * cleans them (stages/train/checkpoint-recovery.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import type { CheckpointRef } from './checkpoints.js';
import { isInterruptedTemporary } from '../train/checkpoint-recovery.js';

export const CHECKPOINT_MARKER = 'checkpoint.json';

function labelsOf(dir: string): CheckpointRef {
  const ref: CheckpointRef = { dir };
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, CHECKPOINT_MARKER), 'utf8')) as Record<string, unknown>;
    if (typeof meta.method === 'string') ref.method = meta.method;
    for (const k of ['step', 'epoch', 'seed'] as const) if (typeof meta[k] === 'number') ref[k] = meta[k] as number;
  } catch {
    // Unreadable metadata: loadPolicy will report the problem with the checkpoint itself.
  }
  return ref;
}

/** Checkpoints at or below `root` (depth ≤ maxDepth), ordered by method, seed, step. */
export function findCheckpoints(root: string, maxDepth = 3): CheckpointRef[] {
  if (!fs.existsSync(root)) throw new ConfigError(`no such checkpoint or directory: ${root}`, ['checkpoints']);
  if (!fs.statSync(root).isDirectory()) throw new ConfigError(`a checkpoint is a directory: ${root}`, ['checkpoints']);
  const found: CheckpointRef[] = [];
  const walk = (dir: string, depth: number) => {
    if (fs.existsSync(path.join(dir, CHECKPOINT_MARKER))) {
      found.push(labelsOf(dir));
      return;
    }
    if (depth >= maxDepth) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && !e.name.startsWith('.') && !isInterruptedTemporary(e.name)) walk(path.join(dir, e.name), depth + 1);
    }
  };
  walk(root, 0);
  return found.sort(
    (a, b) => (a.method ?? '').localeCompare(b.method ?? '') || (a.seed ?? 0) - (b.seed ?? 0) || (a.step ?? 0) - (b.step ?? 0) || a.dir.localeCompare(b.dir),
  );
}
