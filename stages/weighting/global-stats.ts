/**
 * Global reward statistics for the objectives that need them (Exp-RSFT's
 * global shift and standardisation, linear RSFT's standardisation, a global
 * advantage baseline): read from a reward_stats.json (`stats_path`) or taken
 * from the `reward_stats` artifact the reward_stats stage publishes.
 */
import * as fs from 'node:fs';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { ConfigError } from '../core/config-schema.js';
import type { ObjectiveGlobals } from '../core/objective.js';
import { ARTIFACT } from '../core/artifacts.js';

/** Read and check a reward_stats.json summary (schemas/reward-stats.ts). */
export function readRewardStatsFile(file: string): RewardStatsSummary {
  if (!fs.existsSync(file)) throw new ConfigError(`stats_path: no such file: ${file}`, ['stats_path']);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`stats_path: ${file} is not valid JSON: ${(e as Error).message}`, ['stats_path']);
  }
  return checkRewardStats(raw, file);
}

/** Validate the numeric fields the objectives read; names the file and field. */
export function checkRewardStats(raw: unknown, source: string): RewardStatsSummary {
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(`${source}: reward statistics must be a JSON object`, ['stats']);
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of ['count', 'mean', 'std', 'min', 'max'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) problems.push(`field "${k}" must be a finite number, got ${JSON.stringify(o[k])}`);
  }
  if (problems.length) throw new ConfigError(`${source}: ${problems.join('; ')}`, problems);
  return raw as RewardStatsSummary;
}

/** The globals a stage hands to createOfflineObjective at its first batch. */
export function resolveGlobals(statsPath: string | undefined, artifacts: Map<string, unknown>): ObjectiveGlobals {
  if (statsPath) return { rewardStats: readRewardStatsFile(statsPath) };
  const a = artifacts.get(ARTIFACT.rewardStats);
  if (a === undefined) return {};
  return { rewardStats: checkRewardStats(a, 'artifact "reward_stats"') };
}

/**
 * The statistics an objective needs, or a ConfigError that says how to supply
 * them. `need` names what they are for, `alternative` the option that avoids them.
 */
export function requireStats(globals: ObjectiveGlobals, objective: string, need: string, alternative: string): RewardStatsSummary {
  const s = globals.rewardStats;
  if (s) return s;
  throw new ConfigError(
    `${objective}: ${need} needs the global reward statistics, and none are available. ` +
      'Run the reward_stats stage earlier in the same pipeline with `barrier: true` (so the statistics are complete before the first batch is weighted), ' +
      `or pass \`stats_path\` (a reward_stats.json written by reward_stats), or ${alternative}.`,
    ['reward_stats'],
  );
}
