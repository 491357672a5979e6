/**
 * A dataset's parts and their batches wherever it lives: a local path goes to
 * manifest-read.ts / parquet.ts as before, an `s3://` one to
 * s3-dataset-read.ts (loaded only then).
 *
 * The sharded runner lists the parts once, in the coordinator (a listing and
 * the manifest: no part is downloaded there), and hands each shard its own
 * parts. For a dataset on the store a part's `file` is its `s3://` URL; the
 * shard downloads just those parts, each checked against the manifest's size
 * and SHA-256 while it streams in, as the whole reader does.
 */
import type { Batch } from '../../core/batch.js';
import { listDataset, type DatasetListing, type DatasetPart } from '../manifest-read.js';
import { readDataset, type ParquetReadOptions } from '../parquet.js';
import type { S3Listing } from './s3-dataset-read.js';
import { isS3Path, parseS3Url, urlOf } from './s3-url.js';

/** The parts of the dataset at `p` (a local path or `s3://…`); an s3:// part's `file` is its URL. */
export async function listAnyDataset(p: string): Promise<DatasetListing> {
  if (!isS3Path(p)) return listDataset(p);
  const { listS3Dataset } = await import('./s3-dataset-read.js');
  const s = await listS3Dataset(p);
  return {
    kind: s.kind,
    parts: s.parts.map((part) => ({ file: urlOf(s.loc, part.rel), ...(part.rows !== undefined ? { rows: part.rows } : {}), ...sizeAndHash(part) })),
    ...(s.manifest ? { manifest: s.manifest } : {}),
    ...(s.notice ? { notice: s.notice } : {}),
  };
}

function sizeAndHash(part: { bytes?: number; sha256?: string }): { bytes?: number; sha256?: string } {
  return { ...(part.bytes !== undefined ? { bytes: part.bytes } : {}), ...(part.sha256 !== undefined ? { sha256: part.sha256 } : {}) };
}

/**
 * Every batch of the dataset at `p`, or of the parts `opts.listing` names
 * (parts of a listing made by listAnyDataset, a shard's share of them).
 */
export async function* readAnyDataset(
  p: string,
  opts: ParquetReadOptions & { onNotice?: (line: string) => void; what?: string; listing?: Pick<DatasetListing, 'kind' | 'parts'> } = {},
): AsyncGenerator<Batch> {
  if (!isS3Path(p)) {
    yield* readDataset(p, { ...opts, ...(opts.listing ? { listing: { kind: opts.listing.kind, parts: opts.listing.parts } } : {}) });
    return;
  }
  const { readS3Dataset } = await import('./s3-dataset-read.js');
  const { listing, onNotice, ...read } = opts;
  if (!listing) {
    const { listS3Dataset } = await import('./s3-dataset-read.js');
    const whole = await listS3Dataset(p);
    if (whole.notice) onNotice?.(whole.notice);
    yield* readS3Dataset(p, { ...read, listing: whole });
    return;
  }
  yield* readS3Dataset(p, { ...read, listing: s3ListingOf(p, listing.parts) });
}

/**
 * The parts (s3:// URLs below `p`) as the store reader's listing. Parts with
 * row counts come from a manifest and are checked against it; parts without
 * (a prefix another tool wrote) are read unverified, as the whole reader reads them.
 */
export function s3ListingOf(p: string, parts: DatasetPart[]): S3Listing {
  const loc = parseS3Url(p);
  const base = `${loc.url}/`;
  return {
    kind: parts.every((part) => part.rows !== undefined) ? 'recpost' : 'foreign',
    loc,
    parts: parts.map((part) => {
      if (!part.file.startsWith(base)) throw new Error(`${part.file}: not a part of ${loc.url}`);
      return { rel: part.file.slice(base.length), ...(part.rows !== undefined ? { rows: part.rows } : {}), ...sizeAndHash(part) };
    }),
  };
}
