/**
 * The object operations datasets need — list, read a small object, stream an
 * object to a file (hashing and counting its bytes on the way), put, copy,
 * delete — each turning the store's errors into one line naming the s3://
 * path (s3-errors.ts). Parts are put with one PutObject from bytes in memory
 * (retryable; `@aws-sdk/lib-storage`'s multipart upload is not installed),
 * which bounds a part at the store's single-PUT limit (5 GiB on AWS).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DatasetError } from '../manifest.js';
import { s3Handle, type S3Handle } from './s3-client.js';
import { storeError } from './s3-errors.js';
import { keyOf, listPrefix, urlOf, type S3Location } from './s3-url.js';

export interface StoredObject {
  /** Relative to the location, "/"-separated. */
  rel: string;
  size: number;
}

export interface FileReceived {
  bytes: number;
  sha256: string;
}

export class ObjectStore {
  private constructor(private readonly h: S3Handle) {}

  static async open(): Promise<ObjectStore> {
    return new ObjectStore(await s3Handle());
  }

  private async call<T>(url: string, operation: string, run: (h: S3Handle) => Promise<T>): Promise<T> {
    try {
      return await run(this.h);
    } catch (e) {
      throw storeError(e, url, operation, this.h.endpoint);
    }
  }

  /** Every object below the location, in key order. */
  async list(loc: S3Location): Promise<StoredObject[]> {
    const prefix = listPrefix(loc);
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(loc.url, 'listing', ({ sdk, client }) =>
        client.send(new sdk.ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ rel: o.Key.slice(prefix.length), size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  }

  /** A small object's text, or undefined when there is no such key. */
  async getText(loc: S3Location, rel: string): Promise<string | undefined> {
    const url = urlOf(loc, rel);
    try {
      const r = await this.h.client.send(new this.h.sdk.GetObjectCommand({ Bucket: loc.bucket, Key: keyOf(loc, rel) }));
      return await r.Body!.transformToString('utf8');
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchKey') return undefined;
      throw storeError(e, url, 'reading', this.h.endpoint);
    }
  }

  /**
   * Stream an object into `file`, hashing and counting its bytes; with
   * `expect`, more bytes than listed stop the transfer at once and a size or
   * hash that differs is a DatasetError naming the object.
   */
  async getToFile(
    loc: S3Location,
    rel: string,
    file: string,
    expect?: { bytes?: number; sha256?: string; manifest: string },
    signal?: AbortSignal,
  ): Promise<FileReceived> {
    const url = urlOf(loc, rel);
    const r = await this.call(url, 'download', ({ sdk, client }) =>
      client.send(new sdk.GetObjectCommand({ Bucket: loc.bucket, Key: keyOf(loc, rel) }), signal ? { abortSignal: signal } : {}),
    );
    const hash = createHash('sha256');
    let bytes = 0;
    const stale = 'the dataset was changed after it was written; rerun the writer';
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (expect?.bytes !== undefined && bytes > expect.bytes)
          return done(new DatasetError(`${url}: more than the ${expect.bytes} bytes ${expect.manifest} lists (rewritten); ${stale}`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(r.Body as NodeJS.ReadableStream, check, fs.createWriteStream(file), signal ? { signal } : {});
    } catch (e) {
      throw storeError(e, url, 'download', this.h.endpoint);
    }
    const sha256 = hash.digest('hex');
    if (expect?.bytes !== undefined && bytes !== expect.bytes)
      throw new DatasetError(`${url}: ${bytes} bytes, but ${expect.manifest} lists ${expect.bytes} (truncated or rewritten); ${stale}`);
    if (expect?.sha256 !== undefined && sha256 !== expect.sha256)
      throw new DatasetError(
        `${url}: its bytes differ from the SHA-256 in ${expect.manifest}; the dataset was changed or damaged after it was written; rerun the writer`,
      );
    return { bytes, sha256 };
  }

  async put(loc: S3Location, rel: string, body: Uint8Array | string, contentType = 'application/octet-stream'): Promise<void> {
    await this.call(urlOf(loc, rel), 'upload', ({ sdk, client }) =>
      client.send(new sdk.PutObjectCommand({ Bucket: loc.bucket, Key: keyOf(loc, rel), Body: body, ContentType: contentType })),
    );
  }

  /** Copy an object inside the store (server side). */
  async copy(from: S3Location, fromRel: string, to: S3Location, toRel: string): Promise<void> {
    const source = `${from.bucket}/${keyOf(from, fromRel)}`.split('/').map(encodeURIComponent).join('/');
    await this.call(urlOf(to, toRel), `copy from ${urlOf(from, fromRel)}`, ({ sdk, client }) =>
      client.send(new sdk.CopyObjectCommand({ Bucket: to.bucket, Key: keyOf(to, toRel), CopySource: source })),
    );
  }

  /** Delete objects (in requests of at most 1000 keys); deleting a missing key is not an error. */
  async delete(loc: S3Location, rels: string[]): Promise<void> {
    for (let i = 0; i < rels.length; i += 1000) {
      const batch = rels.slice(i, i + 1000);
      const r = await this.call(loc.url, 'deleting', ({ sdk, client }) =>
        client.send(new sdk.DeleteObjectsCommand({ Bucket: loc.bucket, Delete: { Objects: batch.map((rel) => ({ Key: keyOf(loc, rel) })), Quiet: true } })),
      );
      const failed = r.Errors?.[0];
      if (failed) throw storeError({ name: failed.Code, message: failed.Message }, `s3://${loc.bucket}/${failed.Key}`, 'deleting', this.h.endpoint);
    }
  }
}

/**
 * Run `f` over `items` with at most `limit` calls in flight, in order of
 * start. After a failure no further call starts, and the first error is
 * thrown only once every call in flight has ended: a caller that cleans up
 * after a failure (deleting what was put) then sees every object that landed.
 */
export async function forEachLimited<T>(items: T[], limit: number, f: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        await f(items[i]!, i);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}
