/** The stage kit: typed options, tagged unions, cross-field and table checks, and the runner-owned iteration. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { ConfigError, toJsonSchema, validateConfig, validateStageConfig, type Fields } from '../../stages/core/config-schema.js';
import type { ConfigOf } from '../../stages/core/config-types.js';
import { memoryLogger } from '../../stages/core/logger.js';
import { ARTIFACT, ArtifactMap } from '../../stages/core/artifacts.js';
import { defineStage, type StageDefinition, type StageInstance } from '../../stages/core/stage.js';
import { runStageOn } from '../../stages/core/stage-driver.js';
import type { RewardStatsSummary } from '../../schemas/reward-stats.js';
import { runPipeline } from '../../pipelines/runner.js';
import { resolvePipeline, type ResolvedPipeline } from '../../pipelines/spec.js';
import { checkStageTables } from '../../pipelines/table-check.js';
import { pipelineJsonSchema } from '../../pipelines/json-schema.js';
import { objectiveUnionField, shaperOptionProblems } from '../../stages/weighting/registry.js';
import { rewardStatsStage, type RewardStatsAccumulation } from '../../stages/stats/reward-stats-stage.js';
import { DataError } from '../../stages/core/errors.js';
import { getStage } from '../../stages/registry.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-kit-'));

const batch = (n: number, table = 'examples'): Batch => ({ table, numRows: n, columns: { reward: Float32Array.from({ length: n }, (_v, i) => (i % 5) + 1) } });

/** A source stage yielding `n` batches of `rows` rows, counting how many were pulled. */
function countingSource(n: number, rows: number, pulled: { count: number }): StageDefinition<Record<string, never>> {
  return defineStage<Record<string, never>>({
    name: 'counting_source',
    role: 'source',
    summary: 'test',
    fields: {},
    create: () => ({
      async *source() {
        for (let i = 0; i < n; i++) {
          pulled.count++;
          yield batch(rows);
        }
      },
    }),
  });
}

function transform(name: string, create: () => StageInstance): StageDefinition<Record<string, never>> {
  return defineStage<Record<string, never>>({ name, role: 'transform', summary: 'test', fields: {}, create });
}

function pipeline(...defs: StageDefinition<Record<string, never>>[]): ResolvedPipeline {
  return { name: 'kit', outDir: tmp(), seed: 1, stages: defs.map((def, index) => ({ index, id: def.name, def, config: {} })) };
}

const run = (p: ResolvedPipeline) => runPipeline(p, { writeFiles: false, logger: memoryLogger() });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('configuration types from fields', () => {
  it('infers present, optional, enum, array, object, map and union types', () => {
    const fields = {
      k: { type: 'integer', default: 3, doc: '' },
      path: { type: 'string', required: true, doc: '' },
      note: { type: 'string', doc: '' },
      mode: { type: 'string', enum: ['strict', 'quarantine'], default: 'strict', doc: '' },
      ks: { type: 'array', items: { type: 'integer', doc: '' }, default: [10], doc: '' },
      nested: { type: 'object', fields: { on: { type: 'boolean', default: true, doc: '' } }, doc: '' },
      columns: { type: 'map', values: { type: 'string', doc: '' }, doc: '' },
      pick: {
        type: 'union',
        variants: { a: { fields: { x: { type: 'number', default: 1, doc: '' } } }, b: { fields: {} } },
        default: { name: 'a' },
        doc: '',
      },
    } as const satisfies Fields;
    expectTypeOf<ConfigOf<typeof fields>>().toEqualTypeOf<{
      k: number;
      path: string;
      note?: string;
      mode: 'strict' | 'quarantine';
      ks: number[];
      nested?: { on: boolean };
      columns?: Record<string, string>;
      pick: { name: 'a'; x: number } | { name: 'b' };
    }>();
    // The value validation returns has that shape.
    const c = validateConfig<ConfigOf<typeof fields>>('t', fields, { path: 'p', nested: {}, pick: { name: 'a' } });
    expect(c).toEqual({ k: 3, path: 'p', mode: 'strict', ks: [10], nested: { on: true }, pick: { name: 'a', x: 1 } });
  });

  it('types create() of a stage defined with literal fields', () => {
    const def = defineStage({
      name: 't',
      role: 'transform',
      summary: '',
      fields: { n: { type: 'integer', default: 2, doc: '' }, how: { type: 'string', enum: ['x', 'y'], doc: '' } },
      create(cfg) {
        expectTypeOf(cfg).toEqualTypeOf<{ n: number; how?: 'x' | 'y' }>();
        return { process: (b) => b };
      },
    });
    expectTypeOf(def).toEqualTypeOf<StageDefinition<{ n: number; how?: 'x' | 'y' }>>();
  });

  it('types artifacts by key', () => {
    const a = new ArtifactMap();
    expectTypeOf(a.get(ARTIFACT.rewardStats)).toEqualTypeOf<RewardStatsSummary | undefined>();
    expectTypeOf(a.get(ARTIFACT.world)).toEqualTypeOf<string | object | undefined>();
  });
});

