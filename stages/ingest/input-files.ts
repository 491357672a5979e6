/**
 * Which files an ingest reads: a file; a directory (its data files, found
 * recursively, skipping names that start with "." or "_"; a directory with a
 * `_manifest.json` contributes exactly the files its manifest lists); or a glob pattern
 * (`*`, `?`, `[abc]` within a path segment, `**` for any number of
 * directories; a wildcard does not match names starting with "." or "_"
 * unless the pattern segment does). Files are read in name order (by full
 * path), so vocabulary indices follow a deterministic order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import { assertFinished, listDataset } from '../io/manifest-read.js';

/** Extensions a directory listing picks up. */
export const DATA_EXTENSIONS = ['.csv', '.tsv', '.tab', '.dat', '.data', '.txt', '.jsonl', '.ndjson', '.json', '.parquet'];

function hasGlob(s: string): boolean {
  return /[*?[]/.test(s);
}

function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = seg.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = seg.slice(i + 1, close);
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function walkFiles(dir: string, out: string[]): void {
  // A dataset directory written by recpost lists its own files: read exactly
  // those (not, say, the vocabulary files stored beside them).
  // (checked under the dataset contract: stages/io/manifest-read.ts).
  if (fs.existsSync(path.join(dir, '_manifest.json'))) {
    for (const part of listDataset(dir).parts) out.push(part.file);
    return;
  }
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) walkFiles(full, out);
    else if (e.isFile() && DATA_EXTENSIONS.includes(path.extname(e.name).toLowerCase())) out.push(full);
  }
}

function expandGlob(pattern: string): string[] {
  const abs = path.isAbsolute(pattern);
  const segs = pattern.split(/[\\/]+/).filter((s, i) => s !== '' || i === 0);
  // The fixed prefix (segments without wildcards) is the starting directory.
  let k = 0;
  while (k < segs.length && !hasGlob(segs[k]!)) k++;
  const base = segs.slice(0, k).join('/') || (abs ? '/' : '.');
  const rest = segs.slice(k);
  const out: string[] = [];
  const visit = (dir: string, i: number): void => {
    if (i === rest.length) {
      if (fs.existsSync(dir) && fs.statSync(dir).isFile()) out.push(dir);
      return;
    }
    const seg = rest[i]!;
    if (seg === '**') {
      visit(dir, i + 1);
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory() && !e.name.startsWith('.') && !e.name.startsWith('_')) visit(path.join(dir, e.name), i);
      }
      return;
    }
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return;
    if (!hasGlob(seg)) return visit(path.join(dir, seg), i + 1);
    const re = segmentRegex(seg);
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const hidden = (e.name.startsWith('.') && !seg.startsWith('.')) || (e.name.startsWith('_') && !seg.startsWith('_'));
      if (re.test(e.name) && !hidden) visit(path.join(dir, e.name), i + 1);
    }
  };
  visit(base, 0);
  return [...new Set(out)];
}

/** What a path that is neither a regular file nor a directory is, for messages. */
function kindOf(st: fs.Stats): string {
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Resolve the `path` option to the files to read, in name order. A missing
 * path, a pattern that matches nothing, a directory without data files, and a
 * device, FIFO or socket (which could stream forever: /dev/zero) are
 * ConfigErrors naming the path or pattern.
 */
export function resolveInputFiles(p: string): string[] {
  let files: string[];
  if (hasGlob(p) && !fs.existsSync(p)) {
    files = expandGlob(p);
    if (files.length === 0) throw new ConfigError(`ingest: path: no files match the pattern ${p}`, ['no match']);
  } else {
    if (!fs.existsSync(p)) throw new ConfigError(`ingest: path: no such file or directory: ${p}`, ['missing']);
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      files = [];
      if (!fs.existsSync(path.join(p, '_manifest.json'))) assertFinished(p);
      walkFiles(p, files);
      if (files.length === 0) throw new ConfigError(`ingest: path: no data files (${DATA_EXTENSIONS.join(' ')}) under ${p}`, ['empty']);
    } else if (st.isFile()) files = [p];
    else throw new ConfigError(`ingest: path: ${p} is ${kindOf(st)}; ingest reads regular files (and directories of them)`, ['not a file']);
  }
  return files.sort(byName);
}
