/**
 * What evaluation state keys things by: their content, never their path,
 * size or modification time.
 *
 * - A checkpoint is identified by the hashes it records about itself
 *   (integrity.weightsSha256 and integrity.metaSha256, see
 *   stages/train/checkpoint-integrity.ts); a checkpoint of an older version
 *   by the SHA-256 of its checkpoint.json and weights.bin bytes. Overwrite a
 *   checkpoint in place and its identity changes; copy it and it does not.
 * - A data file (a partition) by the SHA-256 of its bytes; a dataset
 *   (`datasetIdentity`) by the names and hashes of its data files. Touch a
 *   file or regenerate identical data and the identity stays the same.
 *
 * `datasetIdentity` is the one place to switch to the content hashes of the
 * dataset manifest (`_manifest.json`) once it records them; until then the
 * bytes are hashed here (streamed; memoised within a process by
 * path + inode + size + mtime + ctime in nanoseconds, so one file is read
 * once per run, never across runs).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileSha256, updateWithFile } from '../core/content-hash.js';
import { listParquetFiles } from '../io/parquet.js';

const memo = new Map<string, string>();

function statKey(abs: string): string | undefined {
  try {
    const st = fs.statSync(abs, { bigint: true });
    return `${abs}\u0000${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** `sha256:<hex>` of a data file's bytes, or undefined when it cannot be read. */
export function dataFileIdentity(file: string): string | undefined {
  const abs = path.resolve(file);
  const key = statKey(abs);
  if (key === undefined) return undefined;
  let id = memo.get(key);
  if (id === undefined) {
    id = `sha256:${fileSha256(abs)}`;
    memo.set(key, id);
  }
  return id;
}

/** The identity of a dataset: a file's content hash, or for a directory the hash over its data files' names and content hashes. */
export function datasetIdentity(p: string): string {
  const abs = path.resolve(p);
  if (!fs.statSync(abs).isDirectory()) return dataFileIdentity(abs) ?? `path:${abs}`;
  const h = createHash('sha256');
  for (const f of listParquetFiles(abs)) h.update(`${path.relative(abs, f)}\u0000${dataFileIdentity(f)}\n`);
  return `sha256:${h.digest('hex')}`;
}

/** The identity of a checkpoint directory; `checkpoint:<abs path>` only for one that has no files (an in-memory policy). */
export function checkpointIdentity(dir: string): string {
  const abs = path.resolve(dir);
  const metaFile = path.join(abs, 'checkpoint.json');
  if (!fs.existsSync(metaFile)) return `checkpoint:${abs}`;
  const text = fs.readFileSync(metaFile);
  try {
    const g = (JSON.parse(text.toString('utf8')) as { integrity?: { weightsSha256?: unknown; metaSha256?: unknown } }).integrity;
    if (typeof g?.weightsSha256 === 'string' && typeof g.metaSha256 === 'string') return `checkpoint:sha256:${g.weightsSha256}:${g.metaSha256}`;
  } catch {
    // Not JSON: the bytes identify it (loading will say what is wrong).
  }
  const h = createHash('sha256').update(text);
  const weights = path.join(abs, 'weights.bin');
  if (fs.existsSync(weights)) updateWithFile(h, weights);
  return `checkpoint:sha256:${h.digest('hex')}`;
}
