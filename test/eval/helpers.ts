/** Fixtures for the evaluation tests: example batches, fake policies, a stage context, a pipeline over given batches. */
import { artifactMap } from '../../stages/core/artifacts.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Batch, ListColumn } from '../../stages/core/batch.js';
import type { AnyStageDefinition, StageContext, StageDefinition } from '../../stages/core/stage.js';
import { memoryLogger } from '../../stages/core/logger.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { runPipeline, type RunResult } from '../../pipelines/runner.js';
import { stageContext } from '../../pipelines/run-stage.js';
import { validateConfig } from '../../stages/core/config-schema.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import type { EvalPolicy } from '../../stages/eval/checkpoints.js';

export interface ExampleRow {
  user: number;
  context: number[];
  action: number;
  reward?: number;
  split: 'train' | 'valid' | 'test';
}

const CODES = { train: 0, valid: 1, test: 2 } as const;

export function listColumn(rows: number[][]): ListColumn<Int32Array> {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i]! + r.length));
  return { kind: 'list', offsets, values: Int32Array.from(rows.flat()) };
}

/** An `examples` batch with the full schema. */
export function examplesBatch(rows: ExampleRow[]): Batch {
  return {
    table: 'examples',
    numRows: rows.length,
    columns: {
      user_id: Int32Array.from(rows, (r) => r.user),
      context: listColumn(rows.map((r) => r.context)),
      context_rewards: {
        kind: 'list',
        offsets: listColumn(rows.map((r) => r.context)).offsets,
        values: Float32Array.from(rows.flatMap((r) => r.context.map(() => 1))),
      },
      action: Int32Array.from(rows, (r) => r.action),
      reward: Float32Array.from(rows, (r) => r.reward ?? 1),
      timestamp: BigInt64Array.from(rows, (_r, i) => BigInt(i)),
      split: Int8Array.from(rows, (r) => CODES[r.split]),
    },
  };
}

/** Deterministic pseudo-random examples. */
export function randomExamples(n: number, numItems: number, seed: number, split: ExampleRow['split'] | 'mixed' = 'mixed'): ExampleRow[] {
  const rnd = mulberry32(seed);
  const splits = ['train', 'train', 'valid', 'test'] as const;
  return Array.from({ length: n }, (_v, i) => ({
    user: 1 + (i % 17),
    context: Array.from({ length: Math.floor(rnd() * 6) }, () => 1 + Math.floor(rnd() * (numItems - 1))),
    action: 1 + Math.floor(rnd() * (numItems - 1)),
    reward: 1 + Math.floor(rnd() * 5),
    split: split === 'mixed' ? splits[Math.floor(rnd() * 4)]! : split,
  }));
}

const created: string[] = [];

export function tmpDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `recpost-eval-${prefix}-`));
  created.push(d);
  return d;
}

/** Remove every directory tmpDir made (call from afterAll). */
export function removeTmpDirs(): void {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function writeExamples(file: string, rows: ExampleRow[]): string {
  writeParquetFile(file, [examplesBatch(rows)]);
  return file;
}

/** A small hash for fake scores. */
function h(a: number, b: number, c: number): number {
  let x = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 7, 0x27d4eb2d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x2c1b3c6d);
  x ^= x >>> 12;
  return (x >>> 0) / 4294967296;
}

export interface FakePolicyOptions {
  method?: string;
  step?: number;
  epoch?: number;
  seed?: number;
  /** Score of item j for a context (default: a hash of the last context item, j and `salt`). */
  score?: (context: number[], j: number) => number;
  salt?: number;
  /** Predicted reward of (context, item). */
  reward?: (context: number[], item: number) => number;
  /** Softmax temperature of the sampling distribution over scores; undefined = no sampling. */
  temperature?: number;
}

