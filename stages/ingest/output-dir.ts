/**
 * Names inside an ingest's output directory. The directory itself is written
 * through a staging directory and replaced whole (stages/io/manifest-staging.ts),
 * so nothing here deletes files: a previous dataset is never cleared in place.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The quarantine file of a dataset directory. */
export function quarantinePath(output: string): string {
  return path.join(output, '_quarantine', 'rejected.jsonl');
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
