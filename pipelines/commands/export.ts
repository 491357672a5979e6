/**
 * `recpost export <checkpoint> --format onnx --output model.onnx`: a trained
 * SASRec checkpoint as ONNX for serving (stages/export/sasrec-onnx.ts).
 * Writes the scorer to --output and, when the checkpoint has a reward head,
 * the reward model beside it as <output without .onnx>.reward.onnx.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command as CommanderCommand } from 'commander';
import { ConfigError } from '../../stages/core/config-schema.js';
import { readCheckpoint } from '../../stages/train/checkpoint.js';
import type { SasrecConfig } from '../../stages/train/sasrec.js';
import { resolveCheckpointDir } from '../../stages/train/checkpoint-dir.js';
import { sasrecConfigCodec } from '../../stages/train/sasrec-codec.js';
import { sasrecRewardModel, sasrecScorerModel } from '../../stages/export/sasrec-onnx.js';
import { packageVersions } from '../run-record.js';

export const EXPORT_FORMATS = ['onnx'] as const;

export interface ExportArgs {
  checkpoint: string;
  format?: string;
  output: string;
}

export interface ExportResult {
  checkpoint: string;
  scorer: string;
  reward?: string;
}

/** `<dir>/<name>.reward.onnx` beside `<dir>/<name>.onnx`. */
export function rewardModelPath(output: string): string {
  return output.endsWith('.onnx') ? `${output.slice(0, -'.onnx'.length)}.reward.onnx` : `${output}.reward.onnx`;
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
}

export function runExport(args: ExportArgs): ExportResult {
  const format = args.format ?? 'onnx';
  if (fs.existsSync(args.output) && fs.statSync(args.output).isDirectory())
    throw new ConfigError(`export: --output ${args.output} is a directory; name a file (e.g. model.onnx)`, ['output']);
  if (!(EXPORT_FORMATS as readonly string[]).includes(format))
    throw new ConfigError(`export: --format must be one of ${EXPORT_FORMATS.join(', ')}; got ${JSON.stringify(format)}`, ['format']);
  if (!fs.existsSync(args.checkpoint)) throw new ConfigError(`export: no such checkpoint directory: ${args.checkpoint}`, ['checkpoint']);
  let dir: string;
  try {
    dir = resolveCheckpointDir(args.checkpoint, 'export');
  } catch (e) {
    throw new ConfigError((e as Error).message, ['checkpoint']);
  }
  const ck = readCheckpoint(dir);
  if (ck.meta.kind !== 'sasrec')
    throw new ConfigError(`export: ${dir} is a "${ck.meta.kind}" checkpoint; only sasrec checkpoints can be exported`, ['checkpoint']);
  const config: SasrecConfig = sasrecConfigCodec.read(ck.meta.model, `${dir}/checkpoint.json`);
  const info = {
    producerVersion: packageVersions().recpost,
    docString: `recpost SASRec (${ck.meta.method}, step ${ck.meta.step}); history is left-padded with 0`,
    metadata: {
      method: ck.meta.method,
      step: String(ck.meta.step),
      epoch: String(ck.meta.epoch),
      num_items: String(config.numItems),
      max_len: String(config.maxLen),
      padding: 'left, id 0',
      checkpoint: path.resolve(dir),
    },
  };
  writeAtomically(args.output, sasrecScorerModel(ck.params, config, info));
  const result: ExportResult = { checkpoint: dir, scorer: args.output };
  if (config.rewardHead && ck.params.has('reward/w1')) {
    result.reward = rewardModelPath(args.output);
    writeAtomically(result.reward, sasrecRewardModel(ck.params, config, info));
  }
  return result;
}

/**
 * The commander definition, shaped as the `cli` branch's CliCommand
 * ({ name, define(program) }): at merge, add it to COMMANDS in pipelines/commands.ts.
 */
export const exportCommand = {
  name: 'export',
  define: (program: CommanderCommand): CommanderCommand =>
    program
      .command('export')
      .summary('export a SASRec checkpoint for serving (ONNX scorer and reward head)')
      .argument('<checkpoint>', 'a checkpoint directory (or a directory of step-<n> checkpoints: the latest)')
      .option('--format <format>', `output format (${EXPORT_FORMATS.join(', ')})`, 'onnx')
      .requiredOption('--output <file>', 'the scorer model file, e.g. model.onnx (the reward head goes to model.reward.onnx)')
      .action((checkpoint: string, opts: { format: string; output: string }) => {
        const r = runExport({ checkpoint, format: opts.format, output: opts.output });
        process.stdout.write(`${r.scorer}\n${r.reward ? `${r.reward}\n` : ''}`);
      }),
};
