/**
 * `recpost stage <name>`: run one stage as a small pipeline
 * (read_parquet --input → the stage → write_parquet --output).
 */
import * as path from 'node:path';
import { ConfigError } from '../../stages/core/config-schema.js';
import { applyOptionAssignments, collect, integerOption } from '../args.js';
import type { CliCommand } from '../command.js';
import { checkExists, checkWritableDir, refuseOverwritingInput } from './paths.js';

interface StageOptions {
  input?: string;
  output?: string;
  opt?: string[];
  out?: string;
  seed?: number;
  quiet?: boolean;
}

/** The run directory: --out, else beside --output, else runs/<stage> (announced, since it lands in the current directory). */
export function stageRunDir(name: string, opts: Pick<StageOptions, 'out' | 'output'>): { dir: string; announce: boolean } {
  if (opts.out !== undefined) return { dir: opts.out, announce: false };
  if (opts.output !== undefined) return { dir: `${opts.output}.run`, announce: false };
  return { dir: path.join('runs', name), announce: true };
}

export const stageCommand: CliCommand = {
  name: 'stage',
  define: (program) =>
    program
      .command('stage')
      .summary('run one stage (read_parquet → stage → write_parquet)')
      .description(
        "Run one stage. Transforms and sinks read --input; --output writes the stage's batches as a Parquet dataset. `recpost stages <name>` lists a stage's options.",
      )
      .argument('<name>', 'a registered stage (see `recpost stages`)')
      .option('--input <path>', 'Parquet file or dataset directory to read (transforms and sinks)')
      .option('--output <dir>', "write the stage's output batches as a Parquet dataset here (never the --input path)")
      .option('--opt <key=value>', 'a stage option, the value as YAML, e.g. --opt rho=0.4 (repeatable)', collect)
      .option(
        '--out <dir>',
        'run directory for metrics.jsonl, report.json and files the stage writes by default (default: <output>.run with --output, else runs/<name> in the current directory, printed)',
      )
      .option('--seed <n>', 'base random seed', integerOption('--seed'))
      .option('--quiet', 'no progress lines and no stage report')
      .action(async (name: string, opts: StageOptions) => {
        const options = applyOptionAssignments({}, opts.opt ?? [], '--opt');
        if (opts.input !== undefined) {
          checkExists(opts.input, '--input');
          if (opts.output !== undefined) refuseOverwritingInput(opts.input, opts.output, `--output ${opts.output}`);
          for (const key of ['output', 'path'])
            if (typeof options[key] === 'string') refuseOverwritingInput(opts.input, options[key] as string, `--opt ${key}=${options[key] as string}`);
        }
        if (opts.output !== undefined) checkWritableDir(opts.output, '--output');
        const { getStage, stageNames } = await import('../../stages/registry.js');
        const def = getStage(name);
        if (!def) throw new ConfigError(`stage: unknown stage "${name}" (known: ${stageNames().join(', ')})`, ['unknown']);
        const stages: { stage: string; with: Record<string, unknown> }[] = [];
        if (def.role === 'source' && opts.input !== undefined)
          throw new ConfigError(`stage ${name}: a source reads no --input; name its input with --opt (see \`recpost stages ${name}\`)`, ['input']);
        if (def.role === 'source' && typeof options.path === 'string') {
          // A source's `path` is what it reads: its outputs must not replace it either.
          if (opts.output !== undefined) refuseOverwritingInput(options.path, opts.output, `--output ${opts.output}`, '--opt path=');
          if (typeof options.output === 'string') refuseOverwritingInput(options.path, options.output, `--opt output=${options.output}`, '--opt path=');
        }
        if (def.role !== 'source') {
          if (opts.input === undefined) throw new ConfigError(`stage ${name}: a ${def.role} needs --input (a Parquet file or dataset directory)`, ['input']);
          stages.push({ stage: 'read_parquet', with: { path: opts.input } });
        }
        stages.push({ stage: name, with: options });
        if (opts.output !== undefined) stages.push({ stage: 'write_parquet', with: { path: opts.output } });
        const { resolvePipeline } = await import('../spec.js');
        const { formatStageReport, runPipeline } = await import('../runner.js');
        const p = resolvePipeline({ name, stages, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) }, `stage ${name}`);
        const run = stageRunDir(name, opts);
        checkWritableDir(run.dir, '--out');
        const quiet = opts.quiet ?? false;
        const result = await runPipeline(p, { outDir: run.dir, quiet });
        if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
        if (run.announce) process.stderr.write(`recpost: run files (metrics.jsonl, report.json) written to ${run.dir} (choose with --out)\n`);
      }),
};
