/**
 * Shard identities of reward statistics state files, so that merging the same
 * shard twice (`stats-merge a a`, a copy of a, or a merged file together with
 * one of its parts) is refused instead of double-counting.
 *
 * A state file written by one reward_stats run is identified by the SHA-256 of
 * its statistics (column, global and per-split state, canonical JSON): the
 * same data gives the same state, whichever file it is in. A merged state
 * records the identities of every shard it holds (`shards`).
 */
import * as fs from 'node:fs';
import { ConfigError } from '../core/config-schema.js';
import { jsonSha256 } from '../core/content-hash.js';

/** The shard identities a parsed state file holds. */
export function shardIdsOf(raw: { column?: unknown; global?: unknown; perSplit?: unknown; shards?: unknown }): string[] {
  if (Array.isArray(raw.shards) && raw.shards.length > 0 && raw.shards.every((s) => typeof s === 'string')) return raw.shards as string[];
  return [`sha256:${jsonSha256({ column: raw.column, global: raw.global, perSplit: raw.perSplit ?? null })}`];
}

/**
 * Throw a ConfigError when two inputs are the same file or share a shard;
 * returns the union of the identities, in input order.
 */
export function distinctShards(inputs: readonly string[], ids: readonly (readonly string[])[]): string[] {
  const byFile = new Map<string, string>();
  const byShard = new Map<string, string>();
  const all: string[] = [];
  inputs.forEach((input, i) => {
    let real = input;
    try {
      real = fs.realpathSync(input);
    } catch {
      // Unreadable paths are reported by the reader.
    }
    const again = byFile.get(real);
    if (again !== undefined) throw new ConfigError(`stats-merge: ${input} is named twice (also as ${again}); each shard may be merged once`, ['inputs']);
    byFile.set(real, input);
    for (const id of ids[i] ?? []) {
      const other = byShard.get(id);
      if (other !== undefined)
        throw new ConfigError(
          `stats-merge: ${input} and ${other} hold the same shard (${id.slice(0, 19)}…, identical statistics); merging it twice would count its rows twice`,
          ['inputs'],
        );
      byShard.set(id, input);
      all.push(id);
    }
  });
  return all;
}
