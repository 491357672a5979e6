/** Test helpers shared by test/stats and test/split: a seeded RNG and a way to run stages through the real runner. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import _ from 'highland';
import type { Batch } from '../../stages/core/batch.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { defineStage, type AnyStageDefinition, type StageDefinition } from '../../stages/core/stage.js';
import { runPipeline, type RunResult } from '../../pipelines/runner.js';
import type { ResolvedStage } from '../../pipelines/spec.js';

/** mulberry32: deterministic uniform numbers in [0, 1). */
export { mulberry32 as rng } from '../helpers/mulberry32.js';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `recpost-${prefix}-`));
}

/** A source stage emitting the given batches. */
export function arraySource(batches: Batch[]): StageDefinition<Record<string, never>> {
  return defineStage<Record<string, never>>({
    name: 'test_source',
    role: 'source',
    summary: 'test batches',
    fields: {},
    create: () => ({
      source: async function* () {
        yield* batches;
      },
    }),
  });
}

/** A sink that records each batch it sees and what `probe` returns at that moment. */
export function captureSink<T>(
  seen: { batch: Batch; probe: T }[],
  probe: (ctx: { artifacts: Map<string, unknown> }) => T,
): StageDefinition<Record<string, never>> {
  return defineStage<Record<string, never>>({
    name: 'test_capture',
    role: 'sink',
    summary: 'records batches',
    fields: {},
    create: (_cfg, ctx) => ({
      process: (b: Batch) => {
        seen.push({ batch: b, probe: probe(ctx) });
        return b;
      },
    }),
  });
}

/** Run source → stages (validated configs, defaults filled) through runPipeline. */
export async function runStages(
  batches: Batch[],
  stages: { def: AnyStageDefinition; with?: Record<string, unknown> }[],
  outDir: string,
  seed = 0,
): Promise<RunResult> {
  const resolved: ResolvedStage[] = [{ index: 0, id: 'source', def: arraySource(batches), config: {} }];
  stages.forEach((s, i) => {
    resolved.push({ index: i + 1, id: `${s.def.name}#${i + 1}`, def: s.def, config: validateConfig(`stage ${s.def.name}`, s.def.fields, s.with ?? {}) });
  });
  return runPipeline({ name: 'test', outDir, seed, stages: resolved }, { outDir, logger: memoryLogger() });
}
