/**
 * Files written by `reward_stats` and read back to merge shard runs.
 *
 *   <path>                 e.g. reward_stats.json: the RewardStatsSummary
 *                          (schemas/reward-stats.ts) plus `column` and, when
 *                          kept, `perSplit` (one summary per split name).
 *   <path minus .json>.state.json
 *                          the mergeable state (RewardStats.toJSON() of the
 *                          global accumulator and of each split).
 *
 * Readers that only want the summary read the first file as a
 * RewardStatsSummary; the extra keys do not disturb them. Both files are
 * written atomically (temporary name, then rename), the state first; the
 * state records the SHA-256 of its summary's text (`summary_sha256`), so a
 * kill between the two renames (new state, previous summary) is detected
 * when the pair is read back through the summary for merging, instead of
 * mixing two runs.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { writeFileAtomic } from '../io/parquet.js';
import { DatasetError } from '../io/manifest.js';
import { RewardStats, type RewardStatsState } from './reward-stats.js';
import { distinctShards, shardIdsOf } from './shard-identity.js';

export interface RewardStatsFile extends RewardStatsSummary {
  column: string;
  perSplit?: Record<string, RewardStatsSummary>;
}

export interface RewardStatsStateFile {
  kind: 'recpost.reward_stats_state';
  version: 1;
  column: string;
  global: RewardStatsState;
  perSplit?: Record<string, RewardStatsState>;
  /** Hex SHA-256 of the summary file written with this state. */
  summary_sha256?: string;
  /** Identities of the shards a merged state holds (shard-identity.ts). */
  shards?: string[];
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The state file that goes with a summary file. */
export function statePathFor(summaryPath: string): string {
  return `${summaryPath.replace(/\.json$/i, '')}.state.json`;
}

export interface StatsSet {
  column: string;
  global: RewardStats;
  perSplit?: Map<string, RewardStats>;
  shards?: string[];
}

/** JSON text with NaN/±Infinity written as null (JSON has no such numbers). */
function toJsonText(v: unknown): string {
  return `${JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2)}\n`;
}

/** Write the summary file and its state file; returns the summary written. */
export function writeStatsFiles(summaryPath: string, set: StatsSet): RewardStatsFile {
  const summary: RewardStatsFile = { ...set.global.summary(), column: set.column };
  const state: RewardStatsStateFile = { kind: 'recpost.reward_stats_state', version: 1, column: set.column, global: set.global.toJSON() };
  if (set.shards) state.shards = set.shards;
  if (set.perSplit) {
    summary.perSplit = {};
    state.perSplit = {};
    for (const [name, st] of [...set.perSplit].sort((a, b) => a[0].localeCompare(b[0]))) {
      summary.perSplit[name] = st.summary();
      state.perSplit[name] = st.toJSON();
    }
  }
  // State first: a summary on disk always has its state beside it.
  const summaryText = toJsonText(summary);
  state.summary_sha256 = sha256(summaryText);
  writeFileAtomic(statePathFor(summaryPath), toJsonText(state));
  writeFileAtomic(summaryPath, summaryText);
  return summary;
}

/** Read a state file (or the state beside a summary file). */
export function readStatsState(file: string): StatsSet {
  let p = file;
  if (!fs.existsSync(p)) throw new Error(`reward statistics: no such file: ${file}`);
  let raw = JSON.parse(fs.readFileSync(p, 'utf8')) as Partial<RewardStatsStateFile>;
  if (raw.kind !== 'recpost.reward_stats_state') {
    const summarySha = sha256(fs.readFileSync(file, 'utf8'));
    p = statePathFor(file);
    if (!fs.existsSync(p))
      throw new Error(`reward statistics: ${file} is not a state file and ${p} does not exist (merging needs the .state.json written beside the summary)`);
    raw = JSON.parse(fs.readFileSync(p, 'utf8')) as Partial<RewardStatsStateFile>;
    if (typeof raw.summary_sha256 === 'string' && raw.summary_sha256 !== summarySha)
      throw new DatasetError(
        `reward statistics: ${p} is not the state written with ${file} (a run was interrupted between the two files, or one was replaced); rerun reward_stats`,
      );
    if (raw.kind !== 'recpost.reward_stats_state') throw new Error(`reward statistics: ${p} is not a reward statistics state file`);
  }
  if (raw.version !== 1 || !raw.global || typeof raw.column !== 'string')
    throw new Error(`reward statistics: ${p}: unsupported state (version ${raw.version})`);
  const set: StatsSet = { column: raw.column, global: RewardStats.fromJSON(raw.global), shards: shardIdsOf(raw) };
  if (raw.perSplit) set.perSplit = new Map(Object.entries(raw.perSplit).map(([k, v]) => [k, RewardStats.fromJSON(v)]));
  return set;
}

/**
 * Merge the states of several runs (shards of one dataset) and write the
 * merged summary to `output` with its state beside it. Inputs are state files
 * or summary files with their state beside them. Moments merge exactly (up to
 * rounding), histograms exactly, quantiles within the sketch's rank error.
 */
export function mergeStatsFiles(inputs: readonly string[], output: string): RewardStatsFile {
  if (inputs.length === 0) throw new Error('mergeStatsFiles: no input files');
  const sets = inputs.map(readStatsState);
  const first = sets[0]!;
  first.shards = distinctShards(
    inputs,
    sets.map((s) => s.shards ?? []),
  );
  for (let i = 1; i < sets.length; i++) {
    const s = sets[i]!;
    if (s.column !== first.column) throw new Error(`mergeStatsFiles: ${inputs[i]} has statistics of column "${s.column}", ${inputs[0]} of "${first.column}"`);
    try {
      first.global.merge(s.global);
    } catch (e) {
      throw new Error(`mergeStatsFiles: ${inputs[i]}: ${(e as Error).message}`);
    }
    if (s.perSplit) {
      first.perSplit ??= new Map();
      for (const [name, st] of s.perSplit) {
        const mine = first.perSplit.get(name);
        if (mine) mine.merge(st);
        else first.perSplit.set(name, st);
      }
    }
  }
  return writeStatsFiles(output, first);
}
