/**
 * Which datasets this process is reading and writing right now, so that a
 * run whose input and output are the same directory (same real path) is
 * refused whichever side starts second — e.g. `recpost stage bc --input D
 * --output D`. Reading a dataset fully and writing it in a later phase of
 * the same pipeline stays allowed: the claim ends when the reading does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError } from './manifest.js';

const writing = new Map<string, string>();
const reading = new Map<string, { what: string; count: number }>();

/** The real path of `p`, or of its deepest existing ancestor joined with the rest. */
export function canonicalPath(p: string): string {
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

/** Claim `target` for writing; returns the release. Throws if a reader of this process is reading it (or a directory containing it, or inside it). */
export function claimWrite(target: string, what: string): () => void {
  const key = canonicalPath(target);
  for (const [r, info] of reading) {
    if (overlap(r, key)) throw new DatasetError(`${what}: output ${target} is also the input of ${info.what} (${r}); input equal to output is refused: write to another directory`);
  }
  const other = writing.get(key);
  if (other) throw new DatasetError(`${what}: output ${target} is already being written by ${other} in this run; choose another output`);
  writing.set(key, what);
  return () => {
    if (writing.get(key) === what) writing.delete(key);
  };
}

/** Claim `p` for reading; returns the release. Throws if a writer of this process is writing it. */
export function claimRead(p: string, what: string): () => void {
  const key = canonicalPath(p);
  for (const [w, writer] of writing) {
    if (overlap(w, key)) throw new DatasetError(`${what}: input ${p} is also the output of ${writer} (${w}); input equal to output is refused: write to another directory`);
  }
  const cur = reading.get(key);
  if (cur) cur.count++;
  else reading.set(key, { what, count: 1 });
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const c = reading.get(key);
    if (c && --c.count === 0) reading.delete(key);
  };
}
