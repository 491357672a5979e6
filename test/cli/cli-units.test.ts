/** The CLI's pieces in-process: --set reaching the stage it names, error printing, option tables kept in step. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { applyAssignment, parseAssignment, parseValue } from '../../pipelines/args.js';
import { reportError } from '../../pipelines/cli.js';
import { HEAVY_COMMANDS } from '../../pipelines/commands.js';
import { BACKEND_OPTION_CHOICES } from '../../pipelines/commands/backend.js';
import { loadPipelineForCli } from '../../pipelines/commands/pipeline-file.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { DataError } from '../../stages/core/errors.js';
import { BACKEND_CHOICES } from '../../stages/train/backend.js';
import { removeTmpDirs, tmpDir } from './helpers.js';

afterAll(removeTmpDirs);

describe('--set on the default pipeline', () => {
  it('a stage id and an index reach the stage run would build (the values were ignored before)', async () => {
    const out = tmpDir('set');
    const p = await loadPipelineForCli('pipelines/default.yaml', { out, set: ['stages.bc.with.epochs=2', 'stages.5.with.objective={name: drpo}'] });
    const bc = p.stages.find((s) => s.id === 'bc')!;
    const exp = p.stages.find((s) => s.id === 'exp_rsft')!;
    expect(bc.index).toBe(4);
    expect(bc.config.epochs).toBe(2);
    expect(exp.index).toBe(5);
    expect((exp.config.objective as { name: string }).name).toBe('drpo');
    expect(p.outDir).toBe(out);
  });
  it('a stage name addresses a stage when only one stage has it, and is ambiguous otherwise', () => {
    const raw = { stages: [{ stage: 'a' }, { stage: 'b' }, { stage: 'b' }] };
    const idsAt = (list: readonly string[]) => (list[0] === 'stages' ? (s: unknown) => ({ name: (s as { stage: string }).stage }) : undefined);
    expect(applyAssignment(raw, parseAssignment('stages.a.with.x=1', '--set'), '--set', idsAt)).toEqual(['stages', '0', 'with', 'x']);
    expect(raw.stages[0]).toEqual({ stage: 'a', with: { x: 1 } });
    expect(() => applyAssignment(raw, parseAssignment('stages.b.with.x=1', '--set'), '--set', idsAt)).toThrow(
      '--set stages.b.with.x=1: "b" names 2 stages (1, 2); use an index or give them ids',
    );
  });
  it("an id wins over another stage's name", () => {
    const raw = { stages: [{ stage: 'plot' }, { stage: 'read_parquet', id: 'plot' }] };
    const idsAt = () => (s: unknown) => ({ id: (s as { id?: string }).id, name: (s as { stage: string }).stage });
    expect(applyAssignment(raw, parseAssignment('stages.plot.with.x=1', '--set'), '--set', idsAt)).toEqual(['stages', '1', 'with', 'x']);
  });
  it('nothing reaches Object.prototype', () => {
    expect(() => applyAssignment({}, parseAssignment('__proto__.polluted=1', '--opt'), '--opt')).toThrow(ConfigError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('values parse as YAML, the empty string stays a string', () => {
    expect(parseValue('3')).toBe(3);
    expect(parseValue('true')).toBe(true);
    expect(parseValue('[1, 2]')).toEqual([1, 2]);
    expect(parseValue('{name: drpo, lambda: 0.5}')).toEqual({ name: 'drpo', lambda: 0.5 });
    expect(parseValue('data/x.csv')).toBe('data/x.csv');
    expect(parseValue('')).toBe('');
  });
});

describe('reportError', () => {
  let err = '';
  const capture = () => vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  afterEach(() => {
    vi.restoreAllMocks();
    err = '';
  });

  it('a configuration error: exit 2, one line per problem', () => {
    capture();
    expect(reportError(new ConfigError('a.yaml:1:2: first\na.yaml:3:4: second', ['first', 'second']), false)).toBe(2);
    expect(err).toBe('recpost: a.yaml:1:2: first\nrecpost: a.yaml:3:4: second\n');
  });
  it('a data error: exit 2, one line', () => {
    capture();
    expect(reportError(new DataError('r.csv', 3, 'rating', 'x', 'not a number'), false)).toBe(2);
    expect(err).toBe('recpost: r.csv:3: field "rating": not a number (value: "x")\n');
  });
  it('a file-system error on a named path: exit 2, the path and the reason', () => {
    capture();
    let e: unknown;
    try {
      fs.readFileSync(path.join('no', 'such', 'file'));
    } catch (x) {
      e = x;
    }
    expect(reportError(e, false)).toBe(2);
    expect(err).toBe(`recpost: ${path.join('no', 'such', 'file')}: no such file or directory (open)\n`);
  });
  it('anything else: exit 1, one line without --debug, the stack with it', () => {
    capture();
    expect(reportError(new TypeError("Cannot read properties of undefined (reading 'P')\nmore"), false)).toBe(1);
    expect(err).toBe("recpost: Cannot read properties of undefined (reading 'P') more\n");
    err = '';
    expect(reportError(new Error('boom'), true)).toBe(1);
    expect(err).toMatch(/^recpost: Error: boom\n {4}at /);
  });
});

describe('option tables kept in step with the library', () => {
  it('the --help line of a command loaded on demand is its own summary', async () => {
    const { Command } = await import('commander');
    for (const c of HEAVY_COMMANDS) {
      const program = new Command('recpost');
      (await c.load()).define(program);
      expect(program.commands.find((x) => x.name() === c.name)?.summary()).toBe(c.summary);
    }
  });
  it('backend --backend choices are the backends the trainer knows', () => {
    expect([...BACKEND_OPTION_CHOICES]).toEqual([...BACKEND_CHOICES]);
  });
});
