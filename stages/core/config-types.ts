/**
 * The configuration type a field declaration describes, so a stage declares
 * its options once (config-schema.ts validates them, these types follow them):
 *
 *   const fields = { k: { type: 'integer', default: 3, doc: '…' }, path: { type: 'string', doc: '…' } } as const satisfies Fields;
 *   type C = ConfigOf<typeof fields>;   // { k: number; path?: string }
 *
 * Required fields and fields with a default are present after validation;
 * the others are optional. String enums become unions of their literals;
 * arrays, objects, maps and tagged unions recurse.
 */
import type { Fields, VariantSpec } from './config-schema.js';

/** The value type of one field declaration. */
export type ValueOf<S> = S extends { type: 'number' | 'integer' }
  ? number
  : S extends { type: 'string'; enum: readonly (infer E extends string)[] }
    ? E
    : S extends { type: 'string' }
      ? string
      : S extends { type: 'boolean' }
        ? boolean
        : S extends { type: 'array'; items: infer I }
          ? ValueOf<I>[]
          : S extends { type: 'object'; fields: infer G extends Fields }
            ? ConfigOf<G>
            : S extends { type: 'map'; values: infer V }
              ? Record<string, ValueOf<V>>
              : S extends { type: 'union'; variants: infer V extends Readonly<Record<string, VariantSpec>> }
                ? UnionValueOf<V>
                : never;

/** One object type per variant, each tagged with its literal name. */
export type UnionValueOf<V extends Readonly<Record<string, VariantSpec>>> = {
  [N in keyof V & string]: Flatten<{ name: N } & ConfigOf<V[N]['fields']>>;
}[keyof V & string];

/** Whether validation guarantees the field is present: required, or with a default. */
type Present<S> = S extends { required: true } ? true : S extends { default: unknown } ? true : false;

type PresentKeys<F> = { [K in keyof F]: Present<F[K]> extends true ? K : never }[keyof F];
type OptionalKeys<F> = Exclude<keyof F, PresentKeys<F>>;

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/**
 * The validated configuration of a field declaration. A declaration typed
 * only as `Fields` (keys unknown to the compiler) gives `Record<string, unknown>`.
 */
export type ConfigOf<F extends Fields> = string extends keyof F
  ? Record<string, unknown>
  : Flatten<{ -readonly [K in PresentKeys<F>]: ValueOf<F[K]> } & { -readonly [K in OptionalKeys<F>]?: ValueOf<F[K]> }>;
