/**
 * The output directory belongs to the ingest, but only the names it writes
 * are touched: before a run, a previous dataset's `_manifest.json`, its
 * `part-NNNNN.parquet` files, the quarantine file and leftover temporary
 * files are removed (anything else, such as a vocabulary being extended, is
 * kept); after a failed run, the part files it wrote are removed too, so a
 * directory without a manifest holds no data that could pass for a result.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const PART = /^part-\d{5,}\.parquet(\.tmp-\d+)?$/;

export function quarantinePath(output: string): string {
  return path.join(output, '_quarantine', 'rejected.jsonl');
}

/** Remove what a previous ingest wrote into `output` (and nothing else). */
export function clearDatasetFiles(output: string): void {
  if (!fs.existsSync(output)) return;
  for (const name of fs.readdirSync(output)) {
    if (name === '_manifest.json' || name.startsWith('_manifest.json.tmp-') || PART.test(name)) fs.rmSync(path.join(output, name), { force: true });
  }
  const q = path.dirname(quarantinePath(output));
  if (fs.existsSync(q)) {
    for (const name of fs.readdirSync(q)) if (name.startsWith('rejected.jsonl')) fs.rmSync(path.join(q, name), { force: true });
    if (fs.readdirSync(q).length === 0) fs.rmdirSync(q);
  }
}

/** Temporary files (`*.tmp-<pid>`) anywhere below `dir`: none should survive a run. */
export function listTemporaryFiles(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.tmp-\d+$/.test(e.name)) out.push(full);
    }
  };
  walk(dir);
  return out;
}
