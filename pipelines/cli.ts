#!/usr/bin/env node
/**
 * recpost: run pipelines, single stages, and helpers from the command line.
 *
 *   recpost run <pipeline.yaml|json> [--out DIR] [--seed N] [--set stages.0.with.path=x] [--quiet]
 *   recpost validate <pipeline.yaml|json>
 *   recpost stage <name> [--input PATH] [--output DIR] [--opt key=value ...] [--quiet]
 *   recpost stages [name]            list stages, or one stage's options
 *   recpost schema [--output FILE]   JSON Schema of pipeline files
 */
import * as fs from 'node:fs';
import { ConfigError } from '../stages/core/config-schema.js';
import { fieldsToMarkdown } from '../stages/core/config-schema.js';
import { DataError } from '../stages/core/errors.js';
import { getStage, STAGES, stageNames } from '../stages/registry.js';
import { applySets, flag, hasFlag, parseArgs, type ParsedArgs } from './args.js';
import { EXTRA_COMMANDS } from './commands.js';
import { formatStageReport, runPipeline } from './runner.js';
import { parsePipelineText, resolvePipeline, type PipelineSpec } from './spec.js';
import { pipelineJsonSchema } from './json-schema.js';

const USAGE = `usage: recpost <command> [options]

commands:
  run <pipeline>        run a pipeline file (YAML or JSON)
                        --out DIR  --seed N  --set path=value (repeatable)  --quiet
  validate <pipeline>   check a pipeline file without running it
  stage <name>          run one stage: --input PATH (Parquet file or dir, for transforms and sinks)
                        --output DIR (Parquet dataset)  --opt key=value (repeatable)  --quiet
  stages [name]         list stages, or show one stage's options
  schema [--output F]   print the JSON Schema of pipeline files
${EXTRA_COMMANDS.map((c) => `  ${c.usage.padEnd(21)} ${c.summary}`).join('\n')}
`;

function readPipeline(file: string, args: ParsedArgs) {
  if (!fs.existsSync(file)) throw new ConfigError(`pipeline file not found: ${file}`, ['missing']);
  const raw = parsePipelineText(fs.readFileSync(file, 'utf8'), file) as Record<string, unknown>;
  const sets = args.flags.get('set') ?? [];
  if (sets.length && typeof raw === 'object' && raw) applySets(raw, sets);
  if (flag(args, 'seed') !== undefined) raw.seed = Number(flag(args, 'seed'));
  if (flag(args, 'out') !== undefined) raw.out_dir = flag(args, 'out');
  return resolvePipeline(raw, file);
}

/** The command-line overrides of a run, for run.json: each --set, then --seed and --out. */
function runOverrides(args: ParsedArgs): string[] {
  return [...(args.flags.get('set') ?? []), ...(['seed', 'out'] as const).flatMap((k) => (flag(args, k) !== undefined ? [`--${k}=${flag(args, k)}`] : []))];
}

async function cmdRun(args: ParsedArgs): Promise<number> {
  const file = args.positionals[1];
  if (!file) throw new ConfigError('run: name a pipeline file', ['usage']);
  const p = readPipeline(file, args);
  const quiet = hasFlag(args, 'quiet');
  const result = await runPipeline(p, { outDir: flag(args, 'out'), quiet, record: { pipelineFile: file, overrides: runOverrides(args) } });
  if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
  const table = result.artifacts.get('report:table');
  if (typeof table === 'string') process.stdout.write(`${table}\n`);
  return 0;
}

async function cmdValidate(args: ParsedArgs): Promise<number> {
  const file = args.positionals[1];
  if (!file) throw new ConfigError('validate: name a pipeline file', ['usage']);
  const p = readPipeline(file, args);
  process.stdout.write(`${file}: valid pipeline "${p.name}" with ${p.stages.length} stage(s): ${p.stages.map((s) => s.def.name).join(' → ')}\n`);
  return 0;
}

async function cmdStage(args: ParsedArgs): Promise<number> {
  const name = args.positionals[1];
  if (!name) throw new ConfigError(`stage: name a stage (one of: ${stageNames().join(', ')})`, ['usage']);
  const def = getStage(name);
  if (!def) throw new ConfigError(`stage: unknown stage "${name}" (known: ${stageNames().join(', ')})`, ['unknown']);
  const opts: Record<string, unknown> = {};
  applySets(opts, args.flags.get('opt') ?? []);
  const input = flag(args, 'input');
  const output = flag(args, 'output');
  const stages: PipelineSpec['stages'] = [];
  if (def.role !== 'source') {
    if (!input) throw new ConfigError(`stage ${name}: a ${def.role} needs --input (a Parquet file or dataset directory)`, ['input']);
    stages.push({ stage: 'read_parquet', with: { path: input } });
  }
  stages.push({ stage: name, with: opts });
  if (output) stages.push({ stage: 'write_parquet', with: { path: output } });
  const p = resolvePipeline({ name, stages, ...(flag(args, 'seed') ? { seed: Number(flag(args, 'seed')) } : {}) }, `stage ${name}`);
  const quiet = hasFlag(args, 'quiet');
  const result = await runPipeline(p, { outDir: flag(args, 'out') ?? (output ? `${output}.run` : undefined), quiet });
  if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
  return 0;
}

async function cmdStages(args: ParsedArgs): Promise<number> {
  const name = args.positionals[1];
  if (name) {
    const def = getStage(name);
    if (!def) throw new ConfigError(`unknown stage "${name}" (known: ${stageNames().join(', ')})`, ['unknown']);
    process.stdout.write(`${def.name} (${def.role}): ${def.summary}\n\n${def.doc ? `${def.doc}\n\n` : ''}${fieldsToMarkdown(def.fields)}\n`);
    return 0;
  }
  for (const d of STAGES.values()) process.stdout.write(`${d.name.padEnd(24)} ${d.role.padEnd(9)} ${d.summary}\n`);
  return 0;
}

async function cmdSchema(args: ParsedArgs): Promise<number> {
  const text = `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
  const out = flag(args, 'output');
  if (out) fs.writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['quiet']);
  const cmd = args.positionals[0];
  try {
    switch (cmd) {
      case 'run':
        return await cmdRun(args);
      case 'validate':
        return await cmdValidate(args);
      case 'stage':
        return await cmdStage(args);
      case 'stages':
        return await cmdStages(args);
      case 'schema':
        return await cmdSchema(args);
      case undefined:
      case 'help':
      case '--help':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default: {
        const extra = EXTRA_COMMANDS.find((c) => c.name === cmd);
        if (extra) return await extra.run(args);
        process.stderr.write(`recpost: unknown command "${cmd}"\n${USAGE}`);
        return 2;
      }
    }
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DataError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === new URL(`file://${fs.realpathSync(process.argv[1])}`).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
