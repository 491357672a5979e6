/**
 * A small declarative schema for stage configurations.
 *
 * Every stage declares its options as fields with a type, a default and a doc
 * line. The same declaration validates a pipeline file (errors name the stage,
 * its position and the field), fills defaults, renders the README's option
 * tables and exports JSON Schema (schemas/pipeline.schema.json) for editors.
 */

export type FieldSpec =
  | NumberField
  | StringField
  | BooleanField
  | ArrayField
  | ObjectField
  | MapField;

interface BaseField {
  doc: string;
  /** Required fields have no default; validation fails if absent. */
  required?: boolean;
}

export interface NumberField extends BaseField {
  type: 'number' | 'integer';
  default?: number;
  min?: number;
  max?: number;
  /** Strict lower bound (value must be > exclusiveMin). */
  exclusiveMin?: number;
}
export interface StringField extends BaseField {
  type: 'string';
  default?: string;
  enum?: readonly string[];
}
export interface BooleanField extends BaseField {
  type: 'boolean';
  default?: boolean;
}
export interface ArrayField extends BaseField {
  type: 'array';
  items: FieldSpec;
  default?: unknown[];
  minItems?: number;
}
export interface ObjectField extends BaseField {
  type: 'object';
  fields: Record<string, FieldSpec>;
  default?: Record<string, unknown>;
}
/** Free keys, each value of one spec (e.g. a column mapping). */
export interface MapField extends BaseField {
  type: 'map';
  values: FieldSpec;
  default?: Record<string, unknown>;
}

export type Fields = Record<string, FieldSpec>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function checkField(spec: FieldSpec, value: unknown, path: string, problems: string[]): unknown {
  if (value === undefined) {
    if (spec.default !== undefined) return structuredClone(spec.default);
    if (spec.required) problems.push(`field "${path}" is required (${spec.doc})`);
    return undefined;
  }
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        problems.push(`field "${path}" must be a finite number, got ${describe(value)}`);
        return undefined;
      }
      if (spec.type === 'integer' && !Number.isInteger(value)) problems.push(`field "${path}" must be an integer, got ${value}`);
      if (spec.min !== undefined && value < spec.min) problems.push(`field "${path}" must be ≥ ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) problems.push(`field "${path}" must be ≤ ${spec.max}, got ${value}`);
      if (spec.exclusiveMin !== undefined && !(value > spec.exclusiveMin))
        problems.push(`field "${path}" must be > ${spec.exclusiveMin}, got ${value}`);
      return value;
    }
    case 'string': {
      if (typeof value !== 'string') {
        problems.push(`field "${path}" must be a string, got ${describe(value)}`);
        return undefined;
      }
      if (spec.enum && !spec.enum.includes(value))
        problems.push(`field "${path}" must be one of ${spec.enum.join(', ')}; got ${JSON.stringify(value)}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`field "${path}" must be true or false, got ${describe(value)}`);
      return value;
    case 'array': {
      if (!Array.isArray(value)) {
        problems.push(`field "${path}" must be an array, got ${describe(value)}`);
        return undefined;
      }
      if (spec.minItems !== undefined && value.length < spec.minItems)
        problems.push(`field "${path}" needs at least ${spec.minItems} item(s), got ${value.length}`);
      return value.map((v, i) => checkField(spec.items, v, `${path}[${i}]`, problems));
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`field "${path}" must be an object, got ${describe(value)}`);
        return undefined;
      }
      return checkObject(spec.fields, value as Record<string, unknown>, `${path}.`, problems);
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`field "${path}" must be an object, got ${describe(value)}`);
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = checkField(spec.values, v, `${path}.${k}`, problems);
      return out;
    }
  }
}

function checkObject(fields: Fields, raw: Record<string, unknown>, prefix: string, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in fields)) {
      const known = Object.keys(fields);
      problems.push(`unknown field "${prefix}${key}"${known.length ? ` (known: ${known.join(', ')})` : ''}`);
    }
  }
  for (const [key, spec] of Object.entries(fields)) {
    const v = checkField(spec, raw[key], `${prefix}${key}`, problems);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * Validate a raw configuration against declared fields, filling defaults.
 * `where` names the stage for messages, e.g. `stage 2 "drpo"`.
 */
export function validateConfig<C>(where: string, fields: Fields, raw: unknown): C {
  const problems: string[] = [];
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${where}: configuration must be an object, got ${describe(raw)}`, ['not an object']);
  }
  const out = checkObject(fields, raw as Record<string, unknown>, '', problems);
  if (problems.length > 0) {
    throw new ConfigError(`${where}: ${problems.join('; ')}`, problems);
  }
  return out as C;
}

/** JSON Schema (draft 2020-12) of declared fields. */
export function toJsonSchema(fields: Fields): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [k, f] of Object.entries(fields)) {
    props[k] = fieldSchema(f);
    if (f.required) required.push(k);
  }
  return { type: 'object', additionalProperties: false, properties: props, ...(required.length ? { required } : {}) };
}

function fieldSchema(f: FieldSpec): Record<string, unknown> {
  const base: Record<string, unknown> = { description: f.doc };
  if (f.default !== undefined) base.default = f.default;
  switch (f.type) {
    case 'number':
    case 'integer':
      return {
        ...base,
        type: f.type,
        ...(f.min !== undefined ? { minimum: f.min } : {}),
        ...(f.max !== undefined ? { maximum: f.max } : {}),
        ...(f.exclusiveMin !== undefined ? { exclusiveMinimum: f.exclusiveMin } : {}),
      };
    case 'string':
      return { ...base, type: 'string', ...(f.enum ? { enum: [...f.enum] } : {}) };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'array':
      return { ...base, type: 'array', items: fieldSchema(f.items) };
    case 'object':
      return { ...base, ...toJsonSchema(f.fields) };
    case 'map':
      return { ...base, type: 'object', additionalProperties: fieldSchema(f.values) };
  }
}

/** One Markdown table row per field, for the README. */
export function fieldsToMarkdown(fields: Fields): string {
  const rows = ['| option | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const [k, f] of Object.entries(fields)) {
    let type: string = f.type;
    if (f.type === 'string' && f.enum) type = f.enum.join(' \\| ');
    if (f.type === 'array') type = `${f.items.type}[]`;
    const def = f.required ? '*required*' : f.default === undefined ? '—' : `\`${JSON.stringify(f.default)}\``;
    rows.push(`| \`${k}\` | ${type} | ${def} | ${f.doc.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}
