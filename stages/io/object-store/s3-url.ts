/**
 * `s3://bucket/prefix` locations of datasets on an S3-compatible object store.
 * A dataset at `s3://b/data/out` owns the keys below `data/out/` (the prefix
 * plus "/", so `data/output2/` is another dataset); `s3://b` is the bucket's root.
 */
import { ConfigError } from '../../core/config-schema.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing "/" ('' at the bucket's root). */
  prefix: string;
  /** The location as the user should read it: `s3://bucket/prefix`. */
  url: string;
}

/** True for a path on the object store (`s3://…`); everything else is a local path. */
export function isS3Path(p: string): boolean {
  return /^s3:\/\//i.test(p);
}

/** Bucket names as S3 accepts them: 3–63 of [a-z0-9.-], starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parse `s3://bucket/prefix`; a malformed one is a ConfigError naming the path. */
export function parseS3Url(p: string): S3Location {
  const bad = (why: string) => new ConfigError(`${p}: ${why}`, ['path']);
  if (!p.startsWith('s3://')) throw bad('not an s3:// path (expected s3://bucket/prefix, "s3" in lower case)');
  const rest = p.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === '') throw bad('no bucket name (expected s3://bucket/prefix)');
  if (!BUCKET.test(bucket) || bucket.includes('..'))
    throw bad(`"${bucket}" is not a valid bucket name (3 to 63 lower-case letters, digits, "." or "-", starting and ending with a letter or digit)`);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  const segs = prefix === '' ? [] : prefix.split('/');
  if (segs.some((s) => s === '')) throw bad('an empty segment ("//") in the key prefix');
  if (segs.some((s) => s === '.' || s === '..')) throw bad('a "." or ".." segment in the key prefix');
  if (/[\0\\]/.test(prefix)) throw bad('a backslash or NUL in the key prefix');
  return { bucket, prefix, url: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}` };
}

/** The key of `rel` ("/"-separated, relative to the dataset) inside the location. */
export function keyOf(loc: S3Location, rel: string): string {
  return loc.prefix ? `${loc.prefix}/${rel}` : rel;
}

/** The key prefix that lists the dataset's objects (ends with "/" unless at the bucket's root). */
export function listPrefix(loc: S3Location): string {
  return loc.prefix ? `${loc.prefix}/` : '';
}

/** `s3://bucket/key`, for messages. */
export function urlOf(loc: S3Location, rel: string): string {
  return `s3://${loc.bucket}/${keyOf(loc, rel)}`;
}

/** A location inside another: `child(loc, "a/b")` is `s3://bucket/prefix/a/b`. */
export function childLocation(loc: S3Location, rel: string): S3Location {
  return parseS3Url(urlOf(loc, rel));
}
