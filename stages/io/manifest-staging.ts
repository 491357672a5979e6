/**
 * Staged commits: a dataset is written into `<target>.staging-<pid>-<hex>`
 * beside its target and moved into place only when whole, so the previous
 * dataset stays complete and readable until the very end, and a failed or
 * killed writer leaves it as it was.
 *
 * The swap: target absent (or an empty directory) → one rename of the
 * staging directory; otherwise rename target → `<target>.old-<pid>-<hex>`,
 * rename staging → target, remove the old one. A kill between the two
 * renames leaves no target and a complete `.old-` dataset (it has its
 * manifest): the next writer or reader of that target renames it back.
 * Staging directories of dead processes are removed by the next writer.
 *
 * Writers never delete a file they did not write: a target that is not a
 * recpost dataset (files, and no manifest naming them) is refused, and so is
 * a recpost dataset holding files its manifest does not list (the user's
 * notes, say): those are never wiped. The only names replaced without a
 * manifest are the leftovers of an unfinished recpost writer (part-NNNNN
 * files, `*.tmp-<pid>`, vocab/ and _quarantine/ files).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, listedPaths, MANIFEST_NAME, readManifest } from './manifest.js';

/** Names an unfinished recpost writer (of any version) can have left, relative to the dataset. */
const LEFTOVER = [
  /^([^/]+=[^/]+\/)?part-\d{5,}\.parquet(\.tmp-\d+)?$/,
  /^_manifest\.json\.tmp-\d+$/,
  /^vocab\/(users|items|sessions)\.parquet(\.tmp-\d+)?$/,
  /^_quarantine\/rejected\.jsonl(\.tmp-\d+)?$/,
  /(^|\/)[^/]+\.tmp-\d+$/,
];

export function isRecpostLeftover(rel: string): boolean {
  return LEFTOVER.some((re) => re.test(rel));
}

/** A recpost part file or temporary file: the mark of a recpost writer (vocab/ and _quarantine/ names alone are not). */
export function isRecpostPartOrTemp(rel: string): boolean {
  return LEFTOVER[0]!.test(rel) || LEFTOVER[1]!.test(rel) || LEFTOVER[4]!.test(rel);
}

/** Every file below `dir`, relative, "/"-separated, sorted (directories are not listed). */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else out.push(rel);
    }
  };
  walk(dir, '');
  return out.sort();
}

function named(files: string[]): string {
  const shown = files.slice(0, 3).join(', ');
  return files.length > 3 ? `${shown} and ${files.length - 3} more` : shown;
}

/**
 * What a writer finds at its target. Throws a DatasetError when the target
 * holds anything the writer may not replace.
 */
export function inspectTarget(target: string, what: string): 'absent' | 'empty' | 'dataset' | 'unfinished' {
  let st: fs.Stats;
  try {
    st = fs.statSync(target);
  } catch {
    return 'absent';
  }
  if (!st.isDirectory()) throw new DatasetError(`${what}: output ${target} exists and is not a directory; choose a directory path for the dataset`);
  const files = filesBelow(target);
  if (files.length === 0) return 'empty';
  if (files.includes(MANIFEST_NAME)) {
    const m = readManifest(target);
    const listed = new Set([MANIFEST_NAME, ...listedPaths(m)]);
    // Manifests without side_files (version 1) did not list vocab/ and _quarantine/: those names are the writer's too.
    const foreign = files.filter((f) => !listed.has(f) && !(m.side_files === undefined && isRecpostLeftover(f)) && !/\.tmp-\d+$/.test(f));
    if (foreign.length > 0)
      throw new DatasetError(
        `${what}: output ${target} is a recpost dataset but also holds files its manifest does not list (${named(foreign)}); recpost never deletes files it did not write: move them away or choose another output`,
      );
    return 'dataset';
  }
  const foreign = files.filter((f) => !isRecpostLeftover(f));
  if (foreign.length > 0)
    throw new DatasetError(
      `${what}: output ${target} exists and is not a recpost dataset (it holds ${named(foreign)} and no ${MANIFEST_NAME}); recpost never deletes files it did not write: choose another output or empty it`,
    );
  return 'unfinished';
}

