/**
 * Hostile command lines, each run as a real child process: the exit code and
 * the exact one-line message (`recpost: …`) a user sees.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from '../../stages/core/batch.js';
import { writeParquetFile } from '../../stages/io/parquet.js';
import { positionOf, recpost, removeTmpDirs, tmpDir } from './helpers.js';

const VERSION = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;

function interactions(n: number): Batch {
  return {
    table: 'interactions',
    numRows: n,
    columns: {
      user_id: Int32Array.from({ length: n }, (_, i) => 1 + (i % 7)),
      item_id: Int32Array.from({ length: n }, (_, i) => 1 + ((i * 3) % 11)),
      timestamp: BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + i)),
      reward: Float32Array.from({ length: n }, (_, i) => (i % 5) + 1),
    },
  };
}

const PIPELINE = [
  'stages:',
  '  - stage: read_parquet',
  '    id: in',
  '    with: { path: data.parquet }',
  '  - stage: write_parquet',
  '    id: out',
  '    with:',
  '      path: out',
  '',
].join('\n');

let dir: string;
/** A dataset directory (written by recpost) and its files before any command ran. */
let dataset: string;
let datasetFiles: Map<string, string>;

const snapshot = (d: string) =>
  new Map(
    fs
      .readdirSync(d, { recursive: true, encoding: 'utf8' })
      .filter((f) => fs.statSync(path.join(d, f)).isFile())
      .map((f) => [f, fs.readFileSync(path.join(d, f)).toString('base64')]),
  );

beforeAll(async () => {
  dir = tmpDir('hostile');
  writeParquetFile(path.join(dir, 'data.parquet'), [interactions(40)]);
  fs.writeFileSync(path.join(dir, 'p.yaml'), PIPELINE);
  dataset = path.join(dir, 'dataset');
  const r = await recpost(['stage', 'write_parquet', '--input', 'data.parquet', '--opt', `path=${dataset}`, '--out', 'setup-run', '--quiet'], { cwd: dir });
  expect(r).toMatchObject({ code: 0 });
  datasetFiles = snapshot(dataset);
}, 60_000);
afterAll(removeTmpDirs);

/** Write a file in the test directory and return its name. */
function file(name: string, text: string): string {
  fs.writeFileSync(path.join(dir, name), text);
  return name;
}

const run = (args: string[]) => recpost(args, { cwd: dir });

describe.concurrent('program: help, version, unknown commands', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: recpost \[options\] \[command\]\n/);
    expect(r.out).toMatch(/\n {2}run \[options\] <pipeline> /);
    expect(r.err).toBe('');
  });
  it('-h is --help', async () => {
    const r = await run(['-h']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: recpost /);
  });
  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });
  it('-V is --version', async () => {
    expect(await run(['-V'])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });
  it('no command prints usage on stderr and exits 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^Usage: recpost /);
  });
  it('an unknown command suggests the nearest one', async () => {
    expect(await run(['rnu', 'p.yaml'])).toEqual({ code: 2, out: '', err: "recpost: unknown command 'rnu' (did you mean run?)\n" });
  });
  it('an unknown command far from any is named', async () => {
    expect(await run(['frobnicate'])).toEqual({ code: 2, out: '', err: "recpost: unknown command 'frobnicate'\n" });
  });
  it("help <command> prints that command's usage", async () => {
    const r = await run(['help', 'validate']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: recpost validate \[options\] <pipeline>\n/);
  });
});

const COMMAND_NAMES = [
  'run',
  'validate',
  'stage',
  'stages',
  'schema',
  'theory',
  'train',
  'checkpoint',
  'backend',
  'evaluate',
  'report',
  'stats-merge',
  'export',
  'recommend',
];

