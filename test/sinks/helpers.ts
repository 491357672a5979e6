/** Small pipeline harness for the sink tests: a source of given batches, the stages under test, a capture at the end. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import _ from 'highland';
import type { Batch } from '../../stages/core/batch.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { defineStage, type AnyStageDefinition, type StageDefinition } from '../../stages/core/stage.js';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { runPipeline, type RunResult } from '../../pipelines/runner.js';
import type { ResolvedPipeline } from '../../pipelines/spec.js';

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `recpost-sinks-${prefix}-`));
}

/** A source that first emits `emitted` through ctx.emitMetric, then the batches. */
export function testSource(batches: Batch[], emitted: Partial<MetricRecord>[] = []): StageDefinition<Record<string, never>> {
  return defineStage({
    name: 'test_source',
    role: 'source',
    summary: 'test',
    fields: {},
    create: (_cfg, ctx) => ({
      source: async function* () {
        for (const r of emitted) ctx.emitMetric({ ...metricRecord({ metric: 'm', value: 0, ...r }), run: r.run });
        yield* batches;
      },
    }),
  });
}

export interface Harness {
  result: RunResult;
  /** Batches that came out of the last stage. */
  out: Batch[];
  log: string[];
}

/** Run source → stages (name-less definitions with raw options) → capture. */
export async function runWith(
  source: AnyStageDefinition | [AnyStageDefinition, Record<string, unknown>],
  stages: [AnyStageDefinition, Record<string, unknown>][],
  outDir = tmpDir('run'),
): Promise<Harness> {
  const out: Batch[] = [];
  const capture = defineStage({
    name: 'capture',
    role: 'sink',
    summary: 'test capture',
    fields: {},
    create: () => ({ process: (b: Batch) => (out.push(b), b) }),
  });
  const first: [AnyStageDefinition, Record<string, unknown>] = Array.isArray(source) ? source : [source, {}];
  const all: [AnyStageDefinition, Record<string, unknown>][] = [first, ...stages, [capture, {}]];
  const p: ResolvedPipeline = {
    name: 'sinks-test',
    outDir,
    seed: 0,
    stages: all.map(([def, raw], index) => ({
      index,
      id: `${def.name}#${index}`,
      def,
      config: validateConfig(`stage ${index} "${def.name}"`, def.fields, raw),
    })),
  };
  const logger = memoryLogger();
  const result = await runPipeline(p, { outDir, logger, progress: false, writeFiles: false });
  return { result, out, log: logger.lines };
}
