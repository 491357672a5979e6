/** Resolving a path the user names to one checkpoint directory (for loading, `init`, `resume_from`, the CLI). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import { listCheckpoints } from './checkpoint.js';

/**
 * A checkpoint directory, or the latest step-<n> below a directory (searching
 * one method level down). A path that names none is the user's mistake: a
 * ConfigError whose field is `what`.
 */
export function resolveCheckpointDir(p: string, what: string): string {
  if (!fs.existsSync(p)) throw new ConfigError(`${what}: no such checkpoint directory: ${p}`, [what]);
  if (fs.existsSync(path.join(p, 'checkpoint.json'))) return p;
  const direct = listCheckpoints(p);
  if (direct.length) return direct[direct.length - 1]!.dir;
  const nested = fs
    .readdirSync(p, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => listCheckpoints(path.join(p, e.name)));
  if (nested.length === 1 || (nested.length > 1 && new Set(nested.map((n) => path.dirname(n.dir))).size === 1))
    return nested.sort((a, b) => a.step - b.step).at(-1)!.dir;
  if (nested.length > 1) throw new ConfigError(`${what}: ${p} holds checkpoints of several methods; name one directory`, [what]);
  throw new ConfigError(`${what}: no checkpoint (checkpoint.json or step-<n>/) in ${p}`, [what]);
}
