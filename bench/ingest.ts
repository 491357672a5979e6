/**
 * Ingest benchmark.
 *
 * 1. CSV → Parquet end to end (the `ingest` stage through the pipeline
 *    runner) on a generated ML-20M-like ratings file (userId,movieId,rating,
 *    timestamp; ~144 ratings per user, ~27K items with Zipfian popularity,
 *    half-star ratings with MovieLens' frequencies, increasing timestamps per
 *    user): 20M rows, and 2M rows to show that peak memory does not grow with
 *    the file (2M and 200K with --quick). Each run is a child process, so its
 *    peak RSS is its own. Target: ≥ 1.5M rows/s and < 1 GB.
 *    Each with one parsing thread and with two (byte ranges parsed on worker
 *    threads), each against DuckDB on the same file in the same run.
 * 2. The Parquet codec (snappy, zstd, none) and encoding on a worker thread
 *    versus the main thread, end to end on the large file (one parsing
 *    thread), plus the CPU time of encoding alone per codec, and with the
 *    settings ingest writes its parts with (no dictionary, no statistics).
 * 3. The Parquet engine: parquet-wasm against parquetjs-lite writing and
 *    reading the same 500K-row interactions table (200K with --quick).
 *
 * Run alone: `npx tsx bench/ingest.ts [--quick]`; in the suite: `npm run bench -- --only ingest`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, BenchResult } from './common.js';
import { duckdbCsvToParquet } from './peers.js';
import { peakRssMB, runBenchChild } from './common.js';
import type { Batch } from '../stages/core/batch.js';
import { encodeParquet, readParquetFile, writeParquetFile } from '../stages/io/parquet.js';
import { INGEST_ENCODING } from '../stages/ingest/dataset-sink.js';
import { resolvePipeline } from '../pipelines/spec.js';
import { runPipeline } from '../pipelines/runner.js';
import { mulberry32 } from '../stages/core/seeded-random.js';

const SELF = fileURLToPath(import.meta.url);
const TARGET_RATE = 1.5e6;
const TARGET_RSS_MB = 1024;

/** The same generated file for the same seed. */
const rng = mulberry32;

/** MovieLens 20M rating frequencies for 0.5, 1.0, …, 5.0 stars. */
const RATING_FREQ = [0.011, 0.033, 0.014, 0.072, 0.044, 0.213, 0.105, 0.278, 0.077, 0.153];
const RATING_TEXT = ['0.5', '1.0', '1.5', '2.0', '2.5', '3.0', '3.5', '4.0', '4.5', '5.0'];

export interface GeneratedLog {
  file: string;
  rows: number;
  users: number;
  items: number;
  bytes: number;
}

/**
 * Write an ML-20M-like ratings CSV with `rows` rows. Users come in order,
 * each with 20 + Exponential(mean 124) ratings (mean ≈ 144 as in ML-20M) of
 * distinct items drawn from a Zipf(1) popularity over `items` items whose raw
 * ids are spread over 1…~4.9·items like MovieLens movieIds.
 */
export function generateRatingsCsv(file: string, rows: number, seed = 1, items = 26744): GeneratedLog {
  const rand = rng(seed);
  // Zipf(1) CDF over popularity ranks; rank → raw movie id through a shuffle.
  const cdf = new Float64Array(items);
  let acc = 0;
  for (let k = 0; k < items; k++) cdf[k] = acc += 1 / (k + 1);
  for (let k = 0; k < items; k++) cdf[k]! /= acc;
  const rawItem = new Int32Array(items);
  for (let k = 0; k < items; k++) rawItem[k] = 1 + Math.floor(k * 4.9) + (k % 3);
  for (let k = items - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    const t = rawItem[k]!;
    rawItem[k] = rawItem[j]!;
    rawItem[j] = t;
  }
  const ratingCdf = new Float64Array(RATING_FREQ.length);
  let racc = 0;
  RATING_FREQ.forEach((p, i) => (ratingCdf[i] = racc += p));
  const seenBy = new Int32Array(items).fill(-1);
  const fd = fs.openSync(file, 'w');
  let out = 'userId,movieId,rating,timestamp\n';
  let written = 0;
  let bytes = 0;
  let user = 0;
  const flush = () => {
    bytes += fs.writeSync(fd, out);
    out = '';
  };
  try {
    while (written < rows) {
      user++;
      const n = Math.min(rows - written, 20 + Math.floor(-124 * Math.log(1 - rand())), items);
      let t = 789652009 + Math.floor(rand() * 600_000_000);
      for (let r = 0; r < n; r++) {
        let k = -1;
        for (let attempt = 0; attempt < 64; attempt++) {
          const u = rand();
          let lo = 0;
          let hi = items - 1;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (cdf[mid]! < u) lo = mid + 1;
            else hi = mid;
          }
          if (seenBy[lo] !== user) {
            k = lo;
            break;
          }
        }
        if (k < 0) {
          k = Math.floor(rand() * items);
          while (seenBy[k] === user) k = (k + 1) % items;
        }
        seenBy[k] = user;
        const ru = rand();
        let ri = 0;
        while (ri < 9 && ratingCdf[ri]! < ru) ri++;
        t += 1 + Math.floor(rand() * rand() * 200_000);
        out += `${user},${rawItem[k]},${RATING_TEXT[ri]},${t}\n`;
        if (out.length > 1 << 20) flush();
      }
      written += n;
    }
    flush();
  } finally {
    fs.closeSync(fd);
  }
  return { file, rows: written, users: user, items, bytes };
}

