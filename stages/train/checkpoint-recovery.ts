/**
 * Leftovers of interrupted checkpoint writes. writeCheckpoint writes
 * `step-<n>.tmp-<pid>-<ms>/` and renames it into place; replacing an existing
 * `step-<n>/` first renames that to `step-<n>.old-<pid>-<ms>/`. A process
 * killed in between leaves such directories behind. They are never
 * checkpoints (listings skip them) and the next run cleans them: when
 * `step-<n>/` is missing, the first leftover that verifies completely (the
 * new write first, then the old copy) is renamed into place; every other
 * leftover of a process that is no longer running is removed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyCheckpoint } from './checkpoint.js';

/** `step-<n>.tmp-<pid>-<ms>` or `step-<n>.old-<pid>-<ms>`. */
export const INTERRUPTED_CHECKPOINT = /^(.+)\.(tmp|old)-(\d+)-(\d+)$/;

/** Whether a directory name is a leftover of an interrupted write, never a checkpoint. */
export function isInterruptedTemporary(name: string): boolean {
  return INTERRUPTED_CHECKPOINT.test(name);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function verifies(dir: string): boolean {
  try {
    verifyCheckpoint(dir);
    return true;
  } catch {
    return false;
  }
}

export interface RecoveryReport {
  /** Leftovers renamed into place as the checkpoint they were meant to be. */
  restored: string[];
  /** Leftovers removed. */
  removed: string[];
}

/** Restore or remove the leftovers of interrupted checkpoint writes directly under `root`. */
export function recoverInterruptedCheckpoints(root: string): RecoveryReport {
  const report: RecoveryReport = { restored: [], removed: [] };
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) return report;
  const byTarget = new Map<string, { name: string; kind: string; ms: number }[]>();
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const m = INTERRUPTED_CHECKPOINT.exec(e.name);
    if (!m || !e.isDirectory()) continue;
    // A write in progress in another live process is left alone.
    if (processAlive(Number(m[3]))) continue;
    const list = byTarget.get(m[1]!) ?? [];
    list.push({ name: e.name, kind: m[2]!, ms: Number(m[4]) });
    byTarget.set(m[1]!, list);
  }
  for (const [target, leftovers] of byTarget) {
    const dest = path.join(root, target);
    // The new write (tmp) is preferred over the copy it was replacing (old); newest first.
    leftovers.sort((a, b) => (a.kind === b.kind ? b.ms - a.ms : a.kind === 'tmp' ? -1 : 1));
    let have = fs.existsSync(path.join(dest, 'checkpoint.json'));
    for (const l of leftovers) {
      const dir = path.join(root, l.name);
      if (!have && verifies(dir)) {
        fs.rmSync(dest, { recursive: true, force: true });
        fs.renameSync(dir, dest);
        report.restored.push(dest);
        have = true;
        continue;
      }
      fs.rmSync(dir, { recursive: true, force: true });
      report.removed.push(dir);
    }
  }
  return report;
}
