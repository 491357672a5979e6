/**
 * CLI subcommands of the training concern:
 *
 *   recpost backend [--backend B] [--measure]   which TensorFlow.js backend runs, and how fast
 *   recpost checkpoint <dir>                    what a checkpoint holds
 *   recpost train <examples> [--model sasrec|gaussian|online] [--objective NAME] [--opt k=v ...]
 *                                               read_parquet → train_<model> as a pipeline
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from '../../pipelines/command.js';
import { applySets, flag, hasFlag, parseValue, type ParsedArgs } from '../../pipelines/args.js';
import { resolvePipeline } from '../../pipelines/spec.js';
import { formatStageReport, runPipeline } from '../../pipelines/runner.js';
import { ARTIFACT } from '../core/artifacts.js';
import { ConfigError } from '../core/config-schema.js';
import { stderrLogger } from '../core/logger.js';
import { BACKEND_CHOICES, initBackend, type BackendPreference } from './backend.js';
import { readCheckpoint } from './checkpoint.js';
import { resolveCheckpointDir } from './checkpoint-dir.js';
import { trainStages } from './index.js';

function backendFlag(args: ParsedArgs): BackendPreference {
  const b = flag(args, 'backend') ?? 'auto';
  if (!(BACKEND_CHOICES as readonly string[]).includes(b)) throw new ConfigError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}; got ${JSON.stringify(b)}`, ['backend']);
  return b as BackendPreference;
}

/** GFLOP/s of an n×n matrix product on the active backend (best of 5). */
export function measureMatMul(n = 1024): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  tf.matMul(a, b).dataSync();
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / best / 1e9;
}

const backendCommand: Command = {
  name: 'backend',
  summary: 'show the TensorFlow.js backend training would use (--measure: matMul GFLOP/s)',
  usage: 'backend [--backend B]',
  async run(args) {
    const info = await initBackend(backendFlag(args), stderrLogger(false));
    process.stdout.write(`${info.description}\n`);
    if (hasFlag(args, 'measure')) process.stdout.write(`matMul 1024×1024: ${measureMatMul().toFixed(1)} GFLOP/s\n`);
    return 0;
  },
};

const checkpointCommand: Command = {
  name: 'checkpoint',
  summary: 'describe a checkpoint (kind, method, step, model, data position, objective state)',
  usage: 'checkpoint <dir>',
  async run(args) {
    const dir = args.positionals[1];
    if (!dir) throw new ConfigError('checkpoint: name a checkpoint directory (or a directory of step-<n> checkpoints)', ['usage']);
    const ck = readCheckpoint(resolveCheckpointDir(dir, 'checkpoint'));
    const m = ck.meta;
    const params = [...ck.params.values()].reduce((s, a) => s + a.data.length, 0);
    const lines = [
      `checkpoint ${ck.dir}`,
      `  kind ${m.kind}, method ${m.method}, step ${m.step}, epoch ${m.epoch}, seed ${m.seed}, written ${m.createdAt}`,
      `  model ${JSON.stringify(m.model)}`,
      `  ${ck.params.size} tensors, ${params.toLocaleString('en-US')} values${m.optimizer ? `; optimiser ${m.optimizer.kind} at step ${m.optimizer.step}` : ''}`,
      `  position ${m.position ? `epoch ${m.position.epoch} batch ${m.position.batch} of ${m.position.rows} rows` : '—'}`,
      ...(m.objectiveState !== undefined && m.objectiveState !== null ? [`  objective state ${JSON.stringify(m.objectiveState)}`] : []),
      ...(m.trainer ? [`  trainer ${JSON.stringify(m.trainer)}`] : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

/** What `--model` may name: the trainer stages train_<choice> of this concern (the first is the default). */
function trainerChoices(): string[] {
  return trainStages.map((s) => s.name.replace(/^train_/, ''));
}

const trainUsage = () => `usage: recpost train <examples.parquet | dataset dir> [--model ${trainerChoices().join('|')}] [--objective NAME]
  --opt key=value   any option of the trainer stage (repeatable), e.g. --opt epochs=5 --opt objective.lambda=0.5
  --out DIR         run directory (checkpoints, metrics.jsonl)   --seed N   --quiet`;

const trainCommand: Command = {
  name: 'train',
  summary: 'train on a Parquet examples dataset (read_parquet → train_sasrec / train_gaussian / train_online)',
  usage: 'train <examples>',
  async run(args) {
    const input = args.positionals[1];
    if (!input) throw new ConfigError(trainUsage(), ['usage']);
    const choices = trainerChoices();
    const model = flag(args, 'model') ?? choices[0]!;
    if (!choices.includes(model)) throw new ConfigError(`train: --model must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)}; got ${JSON.stringify(model)}\n${trainUsage()}`, ['model']);
    const opts: Record<string, unknown> = {};
    const objective = flag(args, 'objective');
    if (objective !== undefined) opts.objective = { name: objective };
    applySets(opts, args.flags.get('opt') ?? []);
    const seed = flag(args, 'seed');
    const p = resolvePipeline(
      {
        name: `train-${model}`,
        ...(seed !== undefined ? { seed: parseValue(seed) } : {}),
        stages: [
          { stage: 'read_parquet', with: { path: input, table: 'examples' } },
          { stage: `train_${model}`, with: opts },
        ],
      },
      `train ${model}`,
    );
    const quiet = hasFlag(args, 'quiet');
    const result = await runPipeline(p, { outDir: flag(args, 'out'), quiet });
    if (!quiet) process.stderr.write(`${formatStageReport(result)}\n`);
    const last = result.artifacts.get(ARTIFACT.checkpoint);
    if (typeof last === 'string') process.stdout.write(`${last}\n`);
    return 0;
  },
};

/** CLI subcommands contributed by this concern (joined in pipelines/commands.ts). */
export const trainCommands: Command[] = [backendCommand, checkpointCommand, trainCommand];
