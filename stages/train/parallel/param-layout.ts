/**
 * Every parameter of a model laid out end to end in one flat float32 array
 * (in the store's order): the shape of the shared buffers that carry
 * gradients from the threads and parameters to them.
 */
import type { ParamStore } from '../params.js';

export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface ParamLayout {
  slots: ParamSlot[];
  byName: Map<string, ParamSlot>;
  /** Total number of floats. */
  total: number;
}

export function layoutOf(params: ParamStore): ParamLayout {
  const slots: ParamSlot[] = [];
  let offset = 0;
  for (const name of params.names()) {
    const shape = [...params.get(name).shape];
    const size = shape.reduce((a, b) => a * b, 1);
    slots.push({ name, shape, offset, size });
    offset += size;
  }
  return { slots, byName: new Map(slots.map((s) => [s.name, s])), total: offset };
}

/** Write every parameter's current value into `out` (a view of `layout.total` floats). */
export function writeParams(params: ParamStore, layout: ParamLayout, out: Float32Array): void {
  for (const s of layout.slots) out.set(params.get(s.name).dataSync() as Float32Array, s.offset);
}

/** Check that `params` has exactly the layout's names and shapes (a worker's replica against the main thread's model). */
export function checkLayout(params: ParamStore, layout: ParamLayout): void {
  const names = params.names();
  if (names.length !== layout.slots.length || names.some((n, i) => n !== layout.slots[i]!.name))
    throw new Error(`parameter replica mismatch: the worker has [${names.join(', ')}], the trainer [${layout.slots.map((s) => s.name).join(', ')}]`);
  for (const s of layout.slots) {
    const shape = params.get(s.name).shape;
    if (shape.length !== s.shape.length || shape.some((d, i) => d !== s.shape[i]))
      throw new Error(`parameter replica mismatch: "${s.name}" has shape [${shape}], the trainer [${s.shape}]`);
  }
}
