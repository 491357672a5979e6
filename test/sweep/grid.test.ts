import { describe, expect, it } from 'vitest';
import { parseGrid, parseGridAxis, parseSeeds, pointLabel, replicates } from '../../pipelines/sweep/grid.js';
import { ConfigError } from '../../stages/core/config-schema.js';

/** The ConfigError message `f` throws (fails if it throws anything else or nothing). */
function configError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('no error thrown');
}

describe('sweep grid', () => {
  it('parses --seeds', () => {
    expect(parseSeeds('1,2,3')).toEqual([1, 2, 3]);
    expect(parseSeeds(' 7 , -2')).toEqual([7, -2]);
    expect(configError(() => parseSeeds('1,x'))).toBe('--seeds expects a comma-separated list of integers, got "1,x"');
    expect(configError(() => parseSeeds('1,,2'))).toBe('--seeds expects a comma-separated list of integers, got "1,,2"');
    expect(configError(() => parseSeeds('1.5'))).toBe('--seeds expects a comma-separated list of integers, got "1.5"');
    expect(configError(() => parseSeeds('3,1,3'))).toBe('--seeds lists seed 3 twice');
  });

  it('reads values as a YAML list and keeps each value as typed', () => {
    const a = parseGridAxis('stages.drpo.with.objective={name: drpo, rho: 0.5}, {name: bc},"x,y",1e-3');
    expect(a.path).toBe('stages.drpo.with.objective');
    expect(a.values.map((v) => v.value)).toEqual([{ name: 'drpo', rho: 0.5 }, { name: 'bc' }, 'x,y', 0.001]);
    expect(a.values.map((v) => v.text)).toEqual(['{name: drpo, rho: 0.5}', '{name: bc}', '"x,y"', '1e-3']);
    expect(a.values.map((v) => v.slug)).toEqual(['name_drpo_rho_0.5', 'name_bc', 'x_y', '1e-3']);
  });

  it('refuses malformed grids with one line each', () => {
    expect(configError(() => parseGridAxis('lambda'))).toBe('--grid expects path=v1,v2,…, got "lambda"');
    expect(configError(() => parseGridAxis('=1,2'))).toBe('--grid expects path=v1,v2,…, got "=1,2"');
    expect(configError(() => parseGridAxis('stages.0.with.lambda='))).toBe('--grid stages.0.with.lambda=: no values after "="');
    expect(configError(() => parseGridAxis('stages..lambda=1'))).toBe('--grid stages..lambda=1: empty name in the path "stages..lambda"');
    expect(configError(() => parseGridAxis('stages.0.with.lambda=1,{a: 2'))).toMatch(
      /^--grid stages\.0\.with\.lambda=1,\{a: 2: the values are not a comma-separated YAML list: [^\n]+$/,
    );
    expect(configError(() => parseGridAxis('stages.0.with.lambda=0.5,1,0.50'))).toBe('--grid stages.0.with.lambda=0.5,1,0.50: the value 0.50 is listed twice');
    expect(configError(() => parseGrid(['stages.0.with.lambda=1', 'stages.0.with.lambda=2']))).toBe(
      '--grid stages.0.with.lambda is given twice; list all its values in one --grid',
    );
  });

  it('names replicates after the seed and each axis, with labels long enough to tell axes apart', () => {
    const axes = parseGrid(['stages.a.with.lambda=0.25,1', 'stages.b.with.lambda=2', 'stages.b.with.tau=x y']);
    expect(axes.map((a) => a.label)).toEqual(['a.with.lambda', 'b.with.lambda', 'tau']);
    const reps = replicates([1, 2], axes);
    expect(reps.map((r) => r.name)).toEqual([
      'seed-1__a.with.lambda-0.25__b.with.lambda-2__tau-x_y',
      'seed-2__a.with.lambda-0.25__b.with.lambda-2__tau-x_y',
      'seed-1__a.with.lambda-1__b.with.lambda-2__tau-x_y',
      'seed-2__a.with.lambda-1__b.with.lambda-2__tau-x_y',
    ]);
    expect(reps[2]!.sets).toEqual(['stages.a.with.lambda=1', 'stages.b.with.lambda=2', 'stages.b.with.tau=x y']);
    expect(reps.map((r) => r.pointIndex)).toEqual([0, 0, 1, 1]);
    expect(pointLabel(reps[3]!.point)).toBe('a.with.lambda=1, b.with.lambda=2, tau=x y');
    // Seeds only, grid only.
    expect(replicates([5, 6], []).map((r) => [r.name, r.seed, r.sets])).toEqual([
      ['seed-5', 5, []],
      ['seed-6', 6, []],
    ]);
    expect(replicates(undefined, parseGrid(['stages.0.with.rho=0.5,2'])).map((r) => [r.name, r.seed])).toEqual([
      ['rho-0.5', undefined],
      ['rho-2', undefined],
    ]);
  });

  it('keeps directory names apart when two values read the same', () => {
    const a = parseGridAxis('stages.0.with.x=a b,a/b');
    // Both slug to "a_b": each gets a hash of its text.
    expect(a.values[0]!.slug).toMatch(/^a_b-[0-9a-f]{6}$/);
    expect(a.values[1]!.slug).toMatch(/^a_b-[0-9a-f]{6}$/);
    expect(a.values[0]!.slug).not.toBe(a.values[1]!.slug);
    const long = parseGridAxis(`stages.0.with.x=${'v'.repeat(60)}`);
    expect(long.values[0]!.slug).toMatch(/^v{33}-[0-9a-f]{6}$/);
  });
});
