/** `recpost checkpoint <dir>`: what a checkpoint holds. */
import type { CliCommand } from '../command.js';
import { checkExists } from './paths.js';

export const checkpointCommand: CliCommand = {
  name: 'checkpoint',
  define: (program) =>
    program
      .command('checkpoint')
      .summary('describe a checkpoint (kind, method, step, model, data position, objective state)')
      .argument('<dir>', 'a checkpoint directory (or a directory of step-<n> checkpoints: the latest)')
      .action(async (dir: string) => {
        checkExists(dir, 'checkpoint:');
        const { readCheckpoint } = await import('../../stages/train/checkpoint.js');
        const { resolveCheckpointDir } = await import('../../stages/train/checkpoint-dir.js');
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
      }),
};
