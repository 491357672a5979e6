/**
 * `recpost stats-merge <state or summary files...> --output merged/reward_stats.json`:
 * merge the reward statistics of shard runs (their .state.json files, or the
 * summaries with their state beside them) into one summary and state.
 */
import type { CliCommand } from '../command.js';
import { checkExists, checkWritableFile } from './paths.js';

export const statsMergeCommand: CliCommand = {
  name: 'stats-merge',
  define: (program) =>
    program
      .command('stats-merge')
      .summary('merge reward statistics of shard runs (state files) into one summary')
      .argument('<files...>', 'state files (or summaries with their .state.json beside them)')
      .requiredOption('--output <file>', 'the merged summary JSON (its state is written beside it)')
      .action(async (inputs: string[], opts: { output: string }) => {
        for (const f of inputs) checkExists(f, 'stats-merge: input');
        checkWritableFile(opts.output, '--output');
        const { mergeStatsFiles, statePathFor } = await import('../../stages/stats/stats-files.js');
        const s = mergeStatsFiles(inputs, opts.output);
        process.stdout.write(
          `merged ${inputs.length} file(s): ${s.count} values, mean ${s.mean}, std ${s.std}, min ${s.min}, max ${s.max}\n→ ${opts.output} (state: ${statePathFor(opts.output)})\n`,
        );
      }),
};
