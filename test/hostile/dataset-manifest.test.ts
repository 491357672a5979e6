/**
 * The manifest lists every file of a dataset (rows, bytes, SHA-256, schema,
 * writer), and readers refuse a dataset whose files no longer match it, with
 * one located line (exit 2 from the CLI).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetWriter } from '../../stages/io/dataset-writer.js';
import { DatasetError } from '../../stages/io/manifest.js';
import { listDataset, verifyDataset } from '../../stages/io/manifest-read.js';
import { readParquetAll, writeParquetFile } from '../../stages/io/parquet.js';
import { digest, interactions, ratingsCsv, readManifestJson, runCli, runStages, tmpDir } from './dataset-helpers.js';

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A 3-part dataset of 25 rows (10 + 10 + 5) at <dir>/ds. */
function smallDataset(dir: string, name = 'ds'): string {
  const out = path.join(dir, name);
  const w = new DatasetWriter(out, { rowsPerFile: 10, compression: 'snappy' });
  w.write(interactions(25, 3));
  w.close();
  return out;
}

interface EditableManifest {
  rows: number;
  format?: string;
  files: { path: string; rows: number; sha256?: string }[];
  [key: string]: unknown;
}

function editManifest(dir: string, edit: (m: EditableManifest) => void): void {
  const file = path.join(dir, '_manifest.json');
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as EditableManifest;
  edit(m);
  fs.writeFileSync(file, JSON.stringify(m));
}

