/**
 * Runs that continue another method's training (`init: previous`, paper 000:
 * Exp-RSFT post-trains BC) count their epochs and steps from 0 again. On a
 * metric-vs-step plot they belong after the checkpoint they started from, so
 * their x is offset by where that checkpoint ended.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCheckpointMeta } from '../../train/checkpoint.js';

export interface Continuation {
  /** Method of the init checkpoint. */
  from: string;
  /** Completed epochs and optimiser steps of the init checkpoint. */
  epoch: number;
  step: number;
}

export interface CheckpointRef {
  method: string;
  dir: string;
}

/**
 * Per method, the checkpoint it was initialised from (read from the
 * `trainer.init` option recorded in its checkpoints). Unreadable checkpoints
 * (removed by retention, another format) are skipped: offsets are a drawing aid.
 */
export function continuationOffsets(checkpoints: readonly CheckpointRef[]): Map<string, Continuation> {
  const out = new Map<string, Continuation>();
  for (const c of checkpoints) {
    if (out.has(c.method)) continue;
    try {
      const init = readCheckpointMeta(c.dir).trainer?.init;
      if (typeof init !== 'string' || init === '') continue;
      const from = readCheckpointMeta(path.resolve(init));
      if (from.method === c.method) continue;
      out.set(c.method, { from: from.method, epoch: from.epoch, step: from.step });
    } catch {
      continue;
    }
  }
  return out;
}

/**
 * Checkpoint directories (holding checkpoint.json) below `root`, with their
 * method, for runs read back from disk (`recpost report <run dir>`). Walks at
 * most `maxDepth` levels and skips temporary directories of writes in progress.
 */
export function findCheckpoints(root: string, maxDepth = 4): CheckpointRef[] {
  const out: CheckpointRef[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === 'checkpoint.json')) {
      try {
        out.push({ method: readCheckpointMeta(dir).method, dir });
      } catch {
        // not readable: not drawn as a continuation
      }
      return;
    }
    if (depth >= maxDepth) return;
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name)))
      if (e.isDirectory() && !e.name.includes('.tmp')) walk(path.join(dir, e.name), depth + 1);
  };
  if (fs.existsSync(root) && fs.statSync(root).isDirectory()) walk(root, 0);
  return out;
}
