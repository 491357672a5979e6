/**
 * The dataset contract on an object store. There is no rename, so the
 * manifest object is the commit: a writer puts every part under its final
 * key first and `<prefix>/_manifest.json` last (a PUT is atomic per object),
 * and a reader reads exactly the parts the manifest lists. New parts are
 * named `part-NNNNN-<run tag>.parquet`, so a rewrite never overwrites a part
 * of the dataset it replaces; that dataset's parts are deleted only after
 * the new manifest is in place.
 *
 * Manifests are checked by the same code as on disk (manifest.ts): the text
 * is parsed from a scratch copy and the messages name the s3:// object.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetError, MANIFEST_NAME, readManifest, type DatasetManifest } from '../manifest.js';
import { isRecpostLeftover } from '../manifest-staging.js';
import type { ObjectStore, StoredObject } from './s3-objects.js';
import { urlOf, type S3Location } from './s3-url.js';

/** `dir/name.ext` → `dir/name-<tag>.ext`: a part or side file as a run tagged `tag` puts it on the store ('' for the deterministic names of a shard's area). */
export function taggedName(rel: string, tag: string): string {
  if (!tag) return rel;
  const slash = rel.lastIndexOf('/');
  const dot = rel.lastIndexOf('.');
  return dot > slash ? `${rel.slice(0, dot)}-${tag}${rel.slice(dot)}` : `${rel}-${tag}`;
}

const TAGGED_PART = /^([^/]+=[^/]+\/)?part-\d{5,}-[0-9a-f]{8}\.parquet$/;
/** Side files an ingest's upload puts (s3-dataset-upload.ts): vocabularies and the quarantine file, run-tagged. */
const TAGGED_SIDE = /^(vocab\/(users|items|sessions)-[0-9a-f]{8}\.parquet|_quarantine\/rejected-[0-9a-f]{8}\.jsonl)$/;
/** Shards of a sharded run write below the target (s3-shard-merge.ts). */
export const SHARDS_AREA = '_shards';

/** A key (relative to a dataset prefix) a recpost writer may have left there: parts, temporaries, vocabularies, quarantine, shard areas. */
export function isRecpostKey(rel: string): boolean {
  return TAGGED_PART.test(rel) || TAGGED_SIDE.test(rel) || isRecpostLeftover(rel) || rel.startsWith(`${SHARDS_AREA}/`);
}

/** A recpost part or shard-area key: the mark of a recpost writer that did not finish when there is no manifest. */
export function isRecpostPartKey(rel: string): boolean {
  return TAGGED_PART.test(rel) || /^([^/]+=[^/]+\/)?part-\d{5,}\.parquet$/.test(rel) || rel.startsWith(`${SHARDS_AREA}/`);
}

/** The manifest of the dataset at `loc`, checked as on disk; undefined when there is none. */
export async function readS3Manifest(store: ObjectStore, loc: S3Location): Promise<DatasetManifest | undefined> {
  const text = await store.getText(loc, MANIFEST_NAME);
  if (text === undefined) return undefined;
  return parseManifestText(text, loc);
}

/** Check a manifest's text with manifest.ts's readManifest; its messages name the s3:// location instead of the scratch copy. */
export function parseManifestText(text: string, loc: S3Location): DatasetManifest {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-s3-manifest-'));
  try {
    fs.writeFileSync(path.join(scratch, MANIFEST_NAME), text);
    return readManifest(scratch);
  } catch (e) {
    if (e instanceof DatasetError) throw new DatasetError(e.message.split(scratch).join(loc.url));
    throw e;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every key a manifest lists (parts and side files), relative to the dataset. */
export function manifestKeys(m: DatasetManifest): string[] {
  return [...m.files.map((f) => f.path), ...(m.side_files ?? []).map((f) => f.path)];
}

/**
 * Check that every part and side file the manifest lists is among `objects`
 * with its listed size (sizes from the listing: no request per part).
 */
export function checkListed(m: DatasetManifest, objects: StoredObject[], loc: S3Location): void {
  const sizes = new Map(objects.map((o) => [o.rel, o.size]));
  const stale = 'the dataset was changed after it was written; rerun the writer';
  const manifestUrl = urlOf(loc, MANIFEST_NAME);
  for (const f of [...m.files, ...(m.side_files ?? [])]) {
    const size = sizes.get(f.path);
    if (size === undefined) throw new DatasetError(`${urlOf(loc, f.path)}: listed in ${manifestUrl} but missing; ${stale}`);
    if (size !== f.bytes)
      throw new DatasetError(`${urlOf(loc, f.path)}: ${size} bytes, but ${manifestUrl} lists ${f.bytes} (truncated or rewritten); ${stale}`);
  }
}

/**
 * What a writer finds at its target prefix: the committed dataset it will
 * replace (undefined: none). A prefix holding objects recpost did not write
 * is refused (recpost never deletes them, and a reader of the prefix would
 * mix them in); leftovers of an unfinished recpost writer are left alone.
 */
export async function inspectS3Target(store: ObjectStore, loc: S3Location, what: string): Promise<DatasetManifest | undefined> {
  const objects = await store.list(loc);
  if (objects.length === 0) return undefined;
  let m: DatasetManifest | undefined;
  if (objects.some((o) => o.rel === MANIFEST_NAME)) {
    try {
      m = await readS3Manifest(store, loc);
    } catch (e) {
      if (!(e instanceof DatasetError)) throw e;
      // A corrupt manifest describes nothing: the prefix is replaceable only if every object has a recpost name.
    }
  }
  const listed = new Set(m ? manifestKeys(m) : []);
  const foreign = objects.map((o) => o.rel).filter((rel) => rel !== MANIFEST_NAME && !listed.has(rel) && !isRecpostKey(rel));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ` and ${foreign.length - 3} more` : '');
    throw new DatasetError(
      m
        ? `${what}: output ${loc.url} is a recpost dataset but also holds objects its manifest does not list (${shown}); recpost never deletes objects it did not write: move them away or choose another output`
        : `${what}: output ${loc.url} is not empty and is not a recpost dataset (it holds ${shown} and no ${MANIFEST_NAME}); recpost never deletes objects it did not write: choose another prefix`,
    );
  }
  return m;
}
