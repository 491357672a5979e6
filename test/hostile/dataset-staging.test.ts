/**
 * Writers never delete what they did not write, refuse input = output, leave
 * the previous dataset whole when they fail, and recover what an interrupted
 * writer left; readers tell an unfinished directory from a foreign one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { recoverInterrupted } from '../../stages/io/manifest-staging.js';
import { listDataset } from '../../stages/io/manifest-read.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { digest, interactions, ratingsCsv, readManifestJson, runCli, runStages, stagingDirs, tmpDir } from './dataset-helpers.js';

let db: DuckDBInstance;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
});
afterAll(() => db.closeSync());

async function duckCount(glob: string): Promise<number> {
  const con = await db.connect();
  try {
    const rows = (await con.runAndReadAll(`SELECT count(*) FROM read_parquet('${glob}')`)).getRows();
    return Number(rows[0]![0]);
  } finally {
    con.closeSync();
  }
}

function dataset(out: string, rows: number, seed: number, rowsPerFile = 10): void {
  const w = new DatasetWriter(out, { rowsPerFile });
  w.write(interactions(rows, seed));
  w.close();
}

const rowsOf = async (p: string) => (await readParquetAll(p)).reduce((s, b) => s + b.numRows, 0);

/** A PID that is not running (the largest possible, above any pid_max in use). */
const DEAD_PID = 4194303;

