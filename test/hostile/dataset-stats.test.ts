/** The reward statistics pair (summary + state) is replaced file by file; a pair from two runs is refused, not merged. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../stages/io/manifest.js';
import { RewardStats } from '../../stages/stats/reward-stats.js';
import { mergeStatsFiles, readStatsState, statePathFor, writeStatsFiles } from '../../stages/stats/stats-files.js';
import { tmpDir } from './dataset-helpers.js';

function stats(values: number[]): RewardStats {
  const s = new RewardStats();
  s.add(Float64Array.from(values));
  return s;
}

describe('reward statistics files', () => {
  it('a state beside a summary of another run (a kill between the two renames) is refused when merging', () => {
    const d = tmpDir('stats');
    const a = path.join(d, 'a', 'reward_stats.json');
    const b = path.join(d, 'b', 'reward_stats.json');
    writeStatsFiles(a, { column: 'reward', global: stats([1, 2, 3]) });
    writeStatsFiles(b, { column: 'reward', global: stats([4, 5]) });
    // New state in place, previous summary still there.
    fs.copyFileSync(statePathFor(b), statePathFor(a));
    expect(() => mergeStatsFiles([a], path.join(d, 'm.json'))).toThrow(DatasetError);
    expect(() => readStatsState(a)).toThrow(
      `reward statistics: ${statePathFor(a)} is not the state written with ${a} (a run was interrupted between the two files, or one was replaced); rerun reward_stats`,
    );
    // The state file itself is still a valid input (it names no summary to disagree with).
    expect(readStatsState(statePathFor(a)).global.summary().count).toBe(2);
  });

  it('a matching pair merges, and writing leaves no temporary file', () => {
    const d = tmpDir('stats');
    const a = path.join(d, 'reward_stats.json');
    writeStatsFiles(a, { column: 'reward', global: stats([1, 2, 3, 4]) });
    writeStatsFiles(a, { column: 'reward', global: stats([1, 2]) });
    const merged = mergeStatsFiles([a], path.join(d, 'm', 'reward_stats.json'));
    expect([merged.count, merged.mean]).toEqual([2, 1.5]);
    expect(fs.readdirSync(d).sort()).toEqual(['m', 'reward_stats.json', 'reward_stats.state.json']);
  });
});
