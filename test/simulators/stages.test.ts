import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { AnyStageDefinition } from '../../stages/core/stage.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { readParquetAll } from '../../stages/io/parquet.js';
import { runPipeline } from '../../pipelines/runner.js';
import type { ResolvedPipeline } from '../../pipelines/spec.js';
import { simulateRecSimStage, type RecSimArtifact } from '../../stages/simulators/recsim-stage.js';
import { simulateRatingsStage, type RatingsArtifact } from '../../stages/simulators/ratings-stage.js';
import { simulatorsStages } from '../../stages/simulators/index.js';
import { RecSimWorld } from '../../stages/simulators/recsim-world.js';
import { RatingsWorld } from '../../stages/simulators/ratings-world.js';
import { collectingSink } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-sim-stages-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function pipeline(def: AnyStageDefinition, options: Record<string, unknown>, name: string, seed = 3): ResolvedPipeline {
  const config = validateConfig<Record<string, unknown>>(`stage "${def.name}"`, def.fields, options);
  return { name, outDir: path.join(tmp, name, 'run'), seed, stages: [{ index: 0, id: def.name, def, config }] };
}

/** Run a one-stage pipeline and keep what it emits. */
async function run(def: AnyStageDefinition, options: Record<string, unknown>, name: string, seed = 3) {
  const p = pipeline(def, options, name, seed);
  const emitted: Batch[] = [];
  p.stages.push({ index: 1, id: 'collect', def: collectingSink(emitted), config: {} });
  const logger = memoryLogger();
  const result = await runPipeline(p, { logger, writeFiles: false });
  return { result, emitted, logger };
}

describe('the simulator stages are registered', () => {
  it('lists simulate_recsim and simulate_ratings as sources', () => {
    expect(simulatorsStages.map((s) => [s.name, s.role])).toEqual([
      ['simulate_recsim', 'source'],
      ['simulate_ratings', 'source'],
    ]);
    for (const s of simulatorsStages) for (const [k, f] of Object.entries(s.fields)) expect(f.doc.length, `${s.name}.${k}`).toBeGreaterThan(10);
  });
});

describe('simulate_recsim', () => {
  it('emits the log it writes, saves the world, and publishes artifacts and metrics', async () => {
    const output = path.join(tmp, 'recsim-out');
    const { result, emitted, logger } = await run(
      simulateRecSimStage,
      { preset: 'extreme', num_users: 120, num_items: 150, dim: 8, topics: 3, interactions_per_user: 10, output, batch_rows: 300 },
      'recsim',
    );
    expect(emitted.length).toBe(4);
    const all = concatBatches(emitted);
    expect(all.table).toBe('interactions');
    expect(all.numRows).toBe(1200);
    const art = result.artifacts.get('simulator') as RecSimArtifact;
    expect(art).toMatchObject({
      kind: 'recsim',
      dir: path.join(output, 'world'),
      interactions: path.join(output, 'interactions'),
      preset: 'extreme',
      seed: 3,
      numUsers: 120,
      numItems: 151,
      dim: 8,
      rows: 1200,
    });
    expect(result.artifacts.get('world')).toBe(art.dir);
    // The dataset on disk holds exactly what was emitted, policy as int8 included.
    expect(fs.existsSync(path.join(output, 'interactions', '_manifest.json'))).toBe(true);
    const back = concatBatches(await readParquetAll(art.interactions));
    for (const c of ['user_id', 'item_id', 'timestamp', 'reward', 'policy']) expect(back.columns[c], c).toEqual(all.columns[c]);
    expect(back.columns.policy).toBeInstanceOf(Int8Array);
    // The saved world answers the true reward of the logged pairs.
    const world = await RecSimWorld.load(art.dir);
    expect(world.numItems).toBe(151);
    const lat = world.trueRewards(all.columns.user_id as Int32Array, all.columns.item_id as Int32Array);
    expect(lat.every((r) => r > 0 && r <= 1)).toBe(true);
    const share = result.metrics.find((m) => m.metric === 'policy_share_random');
    expect(share?.count).toBe(1200);
    expect(Math.abs(share!.value - 0.9)).toBeLessThan(4 * Math.sqrt(0.09 / 1200));
    expect(result.metrics.some((m) => m.metric === 'true_reward_expert')).toBe(true);
    expect(logger.lines.some((l) => l.startsWith('simulate_recsim: 120 users × 10 interactions'))).toBe(true);
  });

  it('defaults its seed to the pipeline seed and its output under the run directory', async () => {
    const opts = { num_users: 20, num_items: 30, dim: 4, topics: 2, interactions_per_user: 5 };
    const a = await run(simulateRecSimStage, opts, 'recsim-seed-a', 11);
    const b = await run(simulateRecSimStage, opts, 'recsim-seed-b', 11);
    const c = await run(simulateRecSimStage, { ...opts, seed: 12 }, 'recsim-seed-c', 11);
    const items = (r: { emitted: Batch[] }) => concatBatches(r.emitted).columns.item_id;
    expect(items(a)).toEqual(items(b));
    expect(items(c)).not.toEqual(items(a));
    expect((a.result.artifacts.get('simulator') as RecSimArtifact).dir).toBe(path.join(tmp, 'recsim-seed-a', 'run', 'recsim', 'world'));
  });

  it('reports configuration problems when the stage is created', () => {
    const ctx = { outDir: tmp, seed: 0 } as never;
    expect(() => simulateRecSimStage.create({ preset: 'unknown-preset', batch_rows: 10 }, ctx)).toThrow(/unknown recsim preset/);
    expect(() => simulateRecSimStage.create({ preset: 'medium', batch_rows: 10, policy_mix: { expert: 1, popularity: 1, random: 1 } }, ctx)).toThrow(
      /sum to 1/,
    );
    expect(() => simulateRecSimStage.create({ preset: 'medium', batch_rows: 10, num_items: 3, topics: 5 }, ctx)).toThrow(
      /topics \(5\) cannot exceed num_items \(3\)/,
    );
    expect(() => simulateRatingsStage.create({ preset: 'small', ratings_per_user_min: 50, ratings_per_user_max: 10 }, ctx)).toThrow(/ratings_per_user_max/);
    expect(() => validateConfig('x', simulateRecSimStage.fields, { noise_injection: 1.5 })).toThrow(/noise_injection/);
  });
});

describe('simulate_ratings', () => {
  it('writes ratings.dat and truth/, emits no batches, and publishes artifacts', async () => {
    const output = path.join(tmp, 'ratings-out');
    const { result, emitted } = await run(
      simulateRatingsStage,
      { num_users: 40, num_items: 80, ratings_per_user_min: 5, ratings_per_user_max: 30, output },
      'ratings',
    );
    expect(emitted.length).toBe(0);
    const art = result.artifacts.get('simulator') as RatingsArtifact;
    expect(art).toMatchObject({ kind: 'ratings', dir: path.join(output, 'truth'), ratingsFile: path.join(output, 'ratings.dat'), numUsers: 40, numItems: 80 });
    expect(result.artifacts.get('world')).toBe(art.dir);
    const lines = fs.readFileSync(art.ratingsFile, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(art.rows);
    expect(fs.readdirSync(output).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const world = await RatingsWorld.load(art.dir);
    expect(world.numUsers).toBe(40);
    const mean = result.metrics.find((m) => m.metric === 'mean_rating');
    expect(mean!.value).toBeGreaterThan(1);
    expect(mean!.value).toBeLessThan(5);
    expect(mean!.count).toBe(art.rows);
  });
});
