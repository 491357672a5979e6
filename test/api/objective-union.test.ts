/** The trainers' `objective` option is a tagged union: validate refuses what run would (issue 13: it accepted these before). */
import { describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../pipelines/spec.js';

const pipeline = (stage: string, objective: unknown) => ({
  stages: [
    { stage: 'read_parquet', with: { path: 'x' } },
    { stage, with: { objective } },
  ],
});

describe('objective option of the trainers', () => {
  it.each(['train_sasrec', 'train_gaussian'])('%s: an option of another objective is a validation error naming the objective and its options', (stage) => {
    expect(() => resolvePipeline(pipeline(stage, { name: 'drpo', lambda: 0.5 }))).toThrow(
      `pipeline: stages[1] (stage "${stage}"): field "objective.lambda" is not an option of objective "drpo" (its options: rho, p0, p_min, p_max, rate_up, rate_down, mean_over)`,
    );
  });

  it("fills the named objective's defaults and keeps its own options", () => {
    const p = resolvePipeline(pipeline('train_sasrec', { name: 'drpo', rho: 0.25 }));
    expect(p.stages[1]!.config.objective).toMatchObject({ name: 'drpo', rho: 0.25, p0: 0.5 });
    expect(resolvePipeline(pipeline('train_sasrec', {})).stages[1]!.config.objective).toEqual({ name: 'bc' });
  });
});