describe.concurrent('--help on every command exits 0 and does nothing else', () => {
  for (const name of COMMAND_NAMES) {
    it(`${name} --help`, async () => {
      const r = await run([name, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: recpost ${name} `));
      expect(r.out).toContain('-h, --help');
      expect(r.err).toBe('');
    });
  }
  it('schema --help does not print the schema', async () => {
    const r = await run(['schema', '-h']);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('$schema');
    expect(r.out.length).toBeLessThan(2000);
  });
  it('backend --help does not run detection', async () => {
    const r = await run(['backend', '--help', '--measure']);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('GFLOP/s:');
    expect(r.out).not.toMatch(/matMul 1024×1024: [\d.]+/);
  });
});

describe.concurrent('unknown flags and bad arguments', () => {
  it('run --sed names --seed (and --set)', async () => {
    expect(await run(['run', 'p.yaml', '--sed', '3', '--out-dir', 'x'])).toEqual({
      code: 2,
      out: '',
      err: "recpost: unknown option '--sed' (did you mean one of --seed, --set?)\n",
    });
  });
  it('validate --outdir names --out', async () => {
    expect(await run(['validate', 'p.yaml', '--outdir', 'x'])).toEqual({ code: 2, out: '', err: "recpost: unknown option '--outdir' (did you mean --out?)\n" });
  });
  it('stage --inptu names --input', async () => {
    expect(await run(['stage', 'write_parquet', '--inptu', 'x'])).toEqual({
      code: 2,
      out: '',
      err: "recpost: unknown option '--inptu' (did you mean --input?)\n",
    });
  });
  it('theory --sigam names --sigma', async () => {
    expect(await run(['theory', '--sigam', '1'])).toEqual({ code: 2, out: '', err: "recpost: unknown option '--sigam' (did you mean --sigma?)\n" });
  });
  it('a missing argument is named', async () => {
    expect(await run(['run'])).toEqual({ code: 2, out: '', err: "recpost: missing required argument 'pipeline'\n" });
  });
  it('excess arguments are refused', async () => {
    expect(await run(['validate', 'p.yaml', 'q.yaml'])).toEqual({
      code: 2,
      out: '',
      err: "recpost: too many arguments for 'validate'. Expected 1 argument but got 2.\n",
    });
  });
  it('a non-integer --seed is refused before anything runs', async () => {
    expect(await run(['run', 'p.yaml', '--seed', '1.5'])).toEqual({ code: 2, out: '', err: 'recpost: --seed must be an integer, got "1.5"\n' });
  });
  it('a required option is named', async () => {
    expect(await run(['evaluate', 'ckpt'])).toEqual({ code: 2, out: '', err: "recpost: required option '--data <path>' not specified\n" });
  });
  it('a bad choice lists the choices', async () => {
    const r = await run(['train', 'data.parquet', '--model', 'gpt']);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: "recpost: option '--model <model>' argument 'gpt' is invalid. Allowed choices are sasrec, gaussian, online.\n",
    });
  });
  it('theory names every bad flag on one line', async () => {
    expect(await run(['theory', '--sigma', 'abc', '--actions', '3', '--delta', '0.1', '--tau', '1'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: theory: --sigma must be the reward-noise scale σ (≥ 0), got "abc"; --rmax is required: the reward bound R_max (> 0) (usage: recpost theory --sigma S --actions N --delta D --tau T --rmax R [--lambda L] [--json])\n',
    });
  });
});

describe.concurrent('pipeline files', () => {
  it('a missing pipeline file', async () => {
    expect(await run(['run', 'missing.yaml'])).toEqual({ code: 2, out: '', err: 'recpost: pipeline file not found: missing.yaml\n' });
  });
  it('--debug and RECPOST_DEBUG=1 keep a user mistake to its one line', async () => {
    const expected = { code: 2, out: '', err: 'recpost: pipeline file not found: missing.yaml\n' };
    expect(await run(['validate', 'missing.yaml', '--debug'])).toEqual(expected);
    expect(await recpost(['validate', 'missing.yaml'], { cwd: dir, env: { RECPOST_DEBUG: '1' } })).toEqual(expected);
  });
  it('a directory as the pipeline file', async () => {
    expect(await run(['validate', 'dataset'])).toEqual({ code: 2, out: '', err: 'recpost: dataset is a directory; name a pipeline file (YAML or JSON)\n' });
  });
  it('a YAML syntax error names its line and column', async () => {
    const text = 'stages:\n  - stage: read_parquet\n    with: { path: [data.parquet }\n';
    const f = file('syntax.yaml', text);
    const r = await run(['validate', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^recpost: syntax\.yaml:3:\d+: not valid YAML: [^\n]+\n$/);
  });
  it('a YAML duplicate key is a located syntax error', async () => {
    const text = 'name: a\nname: b\nstages: []\n';
    const r = await run(['validate', file('dup.yaml', text)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^recpost: dup\\.yaml:${positionOf(text, 'name', 1)}: not valid YAML: Map keys must be unique\\n$`));
  });
  it('a JSON syntax error names its line and column', async () => {
    const text = '{\n  "stages": [\n    { "stage": "read_parquet", }\n  ]\n}\n';
    const r = await run(['validate', file('syntax.json', text)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^recpost: syntax\\.json:${positionOf(text, '}')}: not valid JSON: [^\\n]+\\n$`));
  });
  it('an unknown option is located at its key', async () => {
    const text = PIPELINE.replace('with: { path: data.parquet }', 'with: { path: data.parquet, colums: [a] }');
    const r = await run(['validate', file('unknown-field.yaml', text)]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `recpost: unknown-field.yaml:${positionOf(text, 'colums')}: stages[0] (stage "read_parquet"): unknown field "colums" (known: path, table, columns)\n`,
    });
  });
  it('a wrong value is located at the value, one line per problem', async () => {
    const text = PIPELINE.replace('      path: out', '      path: out\n      rows_per_file: 0\n      compression: brotli');
    const r = await run(['validate', file('bad-values.yaml', text)]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `recpost: bad-values.yaml:${positionOf(text, '0\n')}: stages[1] (stage "write_parquet"): field "rows_per_file" must be ≥ 1, got 0\n` +
        `recpost: bad-values.yaml:${positionOf(text, 'brotli')}: stages[1] (stage "write_parquet"): field "compression" must be one of zstd, snappy, gzip, lz4, none; got "brotli"\n`,
    );
  });
  it('an unknown stage is located at its name', async () => {
    const text = PIPELINE.replace('stage: write_parquet', 'stage: write_parket');
    const r = await run(['validate', file('unknown-stage.yaml', text)]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`^recpost: unknown-stage\\.yaml:${positionOf(text, 'write_parket')}: stages\\[1\\]: unknown stage "write_parket" \\(known: [^\\n]+\\)\\n$`),
    );
  });
  it('a JSON pipeline error is located too', async () => {
    const text = JSON.stringify({ stages: [{ stage: 'read_parquet', with: { path: 'data.parquet', table: 7 } }] }, null, 2);
    const r = await run(['validate', file('bad.json', text)]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `recpost: bad.json:${positionOf(text, '7')}: stages[0] (stage "read_parquet"): field "table" must be a string, got 7\n`,
    });
  });
  it('a missing input path is a located error (validate checks what run checks)', async () => {
    const text = PIPELINE.replace('path: data.parquet', 'path: nope.parquet');
    const f = file('missing-input.yaml', text);
    const expected = {
      code: 2,
      out: '',
      err: `recpost: missing-input.yaml:${positionOf(text, 'nope.parquet')}: stages[0] (stage "read_parquet"): input path "nope.parquet" does not exist\n`,
    };
    expect(await run(['validate', f])).toEqual(expected);
    expect(await run(['run', f, '--quiet'])).toEqual(expected);
  });
  it('an input written by an earlier stage of the same pipeline is not missing', async () => {
    const text = `${PIPELINE}  - stage: read_parquet\n    with: { path: out/part-0.parquet }\n  - stage: write_parquet\n    with: { path: again }\n`;
    const r = await run(['validate', file('produced.yaml', text)]);
    expect(r).toEqual({
      code: 0,
      out: 'produced.yaml: valid pipeline "produced" with 4 stage(s): read_parquet → write_parquet → read_parquet → write_parquet\n',
      err: '',
    });
  });
  it('a run name that climbs out of runs/ is refused at its line', async () => {
    const text = `name: ../..\n${PIPELINE}`;
    expect(await run(['validate', file('escape.yaml', text)])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: escape.yaml:1:7: field "name" must be a plain name (it names runs/<name>): no "/" or "\\", not "", "." or "..", got "../.."\n',
    });
  });
  it('--out that is an existing file', async () => {
    expect(await run(['run', 'p.yaml', '--out', 'data.parquet'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --out data.parquet is an existing file; name a directory\n',
    });
  });
  it('out_dir below a file', async () => {
    const f = file('out-below-file.yaml', `out_dir: data.parquet/run\n${PIPELINE}`);
    expect(await run(['validate', f])).toEqual({
      code: 2,
      out: '',
      err: `recpost: out-below-file.yaml: out_dir data.parquet/run: ${path.join(dir, 'data.parquet')} is a file, so the directory cannot be created\n`,
    });
  });
});

describe.concurrent('--set and --opt', () => {
  const refused = (text: string, why: string) => ({ code: 2, out: '', err: `recpost: --set ${text}: ${why}\n` });
  it('__proto__ is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.__proto__.x=1'])).toEqual(
      refused('stages.__proto__.x=1', '"__proto__" is not allowed in an option path'),
    );
  });
  it('constructor is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'constructor.prototype.x=1'])).toEqual(
      refused('constructor.prototype.x=1', '"constructor" is not allowed in an option path'),
    );
  });
  it('prototype is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.0.with.prototype=1'])).toEqual(
      refused('stages.0.with.prototype=1', '"prototype" is not allowed in an option path'),
    );
  });
  it('a negative index is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.-1.with.x=1'])).toEqual(refused('stages.-1.with.x=1', 'index -1 is out of range (0 to 1)'));
  });
  it('an index past the end is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.2.with.x=1'])).toEqual(refused('stages.2.with.x=1', 'index 2 is out of range (0 to 1)'));
  });
  it('an unknown stage id is refused, naming the ids', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.bc.with.epochs=2'])).toEqual(
      refused('stages.bc.with.epochs=2', 'no stage with id "bc" (ids: in, out; or use an index 0 to 1)'),
    );
  });
  it('a stage id reaches that stage (its value is then validated)', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.out.with.rows_per_file=0'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: p.yaml: stages[1] (stage "write_parquet"): field "rows_per_file" must be ≥ 1, got 0\n',
    });
  });
  it('values are YAML: a flow map reaches the stage as an object', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.in.with.columns={a: 1}'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: p.yaml: stages[0] (stage "read_parquet"): field "columns" must be an array, got an object\n',
    });
  });
  it('a YAML flow list is accepted', async () => {
    const r = await run(['validate', 'p.yaml', '--set', 'stages.in.with.columns=[user_id, item_id]']);
    expect(r.code).toBe(0);
  });
  it('a path through a value that is not an object is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.0.with.path.x=1'])).toEqual(
      refused('stages.0.with.path.x=1', '"stages.0.with.path" is "data.parquet", not an object'),
    );
  });
  it('an assignment without = is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'seed'])).toEqual({ code: 2, out: '', err: 'recpost: --set expects key=value, got "seed"\n' });
  });
  it('a value that is not YAML is refused', async () => {
    expect(await run(['validate', 'p.yaml', '--set', 'stages.0.with.columns=[a'])).toEqual(
      refused('stages.0.with.columns=[a', 'the value is not valid YAML: Flow sequence must end with a ]'),
    );
  });
  it('stage --opt __proto__ is refused', async () => {
    expect(await run(['stage', 'write_parquet', '--input', 'data.parquet', '--opt', '__proto__.polluted=1'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --opt __proto__.polluted=1: "__proto__" is not allowed in an option path\n',
    });
  });
});

describe.concurrent('recpost stage: inputs and outputs', () => {
  it('an unknown stage', async () => {
    const r = await run(['stage', 'write_parket']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^recpost: stage: unknown stage "write_parket" \(known: [^\n]+\)\n$/);
  });
  it('a transform without --input', async () => {
    expect(await run(['stage', 'write_parquet', '--opt', 'path=x'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: stage write_parquet: a sink needs --input (a Parquet file or dataset directory)\n',
    });
  });
  it('a source given --input', async () => {
    expect(await run(['stage', 'ingest', '--input', 'data.parquet', '--opt', 'output=x'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: stage ingest: a source reads no --input; name its input with --opt (see `recpost stages ingest`)\n',
    });
  });
  it('a missing --input', async () => {
    expect(await run(['stage', 'write_parquet', '--input', 'nope.parquet', '--opt', 'path=x'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --input nope.parquet does not exist\n',
    });
  });
  it('--output equal to --input is refused and the input is untouched', async () => {
    const r = await run(['stage', 'split_sequences', '--input', 'dataset', '--output', 'dataset']);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --output dataset is the same path as --input dataset; writing it would destroy the input (name another directory)\n',
    });
    expect(snapshot(dataset)).toEqual(datasetFiles);
  });
  it('--opt path equal to --input is refused too', async () => {
    const r = await run(['stage', 'write_parquet', '--input', 'dataset', '--opt', `path=${dataset}`]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `recpost: --opt path=${dataset} is the same path as --input dataset; writing it would destroy the input (name another directory)\n`,
    });
    expect(snapshot(dataset)).toEqual(datasetFiles);
  });
  it("a source's output equal to what it reads is refused", async () => {
    const r = await run(['stage', 'ingest', '--opt', 'path=p.yaml', '--opt', 'output=p.yaml']);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --opt output=p.yaml is the same path as --opt path=p.yaml; writing it would destroy the input (name another directory)\n',
    });
  });
  it('--output holding the input is refused', async () => {
    const r = await run(['stage', 'write_parquet', '--input', 'dataset', '--opt', 'path=elsewhere', '--output', '.']);
    expect(r).toEqual({ code: 2, out: '', err: 'recpost: --output . contains --input dataset; writing it would destroy the input (name another directory)\n' });
  });
  it('--output that is an existing file', async () => {
    expect(await run(['stage', 'split_sequences', '--input', 'dataset', '--output', 'p.yaml'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: --output p.yaml is an existing file; name a directory\n',
    });
  });
  it('a read-only output directory', async () => {
    // Root ignores permission bits; sysfs refuses new entries even to root.
    const root = process.getuid?.() === 0;
    const parent = root ? '/sys' : path.join(dir, 'read-only');
    if (!root) {
      fs.mkdirSync(parent, { recursive: true });
      fs.chmodSync(parent, 0o555);
    }
    const out = path.join(parent, 'recpost-out');
    const r = await run(['stage', 'split_sequences', '--input', 'dataset', '--output', out]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: `recpost: --output ${out}: cannot write in ${parent} (${root ? 'operation not permitted' : 'permission denied'})\n`,
    });
  });
  it('without --out or --output, it says where the run files went', async () => {
    const cwd = tmpDir('stage-cwd');
    const r = await recpost(['stage', 'write_parquet', '--input', path.join(dir, 'data.parquet'), '--opt', 'path=copy', '--quiet'], { cwd });
    expect(r).toEqual({
      code: 0,
      out: '',
      err: `recpost: run files (metrics.jsonl, report.json) written to ${path.join('runs', 'write_parquet')} (choose with --out)\n`,
    });
    expect(fs.existsSync(path.join(cwd, 'runs', 'write_parquet', 'report.json'))).toBe(true);
  });
});

describe.concurrent('other commands', () => {
  it('evaluate with a missing --data', async () => {
    expect(await run(['evaluate', 'ckpt', '--data', 'nope'])).toEqual({ code: 2, out: '', err: 'recpost: --data nope does not exist\n' });
  });
  it('train with a missing dataset', async () => {
    expect(await run(['train', 'nope.parquet'])).toEqual({ code: 2, out: '', err: 'recpost: train: examples nope.parquet does not exist\n' });
  });
  it('checkpoint of a missing directory', async () => {
    expect(await run(['checkpoint', 'nope'])).toEqual({ code: 2, out: '', err: 'recpost: checkpoint: nope does not exist\n' });
  });
  it('stats-merge of a missing file', async () => {
    expect(await run(['stats-merge', 'nope.state.json', '--output', 'merged.json'])).toEqual({
      code: 2,
      out: '',
      err: 'recpost: stats-merge: input nope.state.json does not exist\n',
    });
  });
  it('schema --output that is a directory', async () => {
    expect(await run(['schema', '--output', 'dataset'])).toEqual({ code: 2, out: '', err: 'recpost: --output dataset is a directory; name a file\n' });
  });
  it('stages with an unknown name', async () => {
    const r = await run(['stages', 'nope']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^recpost: unknown stage "nope" \(known: [^\n]+\)\n$/);
  });
});
