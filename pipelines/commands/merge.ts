/**
 * `recpost merge <pipeline> --shard-count N`: the merge of static sharding
 * (pipelines/plan/static-shards.ts). Checks that all N shards of the pending
 * sharded step are done (one line naming the missing ones, exit 2), merges
 * them, runs the whole steps that follow, and says what comes next: the next
 * sharded step's shards, or nothing (the pipeline is finished).
 */
import { ARTIFACT } from '../../stages/core/artifacts.js';
import type { CliCommand } from '../command.js';
import { integerOption } from '../args.js';
import { pipelineFileOptions } from './pipeline-options.js';
import type { PipelineFileOptions } from './pipeline-file.js';

export const mergeCommand: CliCommand = {
  name: 'merge',
  define: (program) =>
    pipelineFileOptions(
      program
        .command('merge')
        .summary('merge the shards of a statically sharded run (after `run --shard-index I --shard-count N`)')
        .description(
          'Merge the shards of the next sharded step of a statically sharded run, then run the whole steps after it. Give the same pipeline, --set, --seed and --out as the shards. A step that needs the merged result of the step before it starts after this merge: run its shards, then merge again, until merge says the pipeline is finished.',
        )
        .argument('<pipeline>', 'pipeline file (YAML or JSON)'),
    )
      .requiredOption('--shard-count <n>', 'how many shards each sharded step was run with', integerOption('--shard-count'))
      .option('--quiet', 'no progress lines and no stage report')
      .action(async (file: string, opts: PipelineFileOptions & { shardCount: number; quiet?: boolean }) => {
        const { loadPipelineForCli } = await import('./pipeline-file.js');
        const p = await loadPipelineForCli(file, opts);
        const { mergeStatic } = await import('../plan/static-shards.js');
        const overrides = [
          ...(opts.set ?? []),
          ...(opts.seed !== undefined ? [`--seed=${opts.seed}`] : []),
          ...(opts.out !== undefined ? [`--out=${opts.out}`] : []),
        ];
        const r = await mergeStatic(p, {
          outDir: opts.out,
          quiet: opts.quiet ?? false,
          shardCount: opts.shardCount,
          record: { pipelineFile: file, overrides },
        });
        if (!opts.quiet) {
          const { formatStageReport } = await import('../runner.js');
          process.stderr.write(`${formatStageReport(r.result)}\n`);
        }
        process.stderr.write(
          r.next
            ? `merged ${r.advanced.join(', ')}; next: run the ${opts.shardCount} shards of step ${r.next} (--shard-index 0…${opts.shardCount - 1} --shard-count ${opts.shardCount}), then merge again\n`
            : `merged ${r.advanced.join(', ') || 'nothing'}; the pipeline is finished\n`,
        );
        const table = r.result.artifacts.get(ARTIFACT.reportTable);
        if (!r.next && typeof table === 'string') process.stdout.write(`${table}\n`);
      }),
};
