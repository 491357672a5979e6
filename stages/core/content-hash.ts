/**
 * Content hashes for state that must not lie: checkpoints, evaluation state,
 * shard identities. Everything is SHA-256 in lowercase hex. Files are read in
 * chunks (never whole into memory); JSON values are hashed in a canonical
 * form (object keys sorted, no whitespace) so the same value always gives the
 * same hash whatever the key order it was written with.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';

const CHUNK = 1 << 20;

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Feed a file's bytes to `hash` in 1 MiB chunks; returns the number of bytes read. */
export function updateWithFile(hash: Hash, file: string): number {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let total = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      total += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

/** SHA-256 of a file's bytes, streamed. */
export function fileSha256(file: string): string {
  const h = createHash('sha256');
  updateWithFile(h, file);
  return h.digest('hex');
}

/** JSON with object keys sorted at every level (arrays keep their order); undefined members are dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) out[k] = (v as Record<string, unknown>)[k];
    return out;
  });
}

/** SHA-256 of a JSON value's canonical form. */
export function jsonSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * SHA-256 over the typed arrays of an object (fields in name order, each
 * prefixed with its name, element type and length), e.g. a trainer's
 * collected training data. Non-array fields are ignored.
 */
export function typedArraysSha256(obj: object): string {
  const h = createHash('sha256');
  for (const [name, v] of Object.entries(obj).sort((a, b) => a[0].localeCompare(b[0]))) {
    if (!ArrayBuffer.isView(v) || v instanceof DataView) continue;
    h.update(`${name}:${v.constructor.name}:${v.byteLength}\n`);
    h.update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  }
  return h.digest('hex');
}
