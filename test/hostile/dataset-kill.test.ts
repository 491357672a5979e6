/**
 * `kill -9` of a real child (`node --import tsx pipelines/cli.ts …`) at random
 * points of ingest, write_parquet, split_sequences and reward_stats: the
 * target is afterwards either the previous complete dataset (byte-identical)
 * or the new complete one (equal to an uninterrupted run), never a mixture;
 * a rerun succeeds and equals the uninterrupted run, and DuckDB's
 * `SELECT * FROM 'dir/*.parquet'` returns exactly the manifest's rows.
 *
 * Kill points are drawn from a seeded generator (printed in the test names):
 * after N part files appear in the staging directory, or after a delay.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { listDataset, verifyDataset } from '../../stages/io/manifest-read.js';
import { mergeStatsFiles, statePathFor } from '../../stages/stats/stats-files.js';
import { mulberry32 } from '../helpers/mulberry32.js';
import { contentOf, digest, interactions, killWhen, ratingsCsv, readManifestJson, runStages, spawnCli, stagedParts, stagingDirs, tmpDir } from './dataset-helpers.js';

const rand = mulberry32(20261203);
const delay = () => 300 + Math.floor(rand() * 3700);
/** A kill point: after `parts` staged part files, or `ms` after the clock starts (`staged`: when the staging directory appears). */
interface KillPoint {
  parts?: number;
  ms?: number;
  staged?: boolean;
}
const describePoint = (p: KillPoint) =>
  p.parts !== undefined ? `${p.parts} staged part file(s)` : p.staged ? `${p.ms} ms after its staging directory appeared` : `${p.ms} ms`;

async function killAt(child: ReturnType<typeof spawnCli>, target: string, p: KillPoint) {
  const r = await killWhen(child, () => p.parts !== undefined && stagedParts(target) >= p.parts, p.ms ?? 120_000, () => !p.staged || stagingDirs(target).length > 0);
  // A kill on a count of staged parts happens mid-write, always.
  if (p.parts !== undefined) expect(r.signal).toBe('SIGKILL');
  return r;
}

let db: DuckDBInstance;
let root: string;
let csvOld: string;
let csvNew: string;
let interactionsDir: string;
let interactionsOld: string;

const INGEST = (csv: string, out: string) => ({ path: csv, output: out, rows_per_file: 5000, mode: 'quarantine', arrow_ipc: path.join(out, 'all.arrow') });
const INGEST_ARGS = (csv: string, out: string) => Object.entries(INGEST(csv, out)).flatMap(([k, v]) => ['--opt', `${k}=${v}`]);

let ingestRef: ReturnType<typeof contentOf>;
let writeRef: ReturnType<typeof contentOf>;
let splitRef: ReturnType<typeof contentOf>;
let statsRef: { summary: string; state: string };

beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  root = tmpDir('kill');
  csvOld = ratingsCsv(path.join(root, 'old.csv'), 2000, 1);
  csvNew = ratingsCsv(path.join(root, 'new.csv'), 150_000, 2);
  fs.appendFileSync(csvNew, 'u1,i1,not-a-number,1\n');
  await runStages([{ stage: 'ingest', with: INGEST(csvNew, path.join(root, 'ref-ingest')) }], path.join(root, 'run-ref'));
  ingestRef = contentOf(path.join(root, 'ref-ingest'));

  interactionsDir = path.join(root, 'interactions');
  const w = new DatasetWriter(interactionsDir, { rowsPerFile: 50_000 });
  w.write(interactions(200_000, 7, 4000));
  w.close();
  interactionsOld = path.join(root, 'interactions-old');
  const w2 = new DatasetWriter(interactionsOld, {});
  w2.write(interactions(3000, 8, 300));
  w2.close();

  await runStages([{ stage: 'read_parquet', with: { path: interactionsDir } }, { stage: 'write_parquet', with: { path: path.join(root, 'ref-write'), rows_per_file: 4000 } }], path.join(root, 'run-ref'));
  writeRef = contentOf(path.join(root, 'ref-write'));
  await runStages([{ stage: 'read_parquet', with: { path: interactionsDir } }, { stage: 'split_sequences', with: { output: path.join(root, 'ref-split') } }], path.join(root, 'run-ref'));
  splitRef = contentOf(path.join(root, 'ref-split'));
  const refStats = path.join(root, 'ref-stats', 'reward_stats.json');
  await runStages([{ stage: 'read_parquet', with: { path: interactionsDir } }, { stage: 'reward_stats', with: { path: refStats } }], path.join(root, 'run-ref'));
  statsRef = { summary: fs.readFileSync(refStats, 'utf8'), state: fs.readFileSync(statePathFor(refStats), 'utf8') };
}, 120_000);

afterAll(() => db.closeSync());