describe('tagged unions', () => {
  const fields: Fields = { objective: objectiveUnionField('bc') };

  it('checks each variant against its own options only, naming the path and the variant', () => {
    expect(() => validateConfig('train', fields, { objective: { name: 'drpo', lambda: 0.5 } })).toThrow(
      'train: field "objective.lambda" is not an option of objective "drpo" (its options: rho, p0, p_min, p_max, rate_up, rate_down, mean_over)',
    );
    expect(() => validateConfig('train', fields, { objective: { name: 'nope' } })).toThrow(
      /field "objective.name" must be one of bc, rsft_linear, exp_rsft, .*; got "nope"/,
    );
    expect(() => validateConfig('train', fields, { objective: { name: 'drpo', rho: -1 } })).toThrow('field "objective.rho" must be > 0, got -1');
  });

  it("fills the chosen variant's defaults, and the default variant when the name is left out", () => {
    expect(validateConfig('t', fields, { objective: { name: 'exp_rsft', lambda: 0.5 } })).toEqual({
      objective: { name: 'exp_rsft', lambda: 0.5, shift_mode: 'global', standardize: false },
    });
    expect(validateConfig('t', fields, {})).toEqual({ objective: { name: 'bc' } });
  });

  it("runs the variant's cross-field check (p_min ≤ p_max)", () => {
    expect(() => validateConfig('t', fields, { objective: { name: 'drpo', p_min: 0.9, p_max: 0.5 } })).toThrow(
      't: field "objective" (objective "drpo"): p_min (0.9) must be ≤ p_max (0.5)',
    );
  });

  it("checks shaper options against the shaper named elsewhere (train_online's algorithm)", () => {
    expect(shaperOptionProblems('grpo', { tau: 5 })).toEqual(['field "shaper.tau" is not an option of group shaper "grpo" (its options: kl_estimator)']);
    expect(shaperOptionProblems('drro_soft', { tau: 5, budget: 'dynamic' })).toEqual([]);
  });

  it('exports a oneOf with a const name per variant', () => {
    const s = toJsonSchema(fields) as {
      properties: { objective: { oneOf: { properties: { name: { const: string }; lambda?: unknown }; required?: string[] }[] } };
    };
    const variants = s.properties.objective.oneOf;
    expect(variants.map((v) => v.properties.name.const)).toContain('drpo');
    const drpo = variants.find((v) => v.properties.name.const === 'drpo')!;
    expect(drpo.properties.lambda).toBeUndefined();
    expect(drpo.required).toEqual(['name']);
    // The default variant may leave its name out.
    expect(variants.find((v) => v.properties.name.const === 'bc')!.required).toBeUndefined();
  });
});

describe('cross-field checks run by validation', () => {
  it('DRPO stage: p_min ≤ p_max', () => {
    expect(() =>
      resolvePipeline(
        {
          stages: [
            { stage: 'read_parquet', with: { path: 'x' } },
            { stage: 'drpo', with: { p_min: 0.9, p_max: 0.5 } },
          ],
        },
        'p.yaml',
      ),
    ).toThrow('p.yaml: stages[1] (stage "drpo"): p_min (0.9) must be ≤ p_max (0.5)');
  });

  it('exp_rsft: shift only with shift_mode global; split: min_context ≤ max_len; read_metrics: a path', () => {
    expect(() => validateStageConfig('s', { fields: { ...getFields('exp_rsft') }, check: getCheck('exp_rsft') }, { shift_mode: 'batch', shift: 5 })).toThrow(
      's: field "shift" applies to shift_mode global only (shift_mode is batch)',
    );
    expect(() =>
      resolvePipeline({
        stages: [
          { stage: 'read_parquet', with: { path: 'x' } },
          { stage: 'split_sequences', with: { min_context: 9, max_len: 3 } },
        ],
      }),
    ).toThrow('pipeline: stages[1] (stage "split_sequences"): min_context (9) must be ≤ max_len (3)');
    expect(() => resolvePipeline({ stages: [{ stage: 'read_metrics' }] })).toThrow('pipeline: stages[0] (stage "read_metrics"): give `path` or `paths`');
  });
});

function getFields(name: string): Fields {
  return getStage(name)!.fields;
}
function getCheck(name: string): ((c: Record<string, unknown>) => string[]) | undefined {
  const d = getStage(name)!;
  return d.check ? (c) => d.check!(c) : undefined;
}

