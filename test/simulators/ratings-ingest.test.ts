/**
 * End to end with the ingest concern: simulate_ratings → ingest (MovieLens
 * ratings.dat) → dense ids, then the truth answered through the ingest
 * vocabularies. Skipped if the ingest stage cannot be loaded.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { AnyStageDefinition } from '../../stages/core/stage.js';
import { concatBatches, type Batch } from '../../stages/core/batch.js';
import { runPipeline } from '../../pipelines/runner.js';
import type { ResolvedPipeline, ResolvedStage } from '../../pipelines/spec.js';
import { simulateRatingsStage, type RatingsArtifact } from '../../stages/simulators/ratings-stage.js';
import { RatingsWorld } from '../../stages/simulators/ratings-world.js';
import { DenseRatingsTruth } from '../../stages/simulators/dense-truth.js';
import { collectingSink } from './helpers.js';

const ingest = await import('../../stages/ingest/index.js')
  .then((m) => (m.ingestStages as AnyStageDefinition[]).find((s) => s.name === 'ingest'))
  .catch(() => undefined);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-ratings-ingest-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!ingest)('simulate_ratings → ingest', () => {
  it('ingests ratings.dat and maps dense ids back to the exact truth', async () => {
    const simOut = path.join(tmp, 'sim');
    const ingOut = path.join(tmp, 'ingested');
    const stage = (index: number, def: AnyStageDefinition, options: Record<string, unknown>): ResolvedStage => ({
      index,
      id: def.name,
      def,
      config: validateConfig(`stage "${def.name}"`, def.fields, options),
    });
    const emitted: Batch[] = [];
    const collect = collectingSink(emitted);
    const p: ResolvedPipeline = {
      name: 'sim-ingest',
      outDir: path.join(tmp, 'run'),
      seed: 4,
      stages: [
        stage(0, simulateRatingsStage, { num_users: 80, num_items: 120, ratings_per_user_min: 5, ratings_per_user_max: 40, output: simOut }),
        stage(1, ingest!, { path: path.join(simOut, 'ratings.dat'), output: ingOut }),
        { index: 2, id: 'collect', def: collect, config: {} },
      ],
    };
    const result = await runPipeline(p, { logger: memoryLogger(), writeFiles: false });
    const art = result.artifacts.get('simulator') as RatingsArtifact;
    const all = concatBatches(emitted);
    expect(all.numRows).toBe(art.rows);

    // Every ingested row, mapped back to raw ids, is a line of ratings.dat with the same rating.
    const lines = new Map<string, number>();
    for (const line of fs.readFileSync(art.ratingsFile, 'utf8').trim().split('\n')) {
      const [u, i, r] = line.split('::');
      lines.set(`${u}:${i}`, Number(r));
    }
    const world = await RatingsWorld.load(art.dir);
    const truth = await DenseRatingsTruth.fromVocabDir(world, path.join(ingOut, 'vocab'));
    const users = all.columns.user_id as Int32Array;
    const items = all.columns.item_id as Int32Array;
    const reward = all.columns.reward as Float32Array | Float64Array;
    const rawU = truth.rawUsers(users);
    const rawI = truth.rawItems(items);
    for (let k = 0; k < all.numRows; k++) expect(lines.get(`${rawU[k]}:${rawI[k]}`)).toBe(reward[k]);
    // The expected ratings through dense ids are the world's for the raw pairs.
    expect(truth.expectedRatings(users, items)).toEqual(world.expectedRatings(rawU, rawI));
  });
});
