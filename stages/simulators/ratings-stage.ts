/** The `simulate_ratings` source stage: a ratings world, its MovieLens-format log and its truth. */
import * as path from 'node:path';
import { ARTIFACT } from '../core/artifacts.js';
import { defineStage, type StageContext } from '../core/stage.js';
import { Progress } from '../core/progress.js';
import type { Batch } from '../core/batch.js';
import { checkRatingsWorldParams, generateRatingsWorld, simulateUserRatings } from './ratings-generate.js';
import { MovieLensWriter } from './movielens-writer.js';
import { ratingsOptionFields, ratingsWorldParams, resolveRatingsOptions, type RatingsOptions } from './ratings-options.js';

export interface SimulateRatingsConfig extends Partial<RatingsOptions> {
  preset: string;
  seed?: number;
  output?: string;
}

/** What `simulate_ratings` publishes as ctx.artifacts 'simulator'. */
export interface RatingsArtifact {
  kind: 'ratings';
  /** The truth directory: RatingsWorld.load(dir). */
  dir: string;
  /** The stage's output directory (ratings.dat and truth/). */
  outputDir: string;
  /** The MovieLens-format log (UserID::MovieID::Rating::Timestamp, raw ids). */
  ratingsFile: string;
  preset: string;
  seed: number;
  numUsers: number;
  numItems: number;
  rows: number;
}

/** Totals of a simulated ratings log, for the report. */
export interface RatingsLogSummary {
  rows: number;
  users: number;
  /** Ratings per value 1..5 (index r − 1). */
  histogram: Float64Array;
  /** Users whose last (held-out test) rating is 5. */
  usersEndingOn5: number;
}

function emitRatingsMetrics(ctx: StageContext, s: RatingsLogSummary): void {
  const rec = (metric: string, value: number, count: number) =>
    ctx.emitMetric({ method: 'simulate_ratings', split: 'log', seed: ctx.seed, step: 0, epoch: 0, metric, value, count });
  let sum = 0;
  for (let r = 1; r <= 5; r++) {
    rec(`rating_share_${r}`, s.histogram[r - 1]! / s.rows, s.rows);
    sum += r * s.histogram[r - 1]!;
  }
  rec('mean_rating', sum / s.rows, s.rows);
  rec('ratings_per_user', s.rows / s.users, s.users);
  rec('users_last_rating_5', s.usersEndingOn5 / s.users, s.users);
}

export const simulateRatingsStage = defineStage<SimulateRatingsConfig>({
  name: 'simulate_ratings',
  role: 'source',
  summary: 'Simulate a sequential ratings log with known expected ratings; writes MovieLens ratings.dat + truth/, emits no batches.',
  doc: [
    'Ratings clip(round(μ + b_u + b_i + ⟨p_u, q_i⟩ + N(0, σ²)), 1, 5); items chosen by a behaviour policy mixing Zipfian',
    'popularity and the user’s taste (Plackett–Luce without replacement), in random time order, timestamps strictly',
    'increasing per user. Writes <output>/ratings.dat (UserID::MovieID::Rating::Timestamp, raw 1-based ids) and',
    '<output>/truth/ (world.json, users.parquet, items.parquet), from which RatingsWorld.load answers the exact',
    'expected rating of any (user, item). Emits no batches: put `ingest` (reading ratings.dat) next. Publishes',
    'artifacts `simulator` {kind: "ratings", dir, outputDir, ratingsFile, …} and `world` (the truth directory).',
  ].join('\n'),
  fields: {
    preset: {
      type: 'string',
      default: 'small',
      doc: 'Preset in data/presets/ratings-<name>.json (small, ml1m-like) or a path to a JSON file; options below override it.',
    },
    ...ratingsOptionFields,
    seed: { type: 'integer', doc: "Random seed of the world and the log. Default: the pipeline's seed." },
    output: { type: 'string', doc: 'Output directory (ratings.dat and truth/). Default: <run out_dir>/ratings-sim.' },
  },
  create(cfg, ctx) {
    const { preset, seed: seedOpt, output, ...rest } = cfg;
    const options = resolveRatingsOptions(preset, rest);
    const seed = seedOpt ?? ctx.seed;
    const outDir = output ?? path.join(ctx.outDir, 'ratings-sim');
    checkRatingsWorldParams(ratingsWorldParams(options, seed));
    return {
      // Emits no batches: the log goes to ratings.dat, for `ingest` to read.
      async *source(): AsyncGenerator<Batch> {
        const world = generateRatingsWorld(ratingsWorldParams(options, seed));
        const truthDir = path.join(outDir, 'truth');
        world.save(truthDir);
        const ratingsFile = path.join(outDir, 'ratings.dat');
        const writer = new MovieLensWriter(ratingsFile);
        const summary: RatingsLogSummary = { rows: 0, users: world.numUsers, histogram: new Float64Array(5), usersEndingOn5: 0 };
        const progress = new Progress('simulate_ratings', ctx.progress, world.numUsers);
        try {
          for (let u = 1; u <= world.numUsers; u++) {
            const log = simulateUserRatings(world, u);
            writer.writeUser(u, log.items, log.ratings, log.timestamps);
            for (const r of log.ratings) summary.histogram[r - 1]! += 1;
            if (log.ratings[log.ratings.length - 1] === 5) summary.usersEndingOn5++;
            summary.rows += log.items.length;
            progress.advance(log.items.length, u);
          }
          writer.close();
        } catch (e) {
          writer.abort();
          throw e;
        }
        progress.finish();
        const artifact: RatingsArtifact = {
          kind: 'ratings',
          dir: truthDir,
          outputDir: outDir,
          ratingsFile,
          preset,
          seed,
          numUsers: world.numUsers,
          numItems: world.numItems,
          rows: summary.rows,
        };
        ctx.artifacts.set(ARTIFACT.simulator, artifact);
        ctx.artifacts.set(ARTIFACT.world, truthDir);
        emitRatingsMetrics(ctx, summary);
        const mean = summary.histogram.reduce((a, c, i) => a + c * (i + 1), 0) / summary.rows;
        ctx.log.info(
          `simulate_ratings: ${summary.rows} ratings by ${world.numUsers} users of ${world.numItems} items (mean ${mean.toFixed(2)}, ` +
            `5-star ${((100 * summary.histogram[4]!) / summary.rows).toFixed(1)}%, last rating 5 for ${((100 * summary.usersEndingOn5) / world.numUsers).toFixed(1)}% of users) → ${ratingsFile}; truth → ${truthDir}`,
        );
      },
    };
  },
});
