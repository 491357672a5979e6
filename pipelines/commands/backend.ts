/** `recpost backend [--backend B] [--measure]`: which TensorFlow.js backend training would use, and how fast. */
import { Option } from 'commander';
import type { CliCommand } from '../command.js';

/** The --backend choices (stages/train/backend.ts BACKEND_CHOICES; a test keeps the two equal). */
export const BACKEND_OPTION_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** GFLOP/s of an n×n matrix product on the active backend (best of 5). */
export async function measureMatMul(n = 1024): Promise<number> {
  const tf = await import('@tensorflow/tfjs-core');
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

export const backendCommand: CliCommand = {
  name: 'backend',
  define: (program) =>
    program
      .command('backend')
      .summary('show the TensorFlow.js backend training would use (--measure: matMul GFLOP/s)')
      .addOption(new Option('--backend <backend>', 'backend to try').choices(BACKEND_OPTION_CHOICES).default('auto'))
      .option('--measure', 'measure a 1024×1024 matMul (GFLOP/s)')
      .action(async (opts: { backend: (typeof BACKEND_OPTION_CHOICES)[number]; measure?: boolean }) => {
        const { initBackend } = await import('../../stages/train/backend.js');
        const { stderrLogger } = await import('../../stages/core/logger.js');
        const info = await initBackend(opts.backend, stderrLogger(false));
        process.stdout.write(`${info.description}\n`);
        if (opts.measure) process.stdout.write(`matMul 1024×1024: ${(await measureMatMul()).toFixed(1)} GFLOP/s\n`);
      }),
};
