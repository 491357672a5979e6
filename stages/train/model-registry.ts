/**
 * The models, keyed by the checkpoint kind they write. Code that handles a
 * checkpoint of any kind (policy loading, online training, the CLI) finds
 * its model here; adding a model is one `registerModel` (or one line below)
 * plus the model's own files.
 */
import * as path from 'node:path';
import { ConfigError } from '../core/config-schema.js';
import type { CheckpointMeta } from './checkpoint.js';
import { gaussianModel } from './gaussian-model.js';
import type { BoundModel, RegisteredModel } from './model-entry.js';
import { sasrecModel } from './sasrec-model.js';

const MODELS = new Map<string, RegisteredModel>();

/** Add a model; returns a function that removes it again. Kinds are unique. */
export function registerModel(entry: RegisteredModel): () => void {
  if (MODELS.has(entry.kind)) throw new Error(`model kind "${entry.kind}" is already registered`);
  MODELS.set(entry.kind, entry);
  return () => {
    if (MODELS.get(entry.kind) === entry) MODELS.delete(entry.kind);
  };
}

registerModel(sasrecModel);
registerModel(gaussianModel);

/** The registered kinds, in registration order. */
export function modelKinds(): string[] {
  return [...MODELS.keys()];
}

/** The entry of `kind`; an unknown kind is a ConfigError naming `where`. */
export function registeredModel(kind: string, where: string): RegisteredModel {
  const entry = MODELS.get(kind);
  if (!entry) throw new ConfigError(`${where}: unknown model kind ${JSON.stringify(kind)} (known: ${modelKinds().join(', ')})`, ['kind']);
  return entry;
}

/** The model of a checkpoint (its kind's entry, bound to its stored configuration, validated). */
export function checkpointModel(meta: Pick<CheckpointMeta, 'kind' | 'model'>, dir: string): BoundModel {
  const where = `checkpoint ${path.join(dir, 'checkpoint.json')}`;
  return registeredModel(meta.kind, where).fromStored(meta.model, where);
}