async function duckRows(dir: string): Promise<number> {
  const con = await db.connect();
  try {
    const glob = readManifestJson(dir).partitionBy ? `${dir}/*/*.parquet` : `${dir}/*.parquet`;
    return Number((await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${glob}')`)).getRows()[0]![0]);
  } finally {
    con.closeSync();
  }
}

/**
 * After a kill: a reader lists the target (restoring it if the kill fell in
 * a swap), and it is byte-identical to `old` or holds what the uninterrupted
 * run wrote. Returns which.
 */
async function oldOrNew(target: string, old: Record<string, string> | null, ref: ReturnType<typeof contentOf>): Promise<'old' | 'new'> {
  listDataset(target);
  await verifyDataset(target, { hashes: true });
  const now = digest(target);
  if (JSON.stringify(now) === JSON.stringify(old)) return 'old';
  expect(contentOf(target)).toEqual(ref);
  return 'new';
}

async function rerunEqualsReference(target: string, stages: Parameters<typeof runStages>[0], ref: ReturnType<typeof contentOf>): Promise<void> {
  await runStages(stages, path.join(root, `run-${path.basename(target)}-again`));
  expect(contentOf(target)).toEqual(ref);
  expect(stagingDirs(target)).toEqual([]);
  expect(await duckRows(target)).toBe(readManifestJson(target).rows);
}

describe('ingest killed', () => {
  const points: KillPoint[] = [
    { parts: 1 + Math.floor(rand() * 3) },
    { parts: 8 + Math.floor(rand() * 10) },
    { staged: true, ms: Math.floor(rand() * 400) },
    { ms: delay() },
  ];
  for (const [k, p] of points.entries()) {
    it(`after ${describePoint(p)}: old or new dataset, never a mixture; the rerun equals an uninterrupted run`, async () => {
      const target = path.join(root, `ingest-${k}`);
      await runStages([{ stage: 'ingest', with: INGEST(csvOld, target) }], path.join(root, `run-ingest-${k}`));
      const old = digest(target);
      const child = spawnCli(['stage', 'ingest', ...INGEST_ARGS(csvNew, target), '--out', path.join(root, `cli-ingest-${k}`), '--quiet']);
      await killAt(child, target, p);
      const was = await oldOrNew(target, old, ingestRef);
      if (p.parts !== undefined) expect(was).toBe('old');
      await rerunEqualsReference(target, [{ stage: 'ingest', with: INGEST(csvNew, target) }], ingestRef);
    });
  }
});

describe('write_parquet killed', () => {
  const points: KillPoint[] = [{ parts: 2 + Math.floor(rand() * 20) }, { staged: true, ms: Math.floor(rand() * 600) }, { ms: delay() }];
  for (const [k, p] of points.entries()) {
    it(`after ${describePoint(p)}: old or new, and the rerun equals an uninterrupted run`, async () => {
      const target = path.join(root, `write-${k}`);
      await runStages([{ stage: 'read_parquet', with: { path: interactionsOld } }, { stage: 'write_parquet', with: { path: target, rows_per_file: 4000 } }], path.join(root, `run-w-${k}`));
      const old = digest(target);
      const child = spawnCli(['stage', 'write_parquet', '--input', interactionsDir, '--opt', `path=${target}`, '--opt', 'rows_per_file=4000', '--out', path.join(root, `cli-w-${k}`), '--quiet']);
      await killAt(child, target, p);
      const was = await oldOrNew(target, old, writeRef);
      if (p.parts !== undefined) expect(was).toBe('old');
      await rerunEqualsReference(target, [{ stage: 'read_parquet', with: { path: interactionsDir } }, { stage: 'write_parquet', with: { path: target, rows_per_file: 4000 } }], writeRef);
    });
  }
});

describe('split_sequences killed', () => {
  const points: KillPoint[] = [{ parts: 1 }, { ms: delay() }];
  for (const [k, p] of points.entries()) {
    it(`after ${describePoint(p)}: old or new examples dataset, and the rerun equals an uninterrupted run`, async () => {
      const target = path.join(root, `split-${k}`);
      await runStages([{ stage: 'read_parquet', with: { path: interactionsOld } }, { stage: 'split_sequences', with: { output: target } }], path.join(root, `run-s-${k}`));
      const old = digest(target);
      const child = spawnCli(['stage', 'split_sequences', '--input', interactionsDir, '--opt', `output=${target}`, '--out', path.join(root, `cli-s-${k}`), '--quiet']);
      await killAt(child, target, p);
      const was = await oldOrNew(target, old, splitRef);
      if (p.parts !== undefined) expect(was).toBe('old');
      await rerunEqualsReference(target, [{ stage: 'read_parquet', with: { path: interactionsDir } }, { stage: 'split_sequences', with: { output: target } }], splitRef);
    });
  }
});

describe('reward_stats killed', () => {
  const points = [delay(), delay()];
  for (const [k, ms] of points.entries()) {
    it(`after ${ms} ms: the summary is the old or the new one, a mismatched state is refused, the rerun equals an uninterrupted run`, async () => {
      const dir = path.join(root, `stats-${k}`);
      const summary = path.join(dir, 'reward_stats.json');
      await runStages([{ stage: 'read_parquet', with: { path: interactionsOld } }, { stage: 'reward_stats', with: { path: summary } }], path.join(root, `run-r-${k}`));
      const old = { summary: fs.readFileSync(summary, 'utf8'), state: fs.readFileSync(statePathFor(summary), 'utf8') };
      const child = spawnCli(['stage', 'reward_stats', '--input', interactionsDir, '--opt', `path=${summary}`, '--out', path.join(root, `cli-r-${k}`), '--quiet']);
      await killWhen(child, () => false, ms);
      const now = { summary: fs.readFileSync(summary, 'utf8'), state: fs.readFileSync(statePathFor(summary), 'utf8') };
      expect([old.summary, statsRef.summary]).toContain(now.summary);
      expect([old.state, statsRef.state]).toContain(now.state);
      if ((now.summary === old.summary) !== (now.state === old.state)) {
        // The kill fell between the two renames: merging the pair is refused rather than mixing two runs.
        expect(() => mergeStatsFiles([summary], path.join(dir, 'merged.json'))).toThrow('is not the state written with');
      } else mergeStatsFiles([summary], path.join(dir, 'merged.json'));
      expect(fs.readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
      await runStages([{ stage: 'read_parquet', with: { path: interactionsDir } }, { stage: 'reward_stats', with: { path: summary } }], path.join(root, `run-r-${k}-again`));
      expect(fs.readFileSync(summary, 'utf8')).toBe(statsRef.summary);
      expect(fs.readFileSync(statePathFor(summary), 'utf8')).toBe(statsRef.state);
    });
  }
});
