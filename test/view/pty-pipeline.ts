/**
 * A small pipeline for the pseudo-terminal test (terminal-view.test.ts):
 * simulate → split → train (progress in steps) → console_table redrawn live.
 * Usage: node --import tsx test/view/pty-pipeline.ts <out_dir>
 */
import { validateConfig } from '../../stages/core/config-schema.js';
import type { StageDefinition } from '../../stages/core/stage.js';
import { simulateRecSimStage } from '../../stages/simulators/recsim-stage.js';
import { splitSequencesStage } from '../../stages/split/split-stage.js';
import { trainGaussianStage } from '../../stages/train/train-gaussian-stage.js';
import { consoleTableStage } from '../../stages/sinks/console-table-stage.js';
import { runPipeline } from '../../pipelines/runner.js';
import type { ResolvedPipeline } from '../../pipelines/spec.js';

const outDir = process.argv[2];
if (!outDir) throw new Error('usage: pty-pipeline.ts <out_dir>');
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- stages of different configuration types in one list
const stages: [StageDefinition<any>, Record<string, unknown>, string][] = [
  [simulateRecSimStage, { preset: 'medium', num_users: 150, num_items: 100, dim: 8, output: `${outDir}/recsim` }, 'sim'],
  [splitSequencesStage, { max_len: 10, apply_threshold: false }, 'split'],
  [trainGaussianStage, { objective: { name: 'bc' }, epochs: 2, batch_size: 64, method: 'bc_with_a_rather_long_method_label' }, 'bc'],
  // Many columns: the table is wider than the terminal, so the live redraw must cut its lines.
  [consoleTableStage, { live: 'always', refresh_ms: 50, metrics: ['loss', 'nll', 'grad_norm', 'ess', 'w_mean', 'w_max', 'examples_per_s'] }, 'table'],
];
const p: ResolvedPipeline = {
  name: 'pty',
  outDir,
  seed: 3,
  stages: stages.map(([def, raw, id], index) => ({ index, id, def, config: validateConfig(`stage ${index} "${def.name}"`, def.fields, raw) })),
};
await runPipeline(p, { outDir, progress: true });