describe('writers never delete files they did not write', () => {
  it('refuse an output directory holding other files and no manifest (exit 2 from the CLI), leaving it as it was', async () => {
    const d = tmpDir('foreign');
    const src = path.join(d, 'src');
    dataset(src, 20, 1);
    const out = path.join(d, 'mine');
    fs.mkdirSync(path.join(out, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(out, 'notes.txt'), 'my notes');
    fs.writeFileSync(path.join(out, 'sub', 'data.csv'), '1,2\n');
    const before = digest(out);
    expect(() => new DatasetWriter(out)).toThrow(DatasetError);
    const r = await runCli(['stage', 'reward_stats', '--input', src, '--output', out, '--out', path.join(d, 'run'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: write_parquet: output ${out} exists and is not a recpost dataset (it holds notes.txt, sub/data.csv and no _manifest.json); recpost never deletes files it did not write: choose another output or empty it\n`,
    );
    expect(digest(out)).toEqual(before);
    expect(stagingDirs(out)).toEqual([]);
  });

  it('refuse a recpost dataset that also holds files its manifest does not list (the user notes are kept, the dataset too)', () => {
    const d = tmpDir('foreign');
    const out = path.join(d, 'ds');
    dataset(out, 30, 2);
    fs.writeFileSync(path.join(out, 'README.md'), 'what this dataset is');
    const before = digest(out);
    expect(() => new DatasetWriter(out, { stage: 'write_parquet' })).toThrow(
      `write_parquet: output ${out} is a recpost dataset but also holds files its manifest does not list (README.md); recpost never deletes files it did not write: move them away or choose another output`,
    );
    expect(digest(out)).toEqual(before);
  });

  it('ingest refuses an output holding user files before reading anything', async () => {
    const d = tmpDir('foreign');
    const out = path.join(d, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.parquet'), 'not mine');
    await expect(runStages([{ stage: 'ingest', with: { path: ratingsCsv(path.join(d, 'in.csv'), 10), output: out } }], path.join(d, 'run'))).rejects.toThrow(
      /^ingest: output .* exists and is not a recpost dataset \(it holds keep\.parquet and no _manifest\.json\)/,
    );
    expect(fs.readdirSync(out)).toEqual(['keep.parquet']);
  });

  it('refuse an output that is a file', () => {
    const d = tmpDir('foreign');
    const f = path.join(d, 'file');
    fs.writeFileSync(f, 'x');
    expect(() => new DatasetWriter(f, { stage: 'write_parquet' })).toThrow(`write_parquet: output ${f} exists and is not a directory; choose a directory path for the dataset`);
    expect(fs.readFileSync(f, 'utf8')).toBe('x');
  });

  it('refuse an output below a file (no parent directory can be made): one line, nothing written', () => {
    const d = tmpDir('foreign');
    const f = path.join(d, 'file');
    fs.writeFileSync(f, 'x');
    expect(() => new DatasetWriter(path.join(f, 'ds'), { stage: 'write_parquet' })).toThrow(
      new RegExp(`^write_parquet: cannot create the parent directory of the output ${f}/ds \\((ENOTDIR|EEXIST)\\); choose a writable location$`),
    );
    expect(fs.readdirSync(d)).toEqual(['file']);
  });

  it('two writers of the same output in one run: the second is refused, the first still commits', async () => {
    const d = tmpDir('foreign');
    const out = path.join(d, 'ds');
    const first = new DatasetWriter(out, { stage: 'write_parquet' });
    expect(() => new DatasetWriter(out, { stage: 'split_sequences' })).toThrow(`split_sequences: output ${out} is already being written by write_parquet in this run; choose another output`);
    first.write(interactions(12, 1));
    first.close();
    expect(await rowsOf(out)).toBe(12);
  });

  it('replace an empty directory and a previous recpost dataset, whose stale parts do not survive', async () => {
    const d = tmpDir('replace');
    const empty = path.join(d, 'empty');
    fs.mkdirSync(empty);
    dataset(empty, 5, 1);
    expect(await rowsOf(empty)).toBe(5);
    const out = path.join(d, 'ds');
    dataset(out, 100, 1, 10);
    dataset(out, 15, 2, 10);
    expect(fs.readdirSync(out).sort()).toEqual(['_manifest.json', 'part-00000.parquet', 'part-00001.parquet']);
    expect(await duckCount(`${out}/*.parquet`)).toBe(15);
    expect(stagingDirs(out)).toEqual([]);
  });

  it('replace the leftovers of an unfinished writer of an earlier version (part files and temporaries, no manifest)', async () => {
    const d = tmpDir('leftover');
    const out = path.join(d, 'ds');
    fs.mkdirSync(out);
    writeParquetFile(path.join(out, 'part-00000.parquet'), [interactions(7, 1)]);
    writeParquetFile(path.join(out, 'part-00001.parquet'), [interactions(7, 2)]);
    fs.writeFileSync(path.join(out, 'part-00002.parquet.tmp-12345'), 'half');
    dataset(out, 12, 3, 100);
    expect(fs.readdirSync(out).sort()).toEqual(['_manifest.json', 'part-00000.parquet']);
    expect(await duckCount(`${out}/*.parquet`)).toBe(12);
  });
});

describe('input equal to output is refused', () => {
  it('`recpost stage reward_stats --input D --output D`: exit 2, D unchanged', async () => {
    const d = tmpDir('same');
    const ds = path.join(d, 'D');
    dataset(ds, 40, 1);
    const before = digest(ds);
    const r = await runCli(['stage', 'reward_stats', '--input', ds, '--output', ds, '--out', path.join(d, 'run'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: read_parquet: input ${ds} is also the output of write_parquet (${ds}); input equal to output is refused: write to another directory\n`);
    expect(digest(ds)).toEqual(before);
    expect(stagingDirs(ds)).toEqual([]);
  });

  it('the same real path through a symbolic link', async () => {
    const d = tmpDir('same');
    const ds = path.join(d, 'D');
    dataset(ds, 40, 1);
    fs.symlinkSync(ds, path.join(d, 'alias'));
    await expect(
      runStages(
        [
          { stage: 'read_parquet', with: { path: path.join(d, 'alias') } },
          { stage: 'write_parquet', with: { path: ds } },
        ],
        path.join(d, 'run'),
      ),
    ).rejects.toThrow(/input equal to output is refused/);
    expect(await rowsOf(ds)).toBe(40);
  });

  it('split_sequences writing its examples over its own input', async () => {
    const d = tmpDir('same');
    const ds = path.join(d, 'D');
    dataset(ds, 40, 1);
    const before = digest(ds);
    await expect(
      runStages(
        [
          { stage: 'read_parquet', with: { path: ds } },
          { stage: 'split_sequences', with: { output: ds } },
        ],
        path.join(d, 'run'),
      ),
    ).rejects.toThrow(`read_parquet: input ${ds} is also the output of split_sequences`);
    expect(digest(ds)).toEqual(before);
  });

  it('ingest of a dataset into itself', async () => {
    const d = tmpDir('same');
    const out = path.join(d, 'ds');
    await runStages([{ stage: 'ingest', with: { path: ratingsCsv(path.join(d, 'in.csv'), 10), output: out } }], path.join(d, 'run'));
    await expect(runStages([{ stage: 'ingest', with: { path: out, output: out } }], path.join(d, 'run2'))).rejects.toThrow(/lies inside the output directory/);
    expect(await rowsOf(out)).toBe(10);
  });
});

describe('a failed run leaves the previous dataset whole', () => {
  it('a strict ingest stopping at a bad row: previous dataset byte-identical, no staging left', async () => {
    const d = tmpDir('failed');
    const out = path.join(d, 'ds');
    await runStages([{ stage: 'ingest', with: { path: ratingsCsv(path.join(d, 'a.csv'), 30, 1), output: out, mode: 'quarantine' } }], path.join(d, 'run'));
    const before = digest(out);
    const bad = ratingsCsv(path.join(d, 'b.csv'), 50, 2);
    fs.appendFileSync(bad, 'u1,i1,x,1\n');
    await expect(runStages([{ stage: 'ingest', with: { path: bad, output: out, rows_per_file: 10 } }], path.join(d, 'run2'))).rejects.toThrow(/field "reward"/);
    expect(digest(out)).toEqual(before);
    expect(stagingDirs(out)).toEqual([]);
  });

  it('write_parquet whose input fails half-way (a tampered part): previous dataset byte-identical', async () => {
    const d = tmpDir('failed');
    const src = path.join(d, 'src');
    dataset(src, 50, 1, 10);
    fs.truncateSync(path.join(src, 'part-00003.parquet'), 100);
    const out = path.join(d, 'out');
    dataset(out, 20, 5);
    const before = digest(out);
    await expect(runStages([{ stage: 'read_parquet', with: { path: src } }, { stage: 'write_parquet', with: { path: out } }], path.join(d, 'run'))).rejects.toThrow(
      /part-00003\.parquet: 100 bytes, but the manifest lists/,
    );
    expect(digest(out)).toEqual(before);
    expect(stagingDirs(out)).toEqual([]);
  });
});

describe('leftovers of an interrupted writer', () => {
  it('a kill between the two renames of a swap: the previous dataset is restored by the next reader', async () => {
    const d = tmpDir('swap');
    const out = path.join(d, 'ds');
    dataset(out, 33, 1);
    const before = digest(out);
    fs.renameSync(out, `${out}.old-${DEAD_PID}-0badc0de`);
    fs.mkdirSync(`${out}.staging-${DEAD_PID}-0badc0df`);
    expect(await rowsOf(out)).toBe(33);
    expect(digest(out)).toEqual(before);
  });

  it('staging directories of dead writers are removed by the next writer; a live writer’s are left alone', () => {
    const d = tmpDir('swap');
    const out = path.join(d, 'ds');
    const dead = `${out}.staging-${DEAD_PID}-12345678`;
    const live = `${out}.staging-${process.ppid}-87654321`;
    for (const s of [dead, live]) {
      fs.mkdirSync(s);
      fs.writeFileSync(path.join(s, 'part-00000.parquet'), 'partial');
    }
    dataset(out, 10, 1);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    expect(recoverInterrupted(out)).toEqual([]);
  });

  it('an .old- dataset beside a complete target is removed; an .old- directory without a manifest is not ours and stays', () => {
    const d = tmpDir('swap');
    const out = path.join(d, 'ds');
    dataset(out, 10, 1);
    const oldOurs = `${out}.old-${DEAD_PID}-aaaaaaaa`;
    dataset(oldOurs, 5, 2);
    const notOurs = `${out}.old-${DEAD_PID}-bbbbbbbb`;
    fs.mkdirSync(notOurs);
    fs.writeFileSync(path.join(notOurs, 'x.txt'), 'x');
    expect(recoverInterrupted(out)).toEqual([`removed the previous dataset left by an interrupted swap: ${oldOurs}`]);
    expect(fs.existsSync(notOurs)).toBe(true);
  });
});

describe('readers tell unfinished, foreign and empty datasets apart', () => {
  it('recpost part files without a manifest: an error saying the writer did not finish (exit 2 from the CLI)', async () => {
    const d = tmpDir('unfinished');
    const dir = path.join(d, 'half');
    fs.mkdirSync(dir);
    for (let k = 0; k < 4; k++) writeParquetFile(path.join(dir, `part-0000${k}.parquet`), [interactions(5, k)]);
    expect(() => listDataset(dir)).toThrow(
      `${dir}: recpost files (part-00000.parquet, part-00001.parquet) but no _manifest.json: the writer that made this directory did not finish; rerun it`,
    );
    const r = await runCli(['stage', 'reward_stats', '--input', dir, '--out', path.join(d, 'run'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the writer that made this directory did not finish; rerun it');
  });

  it('a staging directory given as input is unfinished too', () => {
    const d = tmpDir('unfinished');
    const s = path.join(d, 'ds.staging-1234-abcdef01');
    fs.mkdirSync(s);
    fs.writeFileSync(path.join(s, 'x.parquet'), 'x');
    expect(() => listDataset(s)).toThrow(/a staging directory\) but no _manifest\.json: the writer that made this directory did not finish/);
  });

  it('a directory written by DuckDB reads with a one-line notice, every row', async () => {
    const d = tmpDir('duck');
    const dir = path.join(d, 'duck');
    const con = await db.connect();
    try {
      await con.run(
        `COPY (SELECT (i % 7 + 1)::INTEGER AS user_id, (i % 11 + 1)::INTEGER AS item_id, i::BIGINT AS timestamp, (i % 5)::FLOAT AS reward, (i % 2)::INTEGER AS part FROM range(300) t(i)) TO '${dir}' (FORMAT parquet, PARTITION_BY (part))`,
      );
    } finally {
      con.closeSync();
    }
    const r = await runStages([{ stage: 'read_parquet', with: { path: dir } }], path.join(d, 'run'));
    expect(r.stages[0]!.rowsOut).toBe(300);
    const notices = r.logs.filter((l) => l.includes('_manifest.json'));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`^warning: read_parquet: ${dir}: no _manifest\\.json \\(not written by recpost\\): reading its 2 \\.parquet file\\(s\\) in name order, unverified$`));
  });

  it('an empty complete dataset reads as zero batches and flows through read_parquet → write_parquet into another empty dataset', async () => {
    const d = tmpDir('empty');
    const a = path.join(d, 'a');
    new DatasetWriter(a, { table: 'interactions' }).close();
    const b = path.join(d, 'b');
    const r = await runStages([{ stage: 'read_parquet', with: { path: a } }, { stage: 'write_parquet', with: { path: b } }], path.join(d, 'run'));
    expect(r.stages.map((s) => s.rowsOut)).toEqual([0, 0]);
    const m = readManifestJson(b);
    expect([m.rows, m.files]).toEqual([0, []]);
    expect(await readParquetAll(b)).toEqual([]);
  });

  it('a directory with neither manifest nor .parquet files is not a dataset', () => {
    const d = tmpDir('empty');
    fs.writeFileSync(path.join(d, 'a.txt'), 'x');
    expect(() => listDataset(d)).toThrow(`${d}: no .parquet files and no _manifest.json: not a dataset`);
  });
});
