/**
 * Checks on the paths a command line names, made before anything runs, so a
 * mistake is one line naming the option and the path (exit 2) rather than a
 * file-system error halfway through a run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../../stages/core/config-schema.js';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
};

/** The deepest existing directory at or above `p` (p itself may not exist yet). */
function nearestExisting(p: string): string {
  let dir = path.resolve(p);
  while (!fs.existsSync(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dir;
}

/**
 * `dir` is (or can become) a directory this process can write in: not an
 * existing file, no file on its way, and writable: an existing directory by
 * its permission; a directory still to be made by probing its nearest
 * existing ancestor with a temporary directory, removed at once (permission
 * bits do not tell for root or read-only mounts).
 */
export function checkWritableDir(dir: string, option: string): void {
  const resolved = path.resolve(dir);
  if (fs.existsSync(resolved) && !fs.statSync(resolved).isDirectory())
    throw new ConfigError(`${option} ${dir} is an existing file; name a directory`, [option]);
  const existing = nearestExisting(resolved);
  if (!fs.statSync(existing).isDirectory()) throw new ConfigError(`${option} ${dir}: ${existing} is a file, so the directory cannot be created`, [option]);
  try {
    // An existing directory is asked, not probed: nothing is created inside a directory the user owns.
    if (existing === resolved) fs.accessSync(existing, fs.constants.W_OK);
    else fs.rmdirSync(fs.mkdtempSync(path.join(existing, '.recpost-probe-')));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new ConfigError(`${option} ${dir}: cannot write in ${existing} (${REASONS[code] ?? code})`, [option]);
  }
}

/** A file the command will write: not a directory, and its directory writable. */
export function checkWritableFile(file: string, option: string): void {
  const resolved = path.resolve(file);
  if (fs.existsSync(resolved) && fs.statSync(resolved).isDirectory()) throw new ConfigError(`${option} ${file} is a directory; name a file`, [option]);
  checkWritableDir(path.dirname(resolved), option);
}

/** An input the command reads must exist. */
export function checkExists(p: string, option: string): void {
  if (!fs.existsSync(p)) throw new ConfigError(`${option} ${p} does not exist`, [option]);
}

/** True when `inner` is `outer` or lies inside it. */
export function isWithin(inner: string, outer: string): boolean {
  const rel = path.relative(path.resolve(outer), path.resolve(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * A writer must not replace what it reads: refuse an output equal to (or
 * holding) the input. `given` is the output as typed, e.g. "--output D".
 */
export function refuseOverwritingInput(input: string, output: string, given: string, inputOption = '--input '): void {
  if (isWithin(input, output)) {
    const same = path.resolve(input) === path.resolve(output);
    throw new ConfigError(
      `${given} ${same ? 'is the same path as' : 'contains'} ${inputOption}${input}; writing it would destroy the input (name another directory)`,
      ['output'],
    );
  }
}