/** A policy with scores, optional reward head, and softmax sampling / logProbs over its scores. */
export function fakePolicy(
  numItems: number,
  o: FakePolicyOptions = {},
): EvalPolicy & { calls: { score: number; sample: number; reward: number; logProbs: number }; disposed: boolean } {
  const calls = { score: 0, sample: 0, reward: 0, logProbs: 0 };
  const salt = o.salt ?? 0;
  const score = o.score ?? ((c: number[], j: number) => h(c.length ? c[c.length - 1]! : 0, j, salt));
  const rowsOf = (c: ListColumn<Int32Array>) =>
    Array.from({ length: c.offsets.length - 1 }, (_v, r) => Array.from(c.values.subarray(c.offsets[r]!, c.offsets[r + 1]!)));
  const scoresOf = (c: ListColumn<Int32Array>) => {
    const rows = rowsOf(c);
    const out = new Float32Array(rows.length * numItems);
    rows.forEach((ctx, r) => {
      for (let j = 0; j < numItems; j++) out[r * numItems + j] = score(ctx, j);
    });
    return out;
  };
  const logProbsOf = (c: ListColumn<Int32Array>) => {
    const t = o.temperature!;
    const s = scoresOf(c);
    const rows = s.length / numItems;
    const out = new Float32Array(s.length);
    for (let r = 0; r < rows; r++) {
      let m = -Infinity;
      for (let j = 1; j < numItems; j++) m = Math.max(m, s[r * numItems + j]! / t);
      let z = 0;
      for (let j = 1; j < numItems; j++) z += Math.exp(s[r * numItems + j]! / t - m);
      out[r * numItems] = -Infinity;
      for (let j = 1; j < numItems; j++) out[r * numItems + j] = s[r * numItems + j]! / t - m - Math.log(z);
    }
    return out;
  };
  const policy: EvalPolicy & { calls: typeof calls; disposed: boolean } = {
    method: o.method ?? 'fake',
    step: o.step ?? 0,
    epoch: o.epoch ?? 0,
    seed: o.seed ?? 0,
    numItems,
    calls,
    disposed: false,
    async scoreContexts(c) {
      calls.score++;
      return scoresOf(c);
    },
    dispose() {
      policy.disposed = true;
    },
  };
  if (o.reward) {
    const reward = o.reward;
    policy.predictRewards = async (c, items) => {
      calls.reward++;
      const rows = rowsOf(c);
      return Float32Array.from(rows, (ctx, i) => reward(ctx, items[i]!));
    };
  }
  if (o.temperature !== undefined) {
    policy.logProbs = async (c) => {
      calls.logProbs++;
      return logProbsOf(c);
    };
    policy.sample = async (c, k, seed) => {
      calls.sample++;
      const lp = logProbsOf(c);
      const rows = lp.length / numItems;
      const out = new Int32Array(rows * k);
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < k; q++) {
          let u = h(seed, r, q);
          let j = 1;
          for (; j < numItems - 1; j++) {
            u -= Math.exp(lp[r * numItems + j]!);
            if (u < 0) break;
          }
          out[r * k + q] = j;
        }
      }
      return out;
    };
  }
  return policy;
}

/** A stage context for calling stage instances directly (the public builder, plus the logged lines). */
export function testContext(overrides: Partial<StageContext> = {}): StageContext & { records: MetricRecord[]; lines: string[] } {
  const log = memoryLogger();
  const ctx = stageContext({ outDir: os.tmpdir(), runId: 'test', seed: 3, logger: log });
  return { ...ctx, lines: log.lines, records: ctx.metrics, ...overrides };
}

/** A source stage emitting the given batches (tests only). */
function batchesSource(batches: Batch[]): StageDefinition<Record<string, never>> {
  return {
    name: 'test_batches',
    role: 'source',
    summary: 'test batches',
    fields: {},
    create: () => ({
      async *source() {
        yield* batches;
      },
    }),
  };
}

/** Run `stage` with `options` over the given batches in a real pipeline run. */
export async function runStage(
  stage: AnyStageDefinition,
  options: Record<string, unknown>,
  batches: Batch[],
  artifacts: Map<string, unknown> = new Map(),
  seed = 3,
): Promise<RunResult & { out: Batch[]; log: string[] }> {
  const log = memoryLogger();
  const out: Batch[] = [];
  const collect: StageDefinition<Record<string, never>> = {
    name: 'test_collect',
    role: 'sink',
    summary: 'collect',
    fields: {},
    create: () => ({ process: (b: Batch) => (out.push(b), b) }),
  };
  const config = validateConfig<Record<string, unknown>>(`stage "${stage.name}"`, stage.fields, options);
  const result = await runPipeline(
    {
      name: 'test',
      outDir: tmpDir('run'),
      seed,
      stages: [
        { index: 0, id: 'source', def: batchesSource(batches), config: {} },
        { index: 1, id: stage.name, def: stage, config },
        { index: 2, id: 'collect', def: collect, config: {} },
      ],
    },
    { writeFiles: false, logger: log, artifacts: artifactMap(artifacts) },
  );
  return { ...result, out, log: log.lines };
}
