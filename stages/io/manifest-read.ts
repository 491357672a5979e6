/**
 * What a reader may read from a path, under the dataset contract:
 *
 * - a file: that file;
 * - a recpost dataset (has `_manifest.json`): exactly the parts the manifest
 *   lists, each inside the directory (no `..`, no absolute path, no symlink
 *   out), present, of the listed size; side files present and of their size;
 *   no unlisted .parquet file anywhere below (it would be read by
 *   `SELECT * FROM 'dir/*.parquet'`). Row counts are checked against each
 *   part's footer when the part is opened (parquet.ts). Hashes are checked
 *   only by `verifyDataset(…, { hashes: true })`: it reads every byte;
 * - a directory with recpost part or temporary files but no manifest: an
 *   error saying the writer did not finish;
 * - any other directory (written by DuckDB, Spark, …): its *.parquet files
 *   in name order, with a one-line notice that nothing could be verified.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, MANIFEST_NAME, readManifest, type DatasetManifest } from './manifest.js';
import { filesBelow, isRecpostPartOrTemp, recoverInterrupted } from './manifest-staging.js';

export interface DatasetPart {
  file: string;
  /** Rows and bytes the manifest lists (recpost datasets only). */
  rows?: number;
  bytes?: number;
  sha256?: string;
}

export interface DatasetListing {
  kind: 'file' | 'recpost' | 'foreign';
  parts: DatasetPart[];
  manifest?: DatasetManifest;
  /** One line for the user when the data could not be verified (foreign directory). */
  notice?: string;
}

const STAGING_NAME = /\.(staging|old)-\d+-[0-9a-f]{8}$/;

/**
 * Throw when `dir` (a directory without a manifest) holds recpost part or
 * temporary files, or is a staging directory: a writer did not finish there.
 */
export function assertFinished(dir: string, files: string[] = filesBelow(dir)): void {
  const leftovers = files.filter(isRecpostPartOrTemp);
  if (STAGING_NAME.test(path.resolve(dir)) || leftovers.length > 0) {
    throw new DatasetError(
      `${dir}: recpost files (${leftovers.slice(0, 2).join(', ') || 'a staging directory'}) but no ${MANIFEST_NAME}: the writer that made this directory did not finish; rerun it`,
    );
  }
}

function isInside(child: string, dir: string): boolean {
  return child === dir || child.startsWith(dir + path.sep);
}

/** List (and check) what `p` holds for a reader. `what` prefixes nothing: errors name the paths. */
export function listDataset(p: string): DatasetListing {
  if (!fs.existsSync(p)) recoverInterrupted(p);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new DatasetError(`${p}: no such file or directory`);
  }
  if (!st.isDirectory()) return { kind: 'file', parts: [{ file: p }] };
  if (fs.existsSync(path.join(p, MANIFEST_NAME))) return listRecpost(p);
  const partition = partitionOfDataset(p);
  if (partition) return partition;
  const all = filesBelow(p);
  assertFinished(p, all);
  const parts = all
    .filter((rel) => rel.endsWith('.parquet') && !rel.split('/').some((s) => s.startsWith('.') || s.startsWith('_')))
    .map((rel) => ({ file: path.join(p, ...rel.split('/')) }));
  if (parts.length === 0) throw new DatasetError(`${p}: no .parquet files and no ${MANIFEST_NAME}: not a dataset`);
  return {
    kind: 'foreign',
    parts,
    notice: `${p}: no ${MANIFEST_NAME} (not written by recpost): reading its ${parts.length} .parquet file(s) in name order, unverified`,
  };
}

/**
 * A Hive partition directory of a recpost dataset (e.g. `examples/split=test`):
 * the parts the parent's manifest lists below it, checked like the whole.
 */
function partitionOfDataset(p: string): DatasetListing | null {
  const parent = path.dirname(path.resolve(p));
  if (!/^[^/\\=]+=[^/\\]+$/.test(path.basename(path.resolve(p))) || !fs.existsSync(path.join(parent, MANIFEST_NAME))) return null;
  const whole = listRecpost(parent);
  const prefix = path.resolve(p) + path.sep;
  const parts = whole.parts.filter((f) => path.resolve(f.file).startsWith(prefix));
  return {
    kind: 'recpost',
    parts,
    manifest: {
      ...whole.manifest!,
      rows: parts.reduce((s, f) => s + (f.rows ?? 0), 0),
      files: whole.manifest!.files.filter((f) => path.resolve(parent, f.path).startsWith(prefix)),
    },
  };
}