describe('table check', () => {
  it('names both stages and both tables', () => {
    expect(() => resolvePipeline({ stages: [{ stage: 'simulate_recsim', with: { preset: 'small' } }, { stage: 'evaluate_ranking' }] }, 'p.yaml')).toThrow(
      'p.yaml: stages[1] (stage "evaluate_ranking") reads examples or weighted_examples, but stages[0] (stage "simulate_recsim") emits interactions',
    );
  });

  it('accepts weighted_examples where examples are read, passes tables through sinks, and restarts at a later source', () => {
    const def = (name: string, role: 'source' | 'transform' | 'sink', inputs?: string[], output?: string) => ({ name, role, inputs, output });
    const stages = [
      def('src', 'source', undefined, 'interactions'),
      def('split', 'transform', ['interactions'], 'examples'),
      def('weigh', 'transform', ['examples'], 'weighted_examples'),
      def('write', 'sink', ['metrics'], 'metrics'),
      def('train', 'transform', ['examples'], 'examples'),
      def('src2', 'source', undefined, 'metrics'),
      def('table', 'sink', ['metrics']),
    ].map((d, index) => ({ index, id: d.name, def: d }));
    expect(checkStageTables(stages)).toEqual([]);
    expect(checkStageTables([stages[0]!, stages[4]!])).toEqual([
      'stages[4] (stage "train") reads examples, but stages[0] (stage "src") emits interactions (put a stage that turns interactions into examples between them, or reorder the stages)',
    ]);
  });

  it('the JSON schema of pipelines still lists every stage', () => {
    const s = pipelineJsonSchema() as { properties: { stages: { items: { oneOf: unknown[] } } } };
    expect(s.properties.stages.items.oneOf.length).toBeGreaterThan(20);
  });
});

