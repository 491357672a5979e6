/**
 * Merging the vocabulary of a later part of the input into the vocabulary of
 * everything before it. A range's local vocabulary lists its ids in
 * first-seen order; looking them up in that order in the global vocabulary
 * appends the new ones exactly as a single sequential pass would (SPEC S1:
 * first id seen = 1, in file order), because an id new to the global
 * vocabulary is first seen in this range at its local position.
 */
import type { ExportedIds, IdVocabulary } from './id-vocabulary.js';

/**
 * Look up (or append) every id of `local` in `global`, in local index order.
 * Returns the map local index → global index (entry 0 = 0, padding); a
 * frozen global vocabulary maps an unknown id to 0.
 */
export function mergeIds(global: IdVocabulary, local: ExportedIds): Int32Array {
  const remap = new Int32Array(local.numbers.length + 1);
  let s = 0;
  for (let j = 0; j < local.numbers.length; j++) {
    const n = local.numbers[j]!;
    remap[j + 1] = Number.isNaN(n) ? global.indexOfString(local.strings[s++]!) : global.indexOfNumber(n);
  }
  return remap;
}

/** Replace local indices by global ones in place. */
export function applyRemap(column: Int32Array, remap: Int32Array): void {
  for (let i = 0; i < column.length; i++) column[i] = remap[column[i]!]!;
}
