/**
 * CLI subcommands of the statistics concern (joined in pipelines/commands.ts):
 *
 *   recpost stats-merge <state or summary files...> --output merged/reward_stats.json
 *
 * merges the reward statistics of shard runs (their .state.json files, or the
 * summaries with their state beside them) into one summary and state.
 */
import type { Command } from '../../pipelines/command.js';
import { flag } from '../../pipelines/args.js';
import { ConfigError } from '../core/config-schema.js';
import { mergeStatsFiles, statePathFor } from './stats-files.js';

export const statsMergeCommand: Command = {
  name: 'stats-merge',
  summary: 'merge reward statistics of shard runs (state files) into one summary',
  usage: 'stats-merge <files> --output F',
  async run(args) {
    const inputs = args.positionals.slice(1);
    const output = flag(args, 'output');
    if (inputs.length === 0) throw new ConfigError('stats-merge: name the state files (or summaries with their .state.json beside them) to merge', ['usage']);
    if (!output) throw new ConfigError('stats-merge: --output FILE is required (the merged summary JSON)', ['usage']);
    const s = mergeStatsFiles(inputs, output);
    process.stdout.write(
      `merged ${inputs.length} file(s): ${s.count} values, mean ${s.mean}, std ${s.std}, min ${s.min}, max ${s.max}\n→ ${output} (state: ${statePathFor(output)})\n`,
    );
    return 0;
  },
};

/** CLI subcommands contributed by this concern. */
export const statsCommands: Command[] = [statsMergeCommand];
