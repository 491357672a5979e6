/**
 * A small builder of ONNX graphs: nodes with generated output names, float32
 * and int64 initializers stored as little-endian raw_data, typed graph inputs
 * and outputs with symbolic dimensions, serialised as a ModelProto.
 */
import { ATTR, modelProtoType, ONNX_FLOAT, ONNX_INT64 } from './onnx-proto.js';

/** Attribute values: an integer, a list of integers, or a float (`{ f }`). */
export type AttrValue = number | number[] | { f: number };

export type ElemType = 'float32' | 'int64';
const ELEM: Record<ElemType, number> = { float32: ONNX_FLOAT, int64: ONNX_INT64 };

export interface ModelInfo {
  producerVersion: string;
  docString: string;
  /** ONNX opset of the default domain. */
  opset: number;
  /** ONNX IR version (8 goes with opset 17). */
  irVersion: number;
  metadata: Record<string, string>;
}

function floatBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}

function int64Bytes(values: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return out;
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`onnx attribute ${name}: ${v} is not an integer (use { f } for floats)`);
    return { name, type: ATTR.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: ATTR.INTS, ints: v };
  return { name, type: ATTR.FLOAT, f: v.f };
}

export class OnnxGraph {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** Add a node; returns the name of its (first) output. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputName?: string): string {
    const out = outputName ?? `${op.toLowerCase()}_${this.counter++}`;
    this.nodes.push({ op_type: op, name: `${op}_${this.nodes.length}`, input: inputs, output: [out], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** A float32 initializer. */
  floats(name: string, dims: number[], data: Float32Array): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) throw new Error(`onnx initializer ${name}: ${data.length} values for dims [${dims}]`);
    this.initializers.push({ name, dims, data_type: ONNX_FLOAT, raw_data: floatBytes(data) });
    return name;
  }

  /** An int64 constant (initializer), shared between uses of the same value and shape. */
  int64(values: readonly (number | bigint)[], dims: number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.constants.size}`;
      this.initializers.push({ name, dims, data_type: ONNX_INT64, raw_data: int64Bytes(values.map((v) => BigInt(v))) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 constant (initializer), shared like int64(). */
  float(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_${this.constants.size}`;
      this.floats(name, dims, Float32Array.from(values));
      this.constants.set(key, name);
    }
    return name;
  }

  private valueInfo(name: string, elem: ElemType, dims: (number | string)[], doc: string): Record<string, unknown> {
    return {
      name,
      doc_string: doc,
      type: { tensor_type: { elem_type: ELEM[elem], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
    };
  }

  input(name: string, elem: ElemType, dims: (number | string)[], doc = ''): string {
    this.inputs.push(this.valueInfo(name, elem, dims, doc));
    return name;
  }

  output(name: string, elem: ElemType, dims: (number | string)[], doc = ''): void {
    this.outputs.push(this.valueInfo(name, elem, dims, doc));
  }

  /** The serialised ModelProto. */
  toModel(info: ModelInfo): Uint8Array {
    const type = modelProtoType();
    const model = {
      ir_version: info.irVersion,
      producer_name: 'recpost',
      producer_version: info.producerVersion,
      doc_string: info.docString,
      opset_import: [{ domain: '', version: info.opset }],
      metadata_props: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    const problem = type.verify(model);
    if (problem) throw new Error(`onnx model: ${problem}`);
    return type.encode(type.fromObject(model)).finish();
  }
}
