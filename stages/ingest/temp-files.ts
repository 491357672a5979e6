/**
 * Temporary files still being written, removed if the process exits before
 * they are renamed into place. A pipeline that fails downstream of the
 * ingest never resumes the ingest's generator, so its own cleanup cannot
 * run; this exit hook is the safety net that keeps `.tmp-` files from
 * outliving the process.
 */
import * as fs from 'node:fs';

const live = new Set<string>();
let hooked = false;

export function trackTemp(file: string): void {
  live.add(file);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const f of live) {
        try {
          fs.rmSync(f, { force: true });
        } catch {
          // best effort at exit
        }
      }
    });
  }
}

export function untrackTemp(file: string): void {
  live.delete(file);
}