async function readError(p: string): Promise<DatasetError> {
  try {
    await readParquetAll(p);
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error(`reading ${p} succeeded`);
}

describe('the manifest lists every file', () => {
  it('of an ingest: parts, vocabularies, quarantine and Arrow IPC file, each with rows, bytes and the SHA-256 of its bytes', async () => {
    const d = tmpDir('manifest');
    const csv = ratingsCsv(path.join(d, 'in.csv'), 57, 2);
    fs.appendFileSync(csv, 'u1,i1,notanumber,5\n');
    const out = path.join(d, 'ds');
    await runStages(
      [{ stage: 'ingest', with: { path: csv, output: out, rows_per_file: 20, mode: 'quarantine', arrow_ipc: path.join(out, 'all.arrow') } }],
      path.join(d, 'run'),
    );
    const m = readManifestJson(out);
    const listed = [...m.files.map((f) => f.path), ...m.side_files!.map((f) => f.path)].sort();
    const onDisk = Object.keys(digest(out)!).filter((f) => f !== '_manifest.json');
    expect(listed).toEqual(onDisk);
    expect(m.files.map((f) => [f.path, f.rows])).toEqual([
      ['part-00000.parquet', 20],
      ['part-00001.parquet', 20],
      ['part-00002.parquet', 17],
    ]);
    expect(m.rows).toBe(57);
    for (const f of [...m.files, ...m.side_files!]) {
      expect(f.sha256).toBe(sha(path.join(out, f.path)));
      expect(f.bytes).toBe(fs.statSync(path.join(out, f.path)).size);
    }
    const side = Object.fromEntries(m.side_files!.map((f) => [f.path, [f.role, f.rows]]));
    expect(side).toEqual({
      '_quarantine/rejected.jsonl': ['quarantine', 1],
      'all.arrow': ['arrow_ipc', 57],
      'vocab/items.parquet': ['vocabulary', side['vocab/items.parquet']![1]],
      'vocab/users.parquet': ['vocabulary', 57 < 300 ? 57 : 300],
    });
    expect(m.schema!.map((f) => `${f.name}:${f.type}`)).toEqual(['user_id:Int32', 'item_id:Int32', 'timestamp:Int64', 'reward:Float32']);
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(m.writer).toEqual({ name: 'recpost', version: pkg.version, stage: 'ingest' });
    expect(m.format).toBe('recpost.dataset');
  });

  it('of a partitioned dataset, with "/" paths, per-part hashes and a row total that adds up', async () => {
    const d = tmpDir('manifest');
    const out = path.join(d, 'ex');
    const b = interactions(30, 4);
    b.columns.split = Int8Array.from({ length: 30 }, (_, i) => i % 3);
    const w = new DatasetWriter(out, { partitionBy: 'split', rowsPerFile: 4 });
    w.write(b);
    const m = w.close();
    const byPath = Object.fromEntries(m.files.map((f) => [f.path, f.rows]));
    const want: Record<string, number> = {};
    for (const s of ['train', 'valid', 'test'])
      for (const [k, rows] of [
        ['00000', 4],
        ['00001', 4],
        ['00002', 2],
      ] as const)
        want[`split=${s}/part-${k}.parquet`] = rows;
    expect(byPath).toEqual(want);
    expect(m.rows).toBe(30);
    for (const f of m.files) expect(f.sha256).toBe(sha(path.join(out, f.path)));
    expect(await verifyDataset(out, { hashes: true })).toEqual(m);
  });

  it('of an empty dataset: zero parts, zero rows, the schema it was given', async () => {
    const d = tmpDir('manifest');
    const out = path.join(d, 'empty');
    const w = new DatasetWriter(out, { schemaOf: { ...interactions(0), numRows: 0 } });
    const m = w.close();
    expect([m.rows, m.files.length, m.table]).toEqual([0, 0, 'interactions']);
    expect(m.schema!.map((f) => f.name)).toEqual(['user_id', 'item_id', 'timestamp', 'reward']);
    expect(await readParquetAll(out)).toEqual([]);
  });
});

describe('a tampered dataset is a located error', () => {
  it('a removed part', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    fs.rmSync(path.join(ds, 'part-00001.parquet'));
    expect((await readError(ds)).message).toBe(
      `${ds}/part-00001.parquet: listed in ${ds}/_manifest.json but missing; the dataset was changed after it was written; rerun the writer`,
    );
  });

  it('an extra part the manifest does not list (it would be read by SELECT * FROM dir/*.parquet)', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    fs.copyFileSync(path.join(ds, 'part-00000.parquet'), path.join(ds, 'part-00003.parquet'));
    expect((await readError(ds)).message).toMatch(new RegExp(`^${ds}/part-00003\\.parquet: a Parquet file that ${ds}/_manifest\\.json does not list`));
  });

  it("a part's row count changed in the manifest (total kept consistent)", async () => {
    const ds = smallDataset(tmpDir('tamper'));
    editManifest(ds, (m) => {
      m.files[2]!.rows = 6;
      m.rows = 26;
    });
    expect((await readError(ds)).message).toBe(
      `${ds}/part-00002.parquet: holds 5 rows, but the dataset's manifest lists 6; the dataset was changed after it was written; rerun the writer`,
    );
  });

  it('a total row count that the parts do not add up to', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    editManifest(ds, (m) => (m.rows = 24));
    expect((await readError(ds)).message).toBe(
      `${ds}/_manifest.json: "rows" is 24 but the parts listed hold 25; the manifest was edited or is corrupt (rerun the writer)`,
    );
  });

  it('an entry "../x" leaving the dataset directory, even when that file exists', async () => {
    const d = tmpDir('tamper');
    const ds = smallDataset(d);
    writeParquetFile(path.join(d, 'x.parquet'), [interactions(10, 9)]);
    editManifest(ds, (m) => (m.files[0]!.path = '../x.parquet'));
    expect((await readError(ds)).message).toBe(
      `${ds}/_manifest.json: files[0] "../x.parquet": the path leaves the dataset directory; the manifest was edited or is corrupt (rerun the writer)`,
    );
  });

  it('an absolute path entry', async () => {
    const d = tmpDir('tamper');
    const ds = smallDataset(d);
    editManifest(ds, (m) => (m.files[1]!.path = path.join(d, 'elsewhere.parquet')));
    expect((await readError(ds)).message).toContain(`files[1] "${path.join(d, 'elsewhere.parquet')}": an absolute path`);
  });

  it('a truncated part', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    const f = path.join(ds, 'part-00000.parquet');
    const size = fs.statSync(f).size;
    fs.truncateSync(f, size - 7);
    expect((await readError(ds)).message).toBe(
      `${f}: ${size - 7} bytes, but the manifest lists ${size} (truncated or rewritten); the dataset was changed after it was written; rerun the writer`,
    );
  });

  it('a part replaced by a symbolic link to a file outside the dataset', async () => {
    const d = tmpDir('tamper');
    const ds = smallDataset(d);
    const f = path.join(ds, 'part-00002.parquet');
    fs.renameSync(f, path.join(d, 'moved.parquet'));
    fs.symlinkSync(path.join(d, 'moved.parquet'), f);
    expect((await readError(ds)).message).toBe(
      `${f}: a link leading outside the dataset directory ${ds}; the dataset was changed after it was written; rerun the writer`,
    );
  });

  it('the same part listed twice', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    editManifest(ds, (m) => {
      m.files[1] = { ...m.files[0]! };
      m.rows = 25;
      m.files[2]!.rows = 5;
    });
    expect((await readError(ds)).message).toContain(`files[1] "part-00000.parquet" is listed twice`);
  });

  it('a manifest that is not JSON', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    fs.writeFileSync(path.join(ds, '_manifest.json'), '{"files": [');
    expect((await readError(ds)).message).toMatch(new RegExp(`^${ds}/_manifest\\.json: not a readable JSON manifest \\(.+\\); rerun the writer$`));
  });

  it('a manifest of another format', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    editManifest(ds, (m) => (m.format = 'spark'));
    expect((await readError(ds)).message).toContain('format is "spark", expected "recpost.dataset"');
  });

  it('a side file (vocabulary) removed', async () => {
    const d = tmpDir('tamper');
    const out = path.join(d, 'ds');
    await runStages([{ stage: 'ingest', with: { path: ratingsCsv(path.join(d, 'in.csv'), 30), output: out } }], path.join(d, 'run'));
    fs.rmSync(path.join(out, 'vocab', 'items.parquet'));
    expect((await readError(out)).message).toBe(
      `${out}/vocab/items.parquet: listed in ${out}/_manifest.json but missing; the dataset was changed after it was written; rerun the writer`,
    );
  });

  it('a flipped byte of the same size: caught by the hash check (verifyDataset with hashes), which readers skip for speed', async () => {
    const ds = smallDataset(tmpDir('tamper'));
    const f = path.join(ds, 'part-00001.parquet');
    const bytes = fs.readFileSync(f);
    bytes[10] = bytes[10]! ^ 0xff;
    fs.writeFileSync(f, bytes);
    expect(listDataset(ds).parts).toHaveLength(3);
    await expect(verifyDataset(ds, { hashes: true })).rejects.toThrow(`${f}: content differs from the SHA-256 in the manifest`);
  });

  it('through the CLI: exit 2 and one line naming the file', async () => {
    const d = tmpDir('tamper');
    const ds = smallDataset(d);
    fs.rmSync(path.join(ds, 'part-00002.parquet'));
    const r = await runCli(['stage', 'reward_stats', '--input', ds, '--opt', `path=${path.join(d, 'stats.json')}`, '--out', path.join(d, 'run'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `recpost: ${ds}/part-00002.parquet: listed in ${ds}/_manifest.json but missing; the dataset was changed after it was written; rerun the writer\n`,
    );
    expect(fs.existsSync(path.join(d, 'stats.json'))).toBe(false);
  });
});

