/** JSON Schema of pipeline files, generated from the registered stages' fields. */
import { toJsonSchema } from '../stages/core/config-schema.js';
import { STAGES } from '../stages/registry.js';

export function pipelineJsonSchema(): Record<string, unknown> {
  const variants = [...STAGES.values()].map((d) => ({
    type: 'object',
    additionalProperties: false,
    required: ['stage'],
    properties: {
      stage: { const: d.name, description: d.summary },
      id: { type: 'string' },
      with: toJsonSchema(d.fields),
    },
  }));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'recpost pipeline',
    type: 'object',
    additionalProperties: false,
    required: ['stages'],
    properties: {
      name: { type: 'string' },
      out_dir: { type: 'string' },
      seed: { type: 'integer' },
      stages: { type: 'array', minItems: 1, items: { oneOf: variants } },
    },
  };
}