interface ChildResult {
  rows: number;
  seconds: number;
  peakRssMB: number;
  outputBytes: number;
  parts: number;
}

/** In the child: run the ingest stage through the runner and report. */
async function childMain(args: { path: string; output: string; compression: string; worker: boolean; threads: number }): Promise<void> {
  const p = resolvePipeline(
    {
      name: 'bench-ingest',
      stages: [
        {
          stage: 'ingest',
          with: { path: args.path, output: args.output, compression: args.compression, encode_in_worker: args.worker, threads: args.threads },
        },
      ],
    },
    'bench',
  );
  const t0 = performance.now();
  const r = await runPipeline(p, { outDir: path.join(args.output, '..', 'run'), quiet: true, progress: false, writeFiles: false });
  const seconds = (performance.now() - t0) / 1000;
  const summary = r.artifacts.get('ingest') as { rows: number; manifest: { files: { bytes: number }[] } };
  const res: ChildResult = {
    rows: summary.rows,
    seconds,
    peakRssMB: peakRssMB(),
    outputBytes: summary.manifest.files.reduce((s, f) => s + f.bytes, 0),
    parts: summary.manifest.files.length,
  };
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

function runChild(args: Parameters<typeof childMain>[0]): Promise<ChildResult> {
  return runBenchChild<ChildResult>(SELF, args, { label: 'ingest bench child' });
}

function interactionsTable(n: number): Batch {
  const rand = rng(7);
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const timestamp = new BigInt64Array(n);
  const reward = new Float32Array(n);
  let t = 978300760;
  for (let i = 0; i < n; i++) {
    user[i] = 1 + Math.floor(i / 144);
    item[i] = 1 + Math.floor(26744 * rand() ** 3);
    t += Math.floor(rand() * 1000);
    timestamp[i] = BigInt(t);
    reward[i] = (1 + Math.floor(rand() * 10)) / 2;
  }
  return { table: 'interactions', numRows: n, columns: { user_id: user, item_id: item, timestamp, reward } };
}

interface ParquetjsLite {
  ParquetSchema: new (s: Record<string, { type: string; compression?: string }>) => unknown;
  ParquetWriter: {
    openFile(
      schema: unknown,
      file: string,
      opts?: Record<string, unknown>,
    ): Promise<{ appendRow(r: Record<string, unknown>): Promise<void>; close(): Promise<void>; setRowGroupSize(n: number): void }>;
  };
  ParquetReader: { openFile(file: string): Promise<{ getCursor(): { next(): Promise<Record<string, unknown> | null> }; close(): Promise<void> }> };
}

/** parquet-wasm vs parquetjs-lite on the same table (snappy in both). */
async function engineComparison(n: number, dir: string): Promise<BenchResult[]> {
  const batch = interactionsTable(n);
  const out: BenchResult[] = [];
  const result = (name: string, seconds: number, notes?: string): BenchResult => ({
    suite: 'ingest',
    name,
    rows: n,
    seconds,
    rate: n / seconds,
    ...(notes ? { notes } : {}),
  });

  const wasmFile = path.join(dir, 'engine-wasm.parquet');
  let t0 = performance.now();
  const wasmBytes = writeParquetFile(wasmFile, [batch], { compression: 'snappy' });
  out.push(result(`parquet-wasm write ${n / 1000}K rows`, (performance.now() - t0) / 1000, `${(wasmBytes / 1e6).toFixed(1)} MB`));
  t0 = performance.now();
  let readRows = 0;
  let check = 0;
  for await (const b of readParquetFile(wasmFile)) {
    readRows += b.numRows;
    check += (b.columns.user_id as Int32Array)[b.numRows - 1]!;
  }
  out.push(result(`parquet-wasm read ${n / 1000}K rows`, (performance.now() - t0) / 1000, `${readRows} rows, check ${check}`));

  // Codec cost: CPU time of encoding the table (robust to a shared machine), and the size.
  for (const codec of ['snappy', 'zstd', 'lz4', 'none'] as const) {
    encodeParquet([batch], { compression: codec }); // warm-up
    const c0 = process.cpuUsage();
    const bytes = encodeParquet([batch], { compression: codec });
    const cpu = process.cpuUsage(c0);
    const seconds = (cpu.user + cpu.system) / 1e6;
    out.push({ ...result(`parquet-wasm encode ${n / 1000}K rows, ${codec} (CPU time)`, seconds, `${(bytes.length / 1e6).toFixed(2)} MB`) });
  }
  // What ingest writes its parts with (no dictionary pages, no statistics: dataset-sink.ts), against the default above.
  encodeParquet([batch], { compression: 'snappy', ...INGEST_ENCODING }); // warm-up
  const c0 = process.cpuUsage();
  const ingestBytes = encodeParquet([batch], { compression: 'snappy', ...INGEST_ENCODING });
  const cpu = process.cpuUsage(c0);
  out.push(
    result(
      `parquet-wasm encode ${n / 1000}K rows, snappy, ingest settings (CPU time)`,
      (cpu.user + cpu.system) / 1e6,
      `${(ingestBytes.length / 1e6).toFixed(2)} MB; no dictionary, no statistics`,
    ),
  );

  const lite = createRequire(import.meta.url)('parquetjs-lite') as ParquetjsLite;
  const schema = new lite.ParquetSchema({
    user_id: { type: 'INT32', compression: 'SNAPPY' },
    item_id: { type: 'INT32', compression: 'SNAPPY' },
    timestamp: { type: 'INT64', compression: 'SNAPPY' },
    reward: { type: 'FLOAT', compression: 'SNAPPY' },
  });
  const liteFile = path.join(dir, 'engine-lite.parquet');
  const u = batch.columns.user_id as Int32Array;
  const it = batch.columns.item_id as Int32Array;
  const ts = batch.columns.timestamp as BigInt64Array;
  const rw = batch.columns.reward as Float32Array;
  t0 = performance.now();
  const w = await lite.ParquetWriter.openFile(schema, liteFile);
  w.setRowGroupSize(131072);
  for (let i = 0; i < n; i++) await w.appendRow({ user_id: u[i], item_id: it[i], timestamp: Number(ts[i]), reward: rw[i] });
  await w.close();
  out.push(result(`parquetjs-lite write ${n / 1000}K rows`, (performance.now() - t0) / 1000, `${(fs.statSync(liteFile).size / 1e6).toFixed(1)} MB`));
  t0 = performance.now();
  const r = await lite.ParquetReader.openFile(liteFile);
  const cursor = r.getCursor();
  let liteRows = 0;
  while ((await cursor.next()) !== null) liteRows++;
  await r.close();
  out.push(result(`parquetjs-lite read ${n / 1000}K rows`, (performance.now() - t0) / 1000, `${liteRows} rows`));
  return out;
}

/**
 * DuckDB on the same CSV in the same run (the peer of DESIGN.md): whole-process
 * wall time of each, and the recpost/DuckDB ratio held to ≤ 1.5 (issue target).
 */
async function duckdbPeer(log: GeneratedLog, dir: string, runs: { label: string; wall: number; peak: number }[]): Promise<BenchResult[]> {
  const output = path.join(dir, 'duckdb-peer.parquet');
  try {
    const r = await duckdbCsvToParquet(log.file, output, 'snappy');
    const n = Number(r.report.rows);
    const ratio = (wall: number) => wall / r.wallSeconds;
    return [
      {
        suite: 'ingest',
        name: `peer: DuckDB csv→parquet ${log.rows / 1e6}M rows (snappy, ${String(r.report.threads)} threads)`,
        rows: n,
        seconds: r.wallSeconds,
        rate: n / r.wallSeconds,
        peakRssMB: r.peakRssMB,
        notes: `whole process; COPY itself ${Number(r.report.seconds).toFixed(2)} s`,
      },
      ...runs.map((x): BenchResult => ({
        suite: 'ingest',
        name: `ratio recpost (${x.label})/DuckDB, csv→parquet wall (whole process)`,
        rows: n,
        seconds: x.wall,
        rate: ratio(x.wall),
        unit: '×',
        target: '≤ 1.5×',
        met: ratio(x.wall) <= 1.5,
        notes: `recpost ${x.wall.toFixed(2)} s, ${x.peak.toFixed(0)} MB; DuckDB ${r.wallSeconds.toFixed(2)} s, ${r.peakRssMB.toFixed(0)} MB`,
      })),
    ];
  } catch (e) {
    process.stderr.write(`  DuckDB peer failed: ${(e as Error).message}\n`);
    return [];
  } finally {
    fs.rmSync(output, { force: true });
  }
}

export async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const big = opts.quick ? 2_000_000 : 20_000_000;
  const small = opts.quick ? 200_000 : 2_000_000;
  const engineRows = opts.quick ? 200_000 : 500_000;
  const dir = fs.mkdtempSync(path.join(opts.scratch, 'ingest-'));
  const results: BenchResult[] = [];
  try {
    const t0 = performance.now();
    const bigLog = generateRatingsCsv(path.join(dir, `ratings-${big}.csv`), big, 1);
    const genSeconds = (performance.now() - t0) / 1000;
    const smallLog = generateRatingsCsv(path.join(dir, `ratings-${small}.csv`), small, 2);
    const mRows = (n: number) => `${n / 1e6}M`;
    /** One end-to-end run in a child process; `rateTarget` false for runs that only check memory or compare variants. */
    const e2e = async (log: GeneratedLog, compression: string, worker: boolean, threads: number, rateTarget: boolean): Promise<BenchResult> => {
      const output = path.join(dir, `out-${log.rows}-${compression}-${worker ? 'w' : 'm'}-${threads}`);
      const c = await runChild({ path: log.file, output, compression, worker, threads });
      fs.rmSync(output, { recursive: true, force: true });
      const rate = c.rows / c.seconds;
      const memOk = c.peakRssMB < TARGET_RSS_MB;
      return {
        suite: 'ingest',
        name: `csv→parquet ${mRows(log.rows)} rows (${compression}, ${worker ? 'worker' : 'main thread'}, threads ${threads})`,
        rows: c.rows,
        seconds: c.seconds,
        rate,
        peakRssMB: c.peakRssMB,
        target: rateTarget ? `≥ 1.5M rows/s, < ${TARGET_RSS_MB} MB` : `< ${TARGET_RSS_MB} MB`,
        met: rateTarget ? rate >= TARGET_RATE && memOk : memOk,
        notes: `${(log.bytes / 1e6).toFixed(0)} MB CSV → ${(c.outputBytes / 1e6).toFixed(0)} MB Parquet in ${c.parts} part(s); ${log.users} users, ${log.items} items`,
      };
    };
    // One parsing thread (the code path of before threads existed) and two (byte ranges on worker threads), each timed as a whole process.
    const mains: { label: string; wall: number; peak: number; result: BenchResult }[] = [];
    for (const threads of [1, 2]) {
      const wall0 = performance.now();
      const result = await e2e(bigLog, 'snappy', true, threads, true);
      const wall = (performance.now() - wall0) / 1000;
      result.notes += `; CSV generated in ${genSeconds.toFixed(1)} s; whole process ${wall.toFixed(2)} s`;
      results.push(result);
      mains.push({ label: `threads ${threads}`, wall, peak: result.peakRssMB ?? NaN, result });
    }
    results.push(...(await duckdbPeer(bigLog, dir, mains)));
    for (const m of mains) {
      const threads = Number(m.label.split(' ')[1]);
      const smallRun = await e2e(smallLog, 'snappy', true, threads, false);
      smallRun.notes += `; memory check: peak ${smallRun.peakRssMB!.toFixed(0)} MB here vs ${m.peak.toFixed(0)} MB on ${big / small}× the rows`;
      results.push(smallRun);
    }
    // Variants on the large file, one parsing thread: the codec, and encoding on the main thread.
    for (const codec of ['zstd', 'none']) results.push(await e2e(bigLog, codec, true, 1, false));
    results.push(await e2e(bigLog, 'snappy', false, 1, false));
    results.push(...(await engineComparison(engineRows, dir)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const invokedDirectly = process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fs.realpathSync(SELF);
if (invokedDirectly) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    childMain(JSON.parse(argv[1]!) as Parameters<typeof childMain>[0]).catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    });
  } else {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-bench-ingest-'));
    run({ quick: argv.includes('--quick'), scratch })
      .then((rs) => {
        for (const r of rs) process.stdout.write(`${JSON.stringify(r)}\n`);
      })
      .finally(() => fs.rmSync(scratch, { recursive: true, force: true }));
  }
}
