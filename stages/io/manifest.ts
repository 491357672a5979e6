/**
 * The dataset contract's manifest: `<dataset>/_manifest.json` lists every
 * file of a recpost dataset (part files in `files`, everything else —
 * vocabularies, the Arrow IPC file, the quarantine file — in `side_files`),
 * each with its byte size, SHA-256 and, where it has rows, its row count;
 * plus the Arrow schema of the parts and who wrote it. It is the last file
 * to appear: the dataset is built in a staging directory and moved into
 * place whole (manifest-staging.ts), so a manifest always describes a
 * complete dataset.
 *
 * Manifests written before this contract (no `format` key; parts only,
 * without hashes) are still read: their parts are verified by row count and
 * size.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocatedConfigError } from '../core/config-schema.js';

export const MANIFEST_NAME = '_manifest.json';
export const MANIFEST_FORMAT = 'recpost.dataset';
export const MANIFEST_VERSION = 2;

/** A user-facing dataset problem (missing, tampered or unfinished files): exit code 2, one line. */
export class DatasetError extends LocatedConfigError {
  constructor(message: string) {
    super(message, ['dataset']);
    this.name = 'DatasetError';
  }
}

export interface ManifestPart {
  /** Relative to the dataset directory, with "/" separators. */
  path: string;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the file's bytes (absent in manifests of version 1). */
  sha256?: string;
  partition?: string;
  /** The user bucket of every row of the part (datasets written with user_buckets > 1; see listDatasetBucket). */
  bucket?: number;
}

export type SideFileRole = 'vocabulary' | 'arrow_ipc' | 'quarantine' | 'file';

export interface ManifestSideFile {
  path: string;
  role: SideFileRole;
  bytes: number;
  sha256: string;
  rows?: number;
}

export interface SchemaField {
  name: string;
  /** Arrow type as apache-arrow prints it (Int32, Float32, Int64, Utf8, …). */
  type: string;
  nullable: boolean;
}

export interface DatasetManifest {
  format?: typeof MANIFEST_FORMAT;
  version?: number;
  writer?: { name: 'recpost'; version: string; stage?: string };
  table: string;
  rows: number;
  files: ManifestPart[];
  side_files?: ManifestSideFile[];
  schema?: SchemaField[];
  partitionBy?: string;
  compression: string;
  createdAt: string;
}

let cachedVersion: string | undefined;

/** recpost's package version (the nearest package.json named "recpost" above this module). */
export function recpostVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        const j = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
        if (j.name === 'recpost' && typeof j.version === 'string') return (cachedVersion = j.version);
      } catch {
        // not ours; keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return (cachedVersion = 'unknown');
}

/**
 * Check that a manifest entry names a file inside the dataset: relative,
 * no `..` segment, no backslash or NUL, not the manifest itself. Returns the
 * absolute path. Throws a DatasetError naming the manifest and the entry.
 */
export function entryPath(dir: string, rel: unknown, where: string): string {
  const bad = (why: string) =>
    new DatasetError(`${path.join(dir, MANIFEST_NAME)}: ${where} ${JSON.stringify(rel)}: ${why}; the manifest was edited or is corrupt (rerun the writer)`);
  if (typeof rel !== 'string' || rel === '') throw bad('not a file name');
  if (path.isAbsolute(rel) || /^[a-zA-Z]:/.test(rel)) throw bad('an absolute path (entries must lie inside the dataset directory)');
  if (rel.includes('\\') || rel.includes('\0')) throw bad('a backslash or NUL in the path');
  const segs = rel.split('/');
  if (segs.some((s) => s === '..')) throw bad('the path leaves the dataset directory');
  if (segs.some((s) => s === '' || s === '.')) throw bad('not a normalized relative path');
  if (rel === MANIFEST_NAME) throw bad('the manifest cannot list itself');
  return path.join(dir, ...segs);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parse and check `<dir>/_manifest.json`: its JSON, its shape, and that every
 * entry lies inside `dir` (no file is touched here; see manifest-read.ts for
 * the checks against the files).
 */
export function readManifest(dir: string): DatasetManifest {
  const file = path.join(dir, MANIFEST_NAME);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DatasetError(`${file}: not a readable JSON manifest (${(e as Error).message.split('\n')[0]}); rerun the writer`);
  }
  const bad = (why: string) => new DatasetError(`${file}: ${why}; the manifest was edited or is corrupt (rerun the writer)`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a JSON object');
  const m = raw as Partial<DatasetManifest> & Record<string, unknown>;
  if (m.format !== undefined && m.format !== MANIFEST_FORMAT) throw bad(`format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`);
  if (typeof m.version === 'number' && m.version > MANIFEST_VERSION) throw bad(`version ${m.version} is newer than this recpost reads (${MANIFEST_VERSION})`);
  if (!Array.isArray(m.files)) throw bad('"files" is not a list');
  if (!isCount(m.rows)) throw bad('"rows" is not a non-negative integer');
  const seen = new Set<string>();
  let sum = 0;
  m.files.forEach((f: unknown, i) => {
    const e = f as Partial<ManifestPart> | null;
    const where = `files[${i}]`;
    if (typeof e !== 'object' || e === null) throw bad(`${where} is not an object`);
    entryPath(dir, e.path, where);
    if (seen.has(e.path!)) throw bad(`${where} "${e.path}" is listed twice`);
    seen.add(e.path!);
    if (!isCount(e.rows)) throw bad(`${where} "${e.path}": "rows" is not a non-negative integer`);
    if (!isCount(e.bytes)) throw bad(`${where} "${e.path}": "bytes" is not a non-negative integer`);
    if (e.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(e.sha256)) throw bad(`${where} "${e.path}": "sha256" is not a hex SHA-256`);
    if (e.bucket !== undefined && !isCount(e.bucket)) throw bad(`${where} "${e.path}": "bucket" is not a non-negative integer`);
    sum += e.rows;
  });
  if (sum !== m.rows) throw bad(`"rows" is ${m.rows} but the parts listed hold ${sum}`);
  if (m.side_files !== undefined) {
    if (!Array.isArray(m.side_files)) throw bad('"side_files" is not a list');
    m.side_files.forEach((f: unknown, i) => {
      const e = f as Partial<ManifestSideFile> | null;
      const where = `side_files[${i}]`;
      if (typeof e !== 'object' || e === null) throw bad(`${where} is not an object`);
      entryPath(dir, e.path, where);
      if (seen.has(e.path!)) throw bad(`${where} "${e.path}" is listed twice`);
      seen.add(e.path!);
      if (!isCount(e.bytes)) throw bad(`${where} "${e.path}": "bytes" is not a non-negative integer`);
      if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw bad(`${where} "${e.path}": "sha256" is not a hex SHA-256`);
    });
  }
  return m as DatasetManifest;
}

/** Every path a manifest lists (parts and side files), relative, "/"-separated. */
export function listedPaths(m: DatasetManifest): string[] {
  return [...m.files.map((f) => f.path), ...(m.side_files ?? []).map((f) => f.path)];
}

/** The manifest's JSON text (stable key order as built, 2-space indent, final newline). */
export function manifestText(m: DatasetManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