describe('reading parts of a dataset', () => {
  it('a partition directory reads the parts its parent manifest lists there, checked', async () => {
    const d = tmpDir('partition');
    const out = path.join(d, 'ex');
    const b = interactions(30, 4);
    b.columns.split = Int8Array.from({ length: 30 }, (_, i) => (i < 20 ? 0 : 2));
    const w = new DatasetWriter(out, { partitionBy: 'split', rowsPerFile: 8 });
    w.write(b);
    w.close();
    const test = await readParquetAll(path.join(out, 'split=test'));
    expect(test.reduce((s, x) => s + x.numRows, 0)).toBe(10);
    fs.truncateSync(path.join(out, 'split=test', 'part-00001.parquet'), 10);
    expect((await readError(path.join(out, 'split=test'))).message).toContain('split=test/part-00001.parquet: 10 bytes, but the manifest lists');
  });

  it('a manifest of the first version (no hashes, parts only) is still read and row-checked', async () => {
    const ds = smallDataset(tmpDir('legacy'));
    editManifest(ds, (m) => {
      for (const k of ['format', 'version', 'writer', 'schema']) delete m[k];
      for (const f of m.files) delete f.sha256;
    });
    expect((await readParquetAll(ds)).reduce((s, b) => s + b.numRows, 0)).toBe(25);
    editManifest(ds, (m) => {
      m.files[0]!.rows = 9;
      m.rows = 24;
    });
    expect((await readError(ds)).message).toContain("holds 10 rows, but the dataset's manifest lists 9");
  });

  it('an ingest output of the first version (vocab/ not listed) reads, and a new ingest may replace it', async () => {
    const d = tmpDir('legacy');
    const out = path.join(d, 'ds');
    await runStages([{ stage: 'ingest', with: { path: ratingsCsv(path.join(d, 'a.csv'), 30, 1), output: out, mode: 'quarantine' } }], path.join(d, 'run'));
    editManifest(out, (m) => {
      for (const k of ['format', 'version', 'writer', 'schema', 'side_files']) delete m[k];
      for (const f of m.files) delete f.sha256;
    });
    expect((await readParquetAll(out)).reduce((s, b) => s + b.numRows, 0)).toBe(30);
    await runStages([{ stage: 'ingest', with: { path: ratingsCsv(path.join(d, 'b.csv'), 12, 2), output: out } }], path.join(d, 'run2'));
    expect(readManifestJson(out).rows).toBe(12);
    expect(fs.existsSync(path.join(out, '_quarantine'))).toBe(false);
  });
});
