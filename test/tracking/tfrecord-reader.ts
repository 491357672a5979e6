/**
 * An independent reader of TensorBoard event files for the tests: TFRecord
 * framing with both CRCs checked (bitwise CRC-32C, not the writer's table),
 * and a hand-written protobuf decoder for Event / Summary / Value.
 */
import * as fs from 'node:fs';

/** Bitwise CRC-32C (no table). */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = ~0 >>> 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
    crc >>>= 0;
  }
  return ~crc >>> 0;
}

const mask = (crc: number) => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

export function readTfRecords(file: string): Uint8Array[] {
  const buf = new Uint8Array(fs.readFileSync(file));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 12 > buf.length) throw new Error(`truncated header at ${off}`);
    const len = Number(view.getBigUint64(off, true));
    if (view.getUint32(off + 8, true) !== mask(crc32cBitwise(buf.subarray(off, off + 8)))) throw new Error(`bad length CRC at ${off}`);
    const data = buf.subarray(off + 12, off + 12 + len);
    if (data.length !== len || off + 16 + len > buf.length) throw new Error(`truncated record at ${off}`);
    if (view.getUint32(off + 12 + len, true) !== mask(crc32cBitwise(data))) throw new Error(`bad data CRC at ${off}`);
    out.push(data);
    off += 16 + len;
  }
  return out;
}

interface Field {
  no: number;
  wire: number;
  /** varint value (as bigint), fixed64/fixed32 raw bytes, or length-delimited bytes. */
  varint?: bigint;
  bytes?: Uint8Array;
}

function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[i++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < b.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, varint: varint() });
    else if (wire === 1) (out.push({ no, wire, bytes: b.subarray(i, i + 8) }), (i += 8));
    else if (wire === 5) (out.push({ no, wire, bytes: b.subarray(i, i + 4) }), (i += 4));
    else if (wire === 2) {
      const len = Number(varint());
      out.push({ no, wire, bytes: b.subarray(i, i + len) });
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: { tag: string; value: number }[];
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function decodeEvent(data: Uint8Array): DecodedEvent {
  const ev: DecodedEvent = { wallTime: NaN, step: 0, values: [] };
  for (const f of fields(data)) {
    if (f.no === 1 && f.wire === 1) ev.wallTime = dv(f.bytes!).getFloat64(0, true);
    else if (f.no === 2 && f.wire === 0) ev.step = Number(BigInt.asIntN(64, f.varint!));
    else if (f.no === 3 && f.wire === 2) ev.fileVersion = new TextDecoder().decode(f.bytes!);
    else if (f.no === 5 && f.wire === 2) {
      for (const v of fields(f.bytes!)) {
        if (v.no !== 1 || v.wire !== 2) continue;
        let tag = '';
        let value = NaN;
        for (const g of fields(v.bytes!)) {
          if (g.no === 1 && g.wire === 2) tag = new TextDecoder().decode(g.bytes!);
          if (g.no === 2 && g.wire === 5) value = dv(g.bytes!).getFloat32(0, true);
        }
        ev.values.push({ tag, value });
      }
    }
  }
  return ev;
}

export function readEvents(file: string): DecodedEvent[] {
  return readTfRecords(file).map(decodeEvent);
}
