/**
 * Which datasets this process is writing right now, so that a run whose input
 * and output are the same directory (same real path, or one inside the other)
 * is refused before anything is replaced — e.g. `recpost stage bc --input D
 * --output D`. Dataset writers are created when a pipeline is wired (before
 * any source reads), so a reader only has to look here. Reading a dataset
 * fully and writing it in a later phase stays allowed: the claim starts with
 * the writer and ends when it commits or aborts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError } from './manifest.js';
import { isS3Path } from './object-store/s3-url.js';

const writing = new Map<string, { what: string }>();

/** The real path of `p`, or of its deepest existing ancestor joined with the rest. */
export function canonicalPath(p: string): string {
  if (isS3Path(p)) return p.replace(/\/+$/, '');
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(canonicalPath(parent), path.basename(abs));
  }
}

function overlap(a: string, b: string): boolean {
  return a === b || a.startsWith(b + path.sep) || b.startsWith(a + path.sep);
}

/** Claim `target` for writing; returns the release. Throws if another writer of this process holds it. */
export function claimWrite(target: string, what: string): () => void {
  const key = canonicalPath(target);
  const other = writing.get(key);
  if (other) throw new DatasetError(`${what}: output ${target} is already being written by ${other.what} in this run; choose another output`);
  const claim = { what };
  writing.set(key, claim);
  return () => {
    if (writing.get(key) === claim) writing.delete(key);
  };
}

/** Throw if a writer of this process is writing `p` (or a directory inside it, or around it). */
export function assertNotBeingWritten(p: string, what: string): void {
  const key = canonicalPath(p);
  for (const [w, writer] of writing) {
    if (overlap(w, key))
      throw new DatasetError(`${what}: input ${p} is also the output of ${writer.what} (${w}); input equal to output is refused: write to another directory`);
  }
}