describe('the runner owns iteration', () => {
  it('counts the time inside process and finish as busy time, and rows and batches in and out', async () => {
    const pulled = { count: 0 };
    const r = await run(
      pipeline(
        countingSource(3, 10, pulled),
        transform('slow', () => ({
          async process(b) {
            await sleep(25);
            return b;
          },
          finish() {
            const t0 = performance.now();
            while (performance.now() - t0 < 30);
          },
        })),
      ),
    );
    const slow = r.stages[1]!;
    expect(slow).toMatchObject({ rowsIn: 30, rowsOut: 30, batchesIn: 3, batchesOut: 3 });
    expect(slow.busyMs).toBeGreaterThanOrEqual(3 * 25 + 30 - 5);
    // The source's own calls are cheap: its busy time does not include the slow stage's.
    expect(r.stages[0]!.busyMs).toBeLessThan(50);
  });

  it('holds the source back while a slow stage works (backpressure)', async () => {
    const pulled = { count: 0 };
    const seenWhenProcessing: number[] = [];
    await run(
      pipeline(
        countingSource(20, 5, pulled),
        transform('slow', () => ({
          async process(b) {
            seenWhenProcessing.push(pulled.count);
            await sleep(2);
            return b;
          },
        })),
      ),
    );
    // When batch i (0-based) is processed, the source has yielded at most i + 1 batches (plus one in flight).
    seenWhenProcessing.forEach((n, i) => expect(n).toBeLessThanOrEqual(i + 2));
    expect(pulled.count).toBe(20);
  });

  it("labels a stage's own errors with its id and position once, keeps ConfigError and DataError as they are", async () => {
    const failing = (e: Error) =>
      transform('boom', () => ({
        process() {
          throw e;
        },
      }));
    const after = transform('after', () => ({ process: (b) => b }));
    await expect(run(pipeline(countingSource(1, 1, { count: 0 }), failing(new Error('kaboom')), after))).rejects.toThrow(
      /^stage "boom" \(stages\[1\]\): kaboom$/,
    );
    const cfgErr = await run(pipeline(countingSource(1, 1, { count: 0 }), failing(new ConfigError('bad option', ['x'])))).catch((e: unknown) => e);
    expect(cfgErr).toBeInstanceOf(ConfigError);
    expect((cfgErr as Error).message).toBe('stage "boom" (stages[1]): bad option');
    const dataErr = await run(pipeline(countingSource(1, 1, { count: 0 }), failing(new DataError('f.csv', 3, 'reward', 'x', 'not a number')))).catch(
      (e: unknown) => e,
    );
    expect((dataErr as Error).message).toBe('f.csv:3: field "reward": not a number (value: "x")');
  });

  it('tells a stage once when the run fails, and never after it finished', async () => {
    const aborts: string[] = [];
    const watcher = (name: string) =>
      transform(name, () => ({
        process: (b) => b,
        abort: (e) => aborts.push(`${name}: ${e.message}`),
      }));
    const failAt2 = transform('fail', () => {
      let i = 0;
      return {
        process(b) {
          if (++i === 2) throw new Error('second batch');
          return b;
        },
      };
    });
    await expect(run(pipeline(countingSource(3, 1, { count: 0 }), watcher('w1'), failAt2, watcher('w2')))).rejects.toThrow(/second batch/);
    // Upstream of the failure: stopped early; downstream: told the error (each once, in either order).
    expect([...aborts].sort()).toEqual(['w1: the pipeline stopped before this stage finished', 'w2: stage "fail" (stages[2]): second batch']);
    aborts.length = 0;
    await run(pipeline(countingSource(2, 1, { count: 0 }), watcher('ok')));
    expect(aborts).toEqual([]);
  });

  it('pulls what finish returns lazily, one batch at a time', async () => {
    const made = { count: 0 };
    const seen: number[] = [];
    await run(
      pipeline(
        countingSource(2, 3, { count: 0 }),
        transform('barrier', () => ({
          process() {},
          *finish() {
            for (let i = 0; i < 5; i++) {
              made.count++;
              yield batch(1);
            }
          },
        })),
        transform('probe', () => ({
          process(b) {
            seen.push(made.count);
            return b;
          },
        })),
      ),
    );
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('runs a combine-shaped stage: add per batch, finish on the final state; merge joins two shards', async () => {
    const sumRows = () => ({
      init: () => ({ rows: 0 }),
      add: (s: { rows: number }, b: Batch) => ({ rows: s.rows + b.numRows }),
      merge: (a: { rows: number }, b: { rows: number }) => ({ rows: a.rows + b.rows }),
      finish: (s: { rows: number }) => batch(s.rows, 'metrics'),
    });
    const out = await runStageOn(sumRows(), [batch(2), batch(3), batch(4)]);
    expect(out.map((b) => [b.table, b.numRows])).toEqual([['metrics', 9]]);
    const inst = sumRows();
    expect(inst.merge(inst.add(inst.init(), batch(2)), inst.add(inst.init(), batch(7)))).toEqual({ rows: 9 });
  });

  it('drives a raw-stream stage on the highland stream, and labels an error thrown while creating a stage', async () => {
    const evenOnly = transform('even_only', () => ({ rawStream: (input) => input.filter((b) => b.numRows % 2 === 0) }));
    const sizes = { count: 0 };
    const src = defineStage<Record<string, never>>({
      name: 'sizes',
      role: 'source',
      summary: 'test',
      fields: {},
      create: () => ({
        async *source() {
          for (let n = 1; n <= 6; n++) {
            sizes.count++;
            yield batch(n);
          }
        },
      }),
    });
    const r = await run(pipeline(src, evenOnly));
    expect(r.stages[1]).toMatchObject({ rowsIn: 21, batchesIn: 6, rowsOut: 12, batchesOut: 3 });
    const bad = transform('bad_create', () => {
      throw new ConfigError('needs a world', ['world']);
    });
    const e = await run(pipeline(src, bad)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toBe('stage "bad_create" (stages[1]): needs a world');
  });

  it('reward_stats merges shard states into the statistics of the whole input', async () => {
    const ctxFor = (dir: string) => ({
      outDir: dir,
      runId: 't',
      seed: 3,
      log: memoryLogger(),
      progress: false,
      artifacts: new ArtifactMap(),
      counters: { rowsIn: 0, rowsOut: 0, batchesIn: 0, batchesOut: 0, busyMs: 0 },
      emitMetric() {},
      allMetrics: () => [],
    });
    const cfg = validateConfig<Parameters<typeof rewardStatsStage.create>[0]>('t', rewardStatsStage.fields, { batch_metrics: false });
    const parts = [batch(40), batch(17), batch(23)];
    const shard = (bs: Batch[]) => {
      const inst = rewardStatsStage.create(cfg, ctxFor(tmp())) as {
        init(): RewardStatsAccumulation;
        add(s: RewardStatsAccumulation, b: Batch): RewardStatsAccumulation;
      };
      return bs.reduce((s, b) => inst.add(s, b), inst.init());
    };
    const whole = shard(parts).global.summary();
    const owner = rewardStatsStage.create(cfg, ctxFor(tmp())) as { merge(a: RewardStatsAccumulation, b: RewardStatsAccumulation): RewardStatsAccumulation };
    const merged = owner.merge(shard(parts.slice(0, 1)), shard(parts.slice(1))).global.summary();
    expect(merged.count).toBe(80);
    expect(merged.count).toBe(whole.count);
    expect(merged.mean).toBeCloseTo(whole.mean, 12);
    expect(merged.max).toBe(whole.max);
  });
});
