/**
 * What `evaluate --watch` calls a data partition: a committed recpost dataset.
 *
 * recpost writers build a dataset in `<dir>.staging-<pid>-<hex>` and move it
 * into place whole, its `_manifest.json` inside (stages/io/manifest-staging.ts),
 * so a directory that has a manifest is complete and one that has none is not
 * (yet). The watched data path is either
 *
 * - a directory of datasets (`data/day=2026-12-01/`, `data/day=2026-12-02/`,
 *   …): each child directory with a manifest is one partition, evaluated once
 *   it is committed; staging (`.staging-…`), swapped-out (`.old-…`), hidden
 *   and manifest-less children are ignored until they commit; or
 * - one dataset (it has a manifest): the single partition; when a writer
 *   replaces it with more parts, only the part files not yet evaluated are
 *   (the evaluation state keys part files by content).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_NAME } from '../io/manifest.js';

export interface WatchedDataset {
  /** The dataset directory. */
  dir: string;
  /** Its name below the watched root; '' when the root itself is the dataset. */
  name: string;
}

/** Directories a writer has not finished: a staging copy or the previous dataset being swapped out. */
const UNFINISHED = /\.(staging|old)-\d+-[0-9a-f]+$/;

/** Whether `dir` holds a committed recpost dataset (its manifest is there). */
export function isCommittedDataset(dir: string): boolean {
  return fs.existsSync(path.join(dir, MANIFEST_NAME));
}

/** The committed datasets at `root` (see the module doc), children in name order. */
export function committedDatasets(root: string): WatchedDataset[] {
  if (isCommittedDataset(root)) return [{ dir: root, name: '' }];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('_') && !UNFINISHED.test(e.name))
    .map((e) => e.name)
    .sort()
    .map((name) => ({ dir: path.join(root, name), name }))
    .filter((d) => isCommittedDataset(d.dir));
}
