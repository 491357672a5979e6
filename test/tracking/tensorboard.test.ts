import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, EventFileWriter, maskedCrc32c } from '../../stages/sinks/tensorboard-events.js';
import { tensorboardStage } from '../../stages/sinks/tensorboard-stage.js';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import _ from 'highland';
import { defineStage } from '../../stages/core/stage.js';
import { runWith, testSource } from '../sinks/helpers.js';
import { crc32cBitwise, readEvents, readTfRecords } from './tfrecord-reader.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-tb-'));

function eventFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('events.out.tfevents.'))
    .map((n) => path.join(dir, n));
}

describe('CRC-32C', () => {
  it('matches the standard check value and the bitwise reference', () => {
    // RFC 3720 / iSCSI check value of "123456789".
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) & 0xff);
    expect(crc32c(bytes)).toBe(crc32cBitwise(bytes));
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
  });
});

describe('event file writer', () => {
  it('writes the file version first, then scalar events that read back with valid CRCs', () => {
    const d = tmp();
    let t = 1700000000.25;
    const w = new EventFileWriter(d, () => t++);
    w.writeScalars(3, [
      { tag: 'valid/ndcg@10', value: 0.5 },
      { tag: 'valid/loss', value: -1.25 },
    ]);
    w.writeScalars(2 ** 40, [{ tag: 'x', value: Number.NaN }]);
    w.close();
    expect(path.basename(w.file)).toBe(`events.out.tfevents.1700000000.${os.hostname()}`);
    const events = readEvents(w.file);
    expect(events).toHaveLength(3);
    expect(events[0]).toEqual({ wallTime: 1700000000.25, step: 0, fileVersion: 'brain.Event:2', values: [] });
    expect(events[1]!.step).toBe(3);
    expect(events[1]!.wallTime).toBe(1700000001.25);
    expect(events[1]!.values).toEqual([
      { tag: 'valid/ndcg@10', value: 0.5 },
      { tag: 'valid/loss', value: -1.25 },
    ]);
    expect(events[2]!.step).toBe(2 ** 40);
    expect(events[2]!.values[0]!.value).toBeNaN();
    // A second writer in the same second does not overwrite the first file.
    const w2 = new EventFileWriter(d, () => 1700000000.5);
    w2.close();
    expect(w2.file).toBe(`${w.file}.1`);
  });

  it('a flipped data byte fails the data CRC', () => {
    const d = tmp();
    const w = new EventFileWriter(d);
    w.writeScalars(1, [{ tag: 'a', value: 1 }]);
    w.close();
    const buf = fs.readFileSync(w.file);
    buf[buf.length - 6] = buf[buf.length - 6]! ^ 0x01;
    fs.writeFileSync(w.file, buf);
    expect(() => readTfRecords(w.file)).toThrow(/bad data CRC/);
  });
});

describe('tensorboard sink', () => {
  it('writes one directory per method, tags <split>/<metric> at the record steps, from stream and run records', async () => {
    const d = tmp();
    const stream: MetricRecord[] = [
      metricRecord({ run: 'sinks-test', method: 'bc', step: 100, split: 'valid', metric: 'ndcg@10', value: 0.25 }),
      metricRecord({ run: 'sinks-test', method: 'drpo', step: 100, split: 'valid', metric: 'ndcg@10', value: 0.375 }),
      metricRecord({ run: 'sinks-test', method: 'drpo', step: 200, split: 'test', metric: 'recall@10', value: 0.5 }),
    ];
    // Run records: a training loss per step, and one record that also arrives in the stream (counted once).
    const emitted: Partial<MetricRecord>[] = [
      { run: 'sinks-test', method: 'bc', step: 1, split: 'train', metric: 'loss', value: 2.5 },
      { run: 'sinks-test', method: 'bc', step: 2, split: 'train', metric: 'loss', value: 2.0 },
      { ...stream[0]! },
      { run: 'sinks-test', method: 'bc', seed: 4, step: 1, split: 'train', metric: 'loss', value: 3 },
      { run: 'other', method: 'bc', step: 1, split: 'train', metric: 'loss', value: 7 },
    ];
    const logdir = path.join(d, 'tb');
    const h = await runWith(testSource([metricsToBatch(stream)], emitted), [[tensorboardStage, { path: logdir }]], d);
    expect(h.out).toHaveLength(1); // batches pass on
    const read = (sub: string) => {
      const files = eventFiles(path.join(logdir, sub));
      expect(files).toHaveLength(1);
      const events = readEvents(files[0]!);
      expect(events[0]!.fileVersion).toBe('brain.Event:2');
      return events.slice(1).flatMap((e) => e.values.map((v) => [e.step, v.tag, v.value]));
    };
    expect(read('bc').sort()).toEqual(
      [
        [1, 'train/loss', 2.5],
        [2, 'train/loss', 2],
        [100, 'valid/ndcg@10', 0.25],
      ].sort(),
    );
    expect(read('drpo')).toEqual([
      [100, 'valid/ndcg@10', 0.375],
      [200, 'test/recall@10', 0.5],
    ]);
    expect(read('bc-seed4')).toEqual([[1, 'train/loss', 3]]);
    expect(read(path.join('other', 'bc'))).toEqual([[1, 'train/loss', 7]]);
    expect(h.log.some((l) => l.includes('tensorboard: 7 scalar(s)'))).toBe(true);
  });

  it('defaults to <out_dir>/tensorboard and honours records: stream', async () => {
    const d = tmp();
    const stream = [metricRecord({ run: 'sinks-test', method: 'm', step: 5, split: 'valid', metric: 'hr', value: 0.125 })];
    await runWith(
      testSource([metricsToBatch(stream)], [{ run: 'sinks-test', method: 'm', step: 1, split: 'train', metric: 'loss', value: 1 }]),
      [[tensorboardStage, { records: 'stream' }]],
      d,
    );
    const files = eventFiles(path.join(d, 'tensorboard', 'm'));
    expect(files).toHaveLength(1);
    const events = readEvents(files[0]!);
    expect(events.slice(1).map((e) => [e.step, e.values])).toEqual([[5, [{ tag: 'valid/hr', value: 0.125 }]]]);
  });

  it('forwards run records every poll_seconds while no batch reaches the sink (live training)', async () => {
    const d = tmp();
    const logdir = path.join(d, 'tb');
    let seenWhileRunning: number[] = [];
    // Emits a training record, then waits (as a trainer would) before its only batch.
    const slowSource = defineStage<Record<string, never>>({
      name: 'slow_source',
      role: 'source',
      summary: 'test',
      fields: {},
      create: (_cfg, ctx) => ({
        source: async function* () {
          ctx.emitMetric({ method: 'bc', step: 1, split: 'train', metric: 'loss', value: 0.75 });
          await new Promise((resolve) => setTimeout(resolve, 400));
          const files = fs.existsSync(path.join(logdir, 'bc')) ? eventFiles(path.join(logdir, 'bc')) : [];
          seenWhileRunning = files.flatMap((f) => readEvents(f).flatMap((e) => e.values.map((v) => v.value)));
          yield metricsToBatch([]);
        },
      }),
    });
    await runWith(slowSource, [[tensorboardStage, { path: logdir, poll_seconds: 0.05 }]], d);
    expect(seenWhileRunning).toEqual([0.75]);
  });
});
