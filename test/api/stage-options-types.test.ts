/**
 * The option types of runStage, generated from the registries
 * (pipelines/stage-options.ts): checked by the compiler (`npm run typecheck`
 * covers test/), and the generated file checked to be current.
 */
import * as fs from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { runStage } from '../../pipelines/run-stage.js';
import type { ObjectiveName, ObjectiveSpec, StageName, StageOptions } from '../../pipelines/stage-options.js';
import { currentStageTypes, STAGE_TYPES_FILE } from '../../pipelines/update-stage-types.js';
import { stageNames } from '../../stages/registry.js';
import { OFFLINE_OBJECTIVES } from '../../stages/weighting/registry.js';

/** Never called: its body only has to compile (or fail to, where marked). */
function typeChecks(batches: never[]) {
  runStage('train_sasrec', { objective: { name: 'drpo', rho: 0.5 }, epochs: 2 }, batches);
  runStage('train_sasrec', { objective: { name: 'exp_rsft', lambda: 0.5 } }, batches);
  runStage('train_sasrec', { objective: {} }, batches); // the default variant (bc) may omit its name
  // @ts-expect-error lambda is an option of exp_rsft, not of drpo
  runStage('train_sasrec', { objective: { name: 'drpo', lambda: 1 } }, batches);
  // @ts-expect-error no objective is called "dpro"
  runStage('train_sasrec', { objective: { name: 'dpro' } }, batches);
  // @ts-expect-error epochs is an integer option
  runStage('train_sasrec', { epochs: '2' }, batches);
  runStage('drpo', { rho: 0.5 }, batches);
  // @ts-expect-error drpo has no option lambda
  runStage('drpo', { lambda: 0.5 }, batches);
  // @ts-expect-error no stage is called "dpro"
  runStage('dpro', {}, batches);
  // @ts-expect-error read_parquet needs its path
  runStage('read_parquet', {});
  runStage('train_online', { algorithm: 'drro_soft', shaper: { budget: 'dynamic', tau: 2 } }, batches);
  // @ts-expect-error algorithm is one of the listed names
  runStage('train_online', { algorithm: 'drro' }, batches);
}

describe('stage option types', () => {
  it('follow the field declarations: names, enums, required fields, tagged unions', () => {
    expect(typeof typeChecks).toBe('function');
    expectTypeOf<'drpo'>().toMatchTypeOf<StageName>();
    expectTypeOf<'train_sasrec'>().toMatchTypeOf<StageName>();
    expectTypeOf<StageOptions<'read_parquet'>>().toHaveProperty('path').toEqualTypeOf<string>();
    expectTypeOf<StageOptions<'drpo'>['rho']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ObjectiveSpec<'drpo'>>().toMatchTypeOf<{ name: 'drpo' }>();
    expectTypeOf<{ name: 'drpo'; rho: number }>().toMatchTypeOf<ObjectiveSpec>();
    expectTypeOf<'exp_rsft'>().toMatchTypeOf<ObjectiveName>();
  });

  it('name exactly the registered stages and objectives', () => {
    const text = fs.readFileSync(STAGE_TYPES_FILE, 'utf8');
    const stageBlock = text.slice(text.indexOf('export interface StageOptionsMap'), text.indexOf('export type StageName'));
    const declared = [...stageBlock.matchAll(/^ {2}([a-z_0-9]+): \{/gm)].map((m) => m[1]);
    expect(declared).toEqual(stageNames());
    const objectiveBlock = text.slice(text.indexOf('export interface ObjectiveOptionsMap'), text.indexOf('export type ObjectiveName'));
    expect([...objectiveBlock.matchAll(/^ {2}([a-z_0-9]+): /gm)].map((m) => m[1])).toEqual(Object.keys(OFFLINE_OBJECTIVES).sort());
  });

  it('are current: pipelines/stage-options.ts is what the registries generate (else run `npx tsx pipelines/update-stage-types.ts`)', () => {
    expect(fs.readFileSync(STAGE_TYPES_FILE, 'utf8')).toBe(currentStageTypes());
  });
});
