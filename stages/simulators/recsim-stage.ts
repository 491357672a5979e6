/** The `simulate_recsim` source stage: a RecSim world and its logged interactions. */
import * as path from 'node:path';
import { defineStage, type StageContext } from '../core/stage.js';
import { ARTIFACT, datasetArtifact } from '../core/artifacts.js';
import { Progress } from '../core/progress.js';
import { DatasetWriter } from '../io/dataset-writer.js';
import { checkRecSimWorldParams, generateRecSimWorld } from './recsim-generate.js';
import { checkRecSimLogParams, LOGGING_POLICY_NAMES, RecSimLogger, type RecSimLogStats } from './recsim-log.js';
import { recsimLogParams, recsimOptionFields, recsimWorldParams, resolveRecSimOptions, type RecSimOptions } from './recsim-options.js';
import { fitZipfExponent } from './zipf.js';

export interface SimulateRecSimConfig extends Partial<RecSimOptions> {
  preset: string;
  seed?: number;
  output?: string;
  batch_rows: number;
}

/** What `simulate_recsim` publishes as ctx.artifacts 'simulator'. */
export interface RecSimArtifact {
  kind: 'recsim';
  /** The world directory: RecSimWorld.load(dir). */
  dir: string;
  /** The stage's output directory (world/ and interactions/ below it). */
  outputDir: string;
  /** The interaction log as a Parquet dataset directory. */
  interactions: string;
  preset: string;
  seed: number;
  numUsers: number;
  /** Catalog size including padding 0. */
  numItems: number;
  dim: number;
  /** Rows logged (set when the stream ends). */
  rows?: number;
}

/** Summary metrics of a generated log (policy shares, reward per policy, Zipf fits). */
export function emitRecSimLogMetrics(ctx: StageContext, stats: RecSimLogStats): void {
  const rec = (metric: string, value: number, count: number) =>
    ctx.emitMetric({ method: 'simulate_recsim', split: 'log', seed: ctx.seed, step: 0, epoch: 0, metric, value, count });
  LOGGING_POLICY_NAMES.forEach((name, code) => {
    const n = stats.policyRows[code]!;
    rec(`policy_share_${name}`, stats.rows ? n / stats.rows : 0, stats.rows);
    if (n > 0) rec(`true_reward_${name}`, stats.latentSum[code]! / n, n);
  });
  const latent = stats.latentSum.reduce((a, b) => a + b, 0);
  if (stats.rows) {
    rec('true_reward', latent / stats.rows, stats.rows);
    rec('observed_reward', stats.observedSum / stats.rows, stats.rows);
  }
  for (const [metric, counts] of [
    ['zipf_exponent_all', stats.itemCounts],
    ['zipf_exponent_popularity', stats.popularityItemCounts],
  ] as const) {
    try {
      const fit = fitZipfExponent(counts, { minCount: 5 });
      rec(metric, fit.exponent, fit.points);
    } catch {
      // fewer than two items with 5+ rows: no fit to report
    }
  }
}

export const simulateRecSimStage = defineStage<SimulateRecSimConfig>({
  name: 'simulate_recsim',
  role: 'source',
  summary: 'Simulate a RecSim world (paper 002 App. H) and its mixed-policy interaction log; emits interactions with dense 1-based ids.',
  doc: [
    'Items in R^d from a mixture of Gaussians (topics); users with a hidden interest u*; true reward',
    'R_latent = exp(−(1 − cos(e_a, u*))/(2δ²)) (Eq. 48), logged reward clip(R_latent + N(0, σ²), 0, 1) (Eq. 49).',
    'Logging policies: expert (the user’s best items), popularity (Zipfian chart of the user’s segment), random',
    '(uniform); presets `medium` (10/60/30) and `extreme` (5/5/90); `noise_injection` replaces a fraction of rows',
    'by random-policy rows. Writes <output>/world/ (world.json, items.parquet, users.parquet) and',
    '<output>/interactions/ (Parquet dataset), emits `interactions` batches (user_id, item_id, timestamp, reward,',
    'policy int8: 0 expert, 1 popularity, 2 random, 3 injected) and publishes artifacts `simulator`',
    '{kind: "recsim", dir, outputDir, interactions, …} and `world` (the world directory, for true-reward evaluation).',
  ].join('\n'),
  output: 'interactions',
  fields: {
    preset: {
      type: 'string',
      default: 'medium',
      doc: 'Preset in data/presets/recsim-<name>.json (medium, extreme) or a path to a JSON file; options below override it.',
    },
    ...recsimOptionFields,
    seed: { type: 'integer', doc: "Random seed of the world and the log. Default: the pipeline's seed." },
    output: { type: 'string', doc: 'Output directory (world/ and interactions/). Default: <run out_dir>/recsim.' },
    batch_rows: { type: 'integer', min: 1, default: 65536, doc: 'Rows per emitted batch (whole users per batch).' },
  },
  create(cfg, ctx) {
    const { preset, seed: seedOpt, output, batch_rows, ...rest } = cfg;
    const options = resolveRecSimOptions(preset, rest);
    const seed = seedOpt ?? ctx.seed;
    const outDir = output ?? path.join(ctx.outDir, 'recsim');
    // Fail at creation, before anything runs, on inconsistent parameters.
    checkRecSimWorldParams(recsimWorldParams(options, seed));
    checkRecSimLogParams(recsimLogParams(options, seed));
    return {
      async *source() {
        const world = generateRecSimWorld(recsimWorldParams(options, seed));
        const worldDir = path.join(outDir, 'world');
        world.save(worldDir);
        const datasetDir = path.join(outDir, 'interactions');
        const artifact: RecSimArtifact = {
          kind: 'recsim',
          dir: worldDir,
          outputDir: outDir,
          interactions: datasetDir,
          preset,
          seed,
          numUsers: world.numUsers,
          numItems: world.numItems,
          dim: world.dim,
        };
        ctx.artifacts.set(ARTIFACT.simulator, artifact);
        ctx.artifacts.set(ARTIFACT.world, worldDir);
        const logger = new RecSimLogger(world, recsimLogParams(options, seed));
        const writer = new DatasetWriter(datasetDir);
        const total = world.numUsers * logger.rowsPerUser;
        const progress = new Progress('simulate_recsim', ctx.progress, total);
        for (const batch of logger.batches(batch_rows)) {
          writer.write(batch);
          progress.advance(batch.numRows, logger.stats.rows);
          yield batch;
        }
        const manifest = writer.close();
        progress.finish();
        artifact.rows = manifest.rows;
        ctx.artifacts.set(datasetArtifact(datasetDir), manifest);
        emitRecSimLogMetrics(ctx, logger.stats);
        const s = logger.stats;
        const shares = LOGGING_POLICY_NAMES.map((n, c) => `${n} ${((100 * s.policyRows[c]!) / Math.max(1, s.rows)).toFixed(1)}%`).join(', ');
        ctx.log.info(
          `simulate_recsim: ${world.numUsers} users × ${logger.rowsPerUser} interactions, ${world.numItems - 1} items (d = ${world.dim}); ${shares}; world → ${worldDir}, log → ${datasetDir}`,
        );
      },
    };
  },
});