function listRecpost(dir: string): DatasetListing {
  const manifest = readManifest(dir);
  const realDir = fs.realpathSync(dir);
  const stale = `the dataset was changed after it was written; rerun the writer`;
  const check = (rel: string, bytes: number | undefined) => {
    const file = path.join(dir, ...rel.split('/'));
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      throw new DatasetError(`${file}: listed in ${path.join(dir, MANIFEST_NAME)} but missing; ${stale}`);
    }
    if (!st.isFile()) throw new DatasetError(`${file}: listed in ${path.join(dir, MANIFEST_NAME)} but not a file; ${stale}`);
    if (!isInside(fs.realpathSync(file), realDir)) throw new DatasetError(`${file}: a link leading outside the dataset directory ${dir}; ${stale}`);
    if (bytes !== undefined && st.size !== bytes)
      throw new DatasetError(`${file}: ${st.size} bytes, but the manifest lists ${bytes} (truncated or rewritten); ${stale}`);
    return file;
  };
  const parts = manifest.files.map((f) => ({ file: check(f.path, f.bytes), rows: f.rows, bytes: f.bytes, ...(f.sha256 ? { sha256: f.sha256 } : {}) }));
  for (const s of manifest.side_files ?? []) check(s.path, s.bytes);
  const listed = new Set([...manifest.files.map((f) => f.path), ...(manifest.side_files ?? []).map((f) => f.path)]);
  // Manifests of the first version did not list the ingest's vocabularies.
  const legacyVocab = (rel: string) => manifest.side_files === undefined && /^vocab\/(users|items|sessions)\.parquet$/.test(rel);
  const unlisted = filesBelow(dir).filter((rel) => rel.endsWith('.parquet') && !listed.has(rel) && !legacyVocab(rel));
  if (unlisted.length > 0)
    throw new DatasetError(
      `${path.join(dir, unlisted[0]!)}: a Parquet file that ${path.join(dir, MANIFEST_NAME)} does not list${unlisted.length > 1 ? ` (and ${unlisted.length - 1} more)` : ''}; ${stale} (or remove the file)`,
    );
  return { kind: 'recpost', parts, manifest };
}

/**
 * The parts of user bucket `b` of a recpost dataset (ingest with
 * user_buckets > 1), in manifest order (file order within the bucket),
 * checked like listDataset. A dataset without buckets is one bucket, 0.
 */
export function listDatasetBucket(dir: string, b: number): DatasetPart[] {
  const listing = listDataset(dir);
  if (!listing.manifest) throw new DatasetError(`${dir}: no ${MANIFEST_NAME}: not a recpost dataset, so it has no user buckets`);
  const files = listing.manifest.files;
  const bucketed = files.some((f) => f.bucket !== undefined);
  return listing.parts.filter((_, k) => (bucketed ? files[k]!.bucket === b : b === 0));
}

/** The SHA-256 of a file's bytes, streamed. */
export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Check a dataset against its manifest: everything `listDataset` checks and,
 * with `hashes`, the SHA-256 of every listed file (reads every byte).
 */
export async function verifyDataset(dir: string, opts: { hashes?: boolean } = {}): Promise<DatasetManifest> {
  const listing = listDataset(dir);
  if (!listing.manifest) throw new DatasetError(`${dir}: no ${MANIFEST_NAME}: not a recpost dataset`);
  if (opts.hashes) {
    const all = [...listing.manifest.files, ...(listing.manifest.side_files ?? [])];
    for (const f of all) {
      if (!f.sha256) continue;
      const file = path.join(dir, ...f.path.split('/'));
      const got = await sha256OfFile(file);
      if (got !== f.sha256)
        throw new DatasetError(`${file}: content differs from the SHA-256 in the manifest; the dataset was changed after it was written; rerun the writer`);
    }
  }
  return listing.manifest;
}