const SIBLING = /^(.*)\.(staging|old)-(\d+)-([0-9a-f]{8})$/;
const active = new Set<string>();
let hooked = false;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Finish or undo what an interrupted writer of `target` left beside it:
 * a complete `.old-` dataset with no target is renamed back into place (the
 * kill fell between the two renames of a swap); `.old-` datasets beside a
 * target and staging directories of dead writers are removed. Directories of
 * live writers (other processes, or this one's open stagings) are left
 * alone. Returns what it did, one line per action.
 */
export function recoverInterrupted(target: string): string[] {
  const abs = path.resolve(target);
  const parent = path.dirname(abs);
  const base = path.basename(abs);
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const done: string[] = [];
  for (const name of names.sort()) {
    const m = SIBLING.exec(name);
    if (!m || m[1] !== base) continue;
    const full = path.join(parent, name);
    const pid = Number(m[3]);
    if (active.has(full) || (pid !== process.pid && pidAlive(pid))) continue;
    if (m[2] === 'staging') {
      fs.rmSync(full, { recursive: true, force: true });
      done.push(`removed the staging directory of an interrupted writer: ${full}`);
    } else if (fs.existsSync(path.join(full, MANIFEST_NAME))) {
      if (!fs.existsSync(abs)) {
        fs.renameSync(full, abs);
        done.push(`restored ${abs} from ${full} (a writer was killed while swapping it)`);
      } else {
        fs.rmSync(full, { recursive: true, force: true });
        done.push(`removed the previous dataset left by an interrupted swap: ${full}`);
      }
    }
  }
  return done;
}

/** A dataset directory being written beside its target, moved into place by `commit`. */
export class StagedDirectory {
  readonly target: string;
  readonly staging: string;
  private state: 'open' | 'committed' | 'aborted' = 'open';

  constructor(
    target: string,
    private readonly what: string,
  ) {
    this.target = path.resolve(target);
    if (this.target === path.dirname(this.target)) throw new DatasetError(`${what}: output ${target} is a filesystem root; choose a directory for the dataset`);
    try {
      fs.mkdirSync(path.dirname(this.target), { recursive: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new DatasetError(`${what}: cannot create the parent directory of the output ${target} (${err.code ?? err.message}); choose a writable location`);
    }
    recoverInterrupted(this.target);
    inspectTarget(this.target, what);
    this.staging = `${this.target}.staging-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      fs.mkdirSync(this.staging);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new DatasetError(`${what}: cannot write beside the output ${target} (${err.code ?? err.message}: ${this.staging}); choose a writable location`);
    }
    active.add(this.staging);
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const d of active) {
          try {
            fs.rmSync(d, { recursive: true, force: true });
          } catch {
            // best effort at exit
          }
        }
      });
    }
  }

  /** Where a file destined for `p` (inside the target) is written now; paths outside the target are returned unchanged. */
  pathFor(p: string): string {
    const abs = path.resolve(p);
    if (abs === this.target) return this.staging;
    if (abs.startsWith(this.target + path.sep)) return path.join(this.staging, abs.slice(this.target.length + 1));
    return p;
  }

  /** True when `p` lies inside the target (so it belongs to the dataset). */
  contains(p: string): boolean {
    return path.resolve(p).startsWith(this.target + path.sep);
  }

  /** Move the staging directory into place (see the module comment for the swap). */
  commit(): void {
    if (this.state !== 'open') throw new Error(`${this.what}: staged dataset ${this.target} is already ${this.state}`);
    try {
      const found = inspectTarget(this.target, this.what);
      if (found === 'absent' || found === 'empty') {
        try {
          fs.renameSync(this.staging, this.target);
          this.state = 'committed';
          return;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
          // Something appeared meanwhile: inspect again and swap.
          inspectTarget(this.target, this.what);
        }
      }
      const old = `${this.target}.old-${process.pid}-${randomBytes(4).toString('hex')}`;
      fs.renameSync(this.target, old);
      active.add(old);
      try {
        fs.renameSync(this.staging, this.target);
      } catch (e) {
        fs.renameSync(old, this.target);
        active.delete(old);
        throw e;
      }
      this.state = 'committed';
      fs.rmSync(old, { recursive: true, force: true });
      active.delete(old);
    } finally {
      if (this.state === 'committed') active.delete(this.staging);
      else this.abort();
    }
  }

  /** Give up: remove the staging directory (everything in it was written by this writer). */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    fs.rmSync(this.staging, { recursive: true, force: true });
    active.delete(this.staging);
  }

  get committed(): boolean {
    return this.state === 'committed';
  }
}
