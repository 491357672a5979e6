import { describe, expect, it } from 'vitest';
import { ConfigError, toJsonSchema, validateConfig, type Fields } from '../../stages/core/config-schema.js';

const fields: Fields = {
  lambda: { type: 'number', exclusiveMin: 0, default: 1, doc: 'temperature' },
  k: { type: 'integer', min: 1, max: 100, doc: 'count', required: true },
  mode: { type: 'string', enum: ['strict', 'quarantine'], default: 'strict', doc: 'mode' },
  flags: { type: 'array', items: { type: 'string', doc: 'f' }, default: [], doc: 'flags' },
  columns: { type: 'map', values: { type: 'string', doc: 'c' }, doc: 'mapping' },
  nested: { type: 'object', fields: { a: { type: 'boolean', default: true, doc: 'a' } }, doc: 'n' },
};

describe('validateConfig', () => {
  it('fills defaults and keeps given values', () => {
    const c = validateConfig<Record<string, unknown>>('stage 0 "x"', fields, { k: 3, nested: {} });
    expect(c).toEqual({ lambda: 1, k: 3, mode: 'strict', flags: [], nested: { a: true } });
  });

  it('names the stage and every bad field in one message', () => {
    try {
      validateConfig('stages[2] (stage "exp_rsft")', fields, { lambda: -1, k: 2.5, mode: 'lax', extra: 1, columns: { user_id: 3 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const m = (e as Error).message;
      expect(m).toContain('stages[2] (stage "exp_rsft")');
      expect(m).toContain('field "lambda" must be > 0, got -1');
      expect(m).toContain('field "k" must be an integer, got 2.5');
      expect(m).toContain('field "mode" must be one of strict, quarantine; got "lax"');
      expect(m).toContain('unknown field "extra"');
      expect(m).toContain('field "columns.user_id" must be a string, got 3');
      expect((e as ConfigError).problems).toHaveLength(5);
    }
  });

  it('reports a missing required field', () => {
    expect(() => validateConfig('s', fields, {})).toThrow(/field "k" is required/);
  });

  it('rejects NaN and non-finite numbers', () => {
    expect(() => validateConfig('s', fields, { k: Number.NaN })).toThrow(/finite number/);
  });

  it('exports a JSON schema with required keys and bounds', () => {
    const s = toJsonSchema(fields) as { required: string[]; properties: Record<string, Record<string, unknown>> };
    expect(s.required).toEqual(['k']);
    expect(s.properties.lambda!.exclusiveMinimum).toBe(0);
    expect(s.properties.mode!.enum).toEqual(['strict', 'quarantine']);
  });
});
