/**
 * A small declarative schema for stage configurations.
 *
 * Every stage declares its options as fields with a type, a default and a doc
 * line. The same declaration validates a pipeline file (errors name the stage,
 * its position and the field), fills defaults, renders the README's option
 * tables and exports JSON Schema (schemas/pipeline.schema.json) for editors.
 */

export type FieldSpec = NumberField | StringField | BooleanField | ArrayField | ObjectField | MapField | UnionField;

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

/**
 * One variant of a tagged union: its own options and, optionally, checks that
 * relate them (e.g. p_min ≤ p_max), run after the options validate.
 */
export interface VariantSpec {
  fields: Fields;
  check?: (config: Record<string, unknown>) => string[];
}

/**
 * A tagged union discriminated by its `name` key: `{ name: drpo, rho: 0.5 }`.
 * The other keys are validated against the named variant's own fields only
 * (and its defaults filled); the JSON Schema is a `oneOf` with a `const` name
 * per variant. `label` names the family in messages ("objective", "group shaper").
 */
export interface UnionField extends BaseField {
  type: 'union';
  variants: Readonly<Record<string, VariantSpec>>;
  label?: string;
  /** The whole default value, e.g. `{ name: 'bc' }`; its name is also used when a value omits `name`. */
  default?: { name: string } & Record<string, unknown>;
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

/**
 * A ConfigError whose message already names the file or directory it is about
 * (a dataset part, a checkpoint): the runner does not prefix it with the stage,
 * so the one line a user sees starts with the path to fix.
 */
export class LocatedConfigError extends ConfigError {}

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
      if (spec.exclusiveMin !== undefined && !(value > spec.exclusiveMin)) problems.push(`field "${path}" must be > ${spec.exclusiveMin}, got ${value}`);
      return value;
    }
    case 'string': {
      if (typeof value !== 'string') {
        problems.push(`field "${path}" must be a string, got ${describe(value)}`);
        return undefined;
      }
      if (spec.enum && !spec.enum.includes(value)) problems.push(`field "${path}" must be one of ${spec.enum.join(', ')}; got ${JSON.stringify(value)}`);
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
    case 'union':
      return checkUnion(spec, value, path, problems);
  }
}

/** The problems of one value against one field declaration (empty when valid). */
export function fieldProblems(spec: FieldSpec, value: unknown, path: string): string[] {
  const problems: string[] = [];
  checkField(spec, value, path, problems);
  return problems;
}

/** A tagged union value: the name picks the variant; the rest is that variant's options only. */
function checkUnion(spec: UnionField, value: unknown, path: string, problems: string[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`field "${path}" must be an object, got ${describe(value)}`);
    return undefined;
  }
  const raw = value as Record<string, unknown>;
  const names = Object.keys(spec.variants);
  const name = raw.name ?? spec.default?.name;
  if (typeof name !== 'string' || !names.includes(name)) {
    if (name === undefined) problems.push(`field "${path}.name" is required (one of ${names.join(', ')})`);
    else problems.push(`field "${path}.name" must be one of ${names.join(', ')}; got ${describe(name)}`);
    return undefined;
  }
  const variant = spec.variants[name]!;
  const label = `${spec.label ?? path} ${JSON.stringify(name)}`;
  const own = Object.keys(variant.fields);
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'name') continue;
    if (k in variant.fields) rest[k] = v;
    else problems.push(`field "${path}.${k}" is not an option of ${label} (its options: ${own.length ? own.join(', ') : 'none'})`);
  }
  const before = problems.length;
  const out = checkObject(variant.fields, rest, `${path}.`, problems);
  if (problems.length === before && variant.check) {
    for (const p of variant.check(out)) problems.push(`field "${path}" (${label}): ${p}`);
  }
  return { name, ...out };
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
export function validateConfig<C>(where: string, fields: Fields, raw: unknown, check?: (config: C) => string[]): C {
  const problems: string[] = [];
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${where}: configuration must be an object, got ${describe(raw)}`, ['not an object']);
  }
  // The values were checked field by field against `fields`; C is the type those fields describe.
  const out = checkObject(fields, raw as Record<string, unknown>, '', problems) as C;
  // Cross-field checks only see a configuration whose fields are each valid.
  if (problems.length === 0 && check) problems.push(...check(out));
  if (problems.length > 0) {
    throw new ConfigError(`${where}: ${problems.join('; ')}`, problems);
  }
  return out;
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
    case 'union':
      return {
        ...base,
        type: 'object',
        oneOf: Object.entries(f.variants).map(([name, v]) => {
          const own = toJsonSchema(v.fields) as { properties: Record<string, unknown>; required?: string[] };
          // A value may omit the name only when the default names this variant.
          const nameRequired = f.default?.name !== name;
          const required = [...(nameRequired ? ['name'] : []), ...(own.required ?? [])];
          return {
            ...own,
            properties: { name: { const: name }, ...own.properties },
            ...(required.length ? { required } : {}),
          };
        }),
      };
  }
}

/** One Markdown table row per field, for the README. */
export function fieldsToMarkdown(fields: Fields): string {
  const rows = ['| option | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const [k, f] of Object.entries(fields)) {
    let type: string = f.type;
    if (f.type === 'string' && f.enum) type = f.enum.join(' \\| ');
    if (f.type === 'array') type = `${f.items.type}[]`;
    if (f.type === 'union') type = `{ name: ${Object.keys(f.variants).join(' \\| ')}, … }`;
    const def = f.required ? '*required*' : f.default === undefined ? '—' : `\`${JSON.stringify(f.default)}\``;
    rows.push(`| \`${k}\` | ${type} | ${def} | ${f.doc.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}

/** What validation needs of a stage definition: its fields and its optional cross-field check. */
export interface CheckedFields<C> {
  fields: Fields;
  check?(config: C): string[];
}

/**
 * Validate a stage's raw options: every field (messages name `where` and the
 * field), then the stage's cross-field check on the validated configuration.
 */
export function validateStageConfig<C>(where: string, def: CheckedFields<C>, raw: unknown): C {
  return validateConfig<C>(where, def.fields, raw, def.check ? (c) => def.check!(c) : undefined);
}
