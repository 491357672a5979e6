/**
 * Fixtures of the `evaluate --watch` tests: real SASRec checkpoints (written
 * as training writes them: a temporary directory renamed into place), recpost
 * datasets committed by the dataset writer, and the half-written versions of
 * both that a watcher must not touch.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { CONFIG, randomCheckpoint } from '../export/fixtures.js';
import { examplesBatch, randomExamples } from '../eval/helpers.js';

/** Catalog size of the fixture checkpoints (with padding). */
export const NUM_ITEMS = CONFIG.numItems;

const created: string[] = [];

export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `recpost-watch-${tag}-`));
  created.push(d);
  return d;
}

export function removeTmpDirs(): void {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A SASRec checkpoint with random weights drawn from `seed` (its records carry seed = `seed`). */
export async function writeCheckpointAt(dir: string, seed: number): Promise<string> {
  return randomCheckpoint(dir, CONFIG, seed);
}

/**
 * A complete checkpoint left under an interrupted-write name
 * (`<name>.tmp-<pid>-<ms>`, stages/train/checkpoint-recovery.ts): written
 * whole, then renamed to the temporary name, so only the name says it is
 * not committed. The pid is this process's (alive), so nothing recovers it.
 */
export async function writeInterruptedCheckpoint(parent: string, name: string, seed: number): Promise<string> {
  const whole = await writeCheckpointAt(path.join(parent, `.${name}-whole`), seed);
  const tmp = path.join(parent, `${name}.tmp-${process.pid}-${Date.now()}`);
  fs.renameSync(whole, tmp);
  return tmp;
}

/** A recpost dataset of `rows` random examples in parts of `rowsPerFile`, committed (manifest last). */
export function writeDataset(dir: string, rows: number, seed: number, rowsPerFile = 80): string {
  const w = new DatasetWriter(dir, { stage: 'watch test', rowsPerFile });
  w.write(examplesBatch(randomExamples(rows, NUM_ITEMS, seed)));
  w.close();
  return dir;
}

/**
 * A dataset writer left open: its parts are in `<dir>.staging-<pid>-<hex>`
 * and no manifest is written until `commit` (or ever, with `abort`).
 */
export function openUncommittedDataset(dir: string, rows: number, seed: number): { staging: () => string[]; commit: () => void; abort: () => void } {
  const w = new DatasetWriter(dir, { stage: 'watch test', rowsPerFile: 40 });
  w.write(examplesBatch(randomExamples(rows, NUM_ITEMS, seed)));
  const parent = path.dirname(dir);
  return {
    staging: () => fs.readdirSync(parent).filter((n) => n.startsWith(`${path.basename(dir)}.staging-`)),
    commit: () => void w.close(),
    abort: () => w.abort(),
  };
}
