/**
 * TensorBoard event files, written without TensorFlow.
 *
 * A file `events.out.tfevents.<unix seconds>.<host>` is a TFRecord stream:
 * each record is
 *
 *   uint64 length (little-endian) · uint32 masked_crc32c(length bytes)
 *   · data · uint32 masked_crc32c(data)
 *
 * with masked_crc(x) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8 (mod 2³²)
 * over CRC-32C (Castagnoli). Each data block is a serialised `tensorflow.Event`
 * (event.proto): wall_time = 1 (double), step = 2 (int64), file_version = 3
 * (string, first record: "brain.Event:2"), summary = 5 (Summary: repeated
 * Value value = 1; Value: tag = 1 (string), simple_value = 2 (float)).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import protobuf from 'protobufjs';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC32C_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15, add 0xa282ead8. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord frame around `data`. */
export function tfRecordFrame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export interface ScalarValue {
  tag: string;
  value: number;
}

/** A serialised Event holding the file version (the first record of every file). */
export function fileVersionEvent(wallTime: number): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 1).double(wallTime);
  w.uint32((3 << 3) | 2).string('brain.Event:2');
  return w.finish();
}

/** A serialised Event with a Summary of scalar values (simple_value) at `step`. */
export function scalarsEvent(wallTime: number, step: number, values: ScalarValue[]): Uint8Array {
  const summary = protobuf.Writer.create();
  for (const v of values) {
    summary.uint32((1 << 3) | 2).fork();
    summary.uint32((1 << 3) | 2).string(v.tag);
    summary.uint32((2 << 3) | 5).float(v.value);
    summary.ldelim();
  }
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 1).double(wallTime);
  w.uint32((2 << 3) | 0).int64(step);
  w.uint32((5 << 3) | 2).bytes(summary.finish());
  return w.finish();
}

/** An event file in a log directory, opened on creation with its file_version record written. */
/** Create `events.out.tfevents.<time>.<host>` in `dir` (a numeric suffix when that name is taken, e.g. two runs in one second). */
function createEventFile(dir: string, seconds: number): { fd: number; file: string } {
  fs.mkdirSync(dir, { recursive: true });
  const base = `events.out.tfevents.${Math.floor(seconds)}.${os.hostname()}`;
  for (let n = 0; ; n++) {
    const file = path.join(dir, n === 0 ? base : `${base}.${n}`);
    try {
      return { fd: fs.openSync(file, 'wx'), file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** An event file in a log directory, opened on creation with its file_version record written. */
export class EventFileWriter {
  readonly file: string;
  private fd: number;

  constructor(
    dir: string,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    const t = now();
    const { fd, file } = createEventFile(dir, t);
    this.fd = fd;
    this.file = file;
    fs.writeSync(this.fd, tfRecordFrame(fileVersionEvent(t)));
  }

  /** Append one event of scalars at `step` (one write, so a reader sees whole records or none). */
  writeScalars(step: number, values: ScalarValue[]): void {
    if (values.length === 0) return;
    fs.writeSync(this.fd, tfRecordFrame(scalarsEvent(this.now(), step, values)));
  }

  close(): void {
    if (this.fd < 0) return;
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
