/**
 * The CLI on hostile inputs, as a user runs it: `node --import tsx
 * pipelines/cli.ts stage ingest --opt path=… --opt output=…` in a child
 * process. Each bad input ends in exit code 2 and one message naming the
 * file (line, field) or the path, without a stack trace; quarantine mode
 * exits 0 with the bad file set aside. The children run in parallel.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCliIngest, tmpDir, writeText, type CliOutcome } from './ingest-helpers.js';

const HEADER = 'user_id,item_id,reward,timestamp\n';
const runs = new Map<string, Promise<CliOutcome>>();
const paths: Record<string, string> = {};

beforeAll(async () => {
  const d = tmpDir('cli');
  paths.float = writeText(d, 'float.csv', `${HEADER}1,2,3,4\n1,2,1e39,5\n`);
  paths.utf8 = writeText(d, 'utf8.csv', Buffer.concat([Buffer.from(`${HEADER}caf`), Buffer.from([0xe9]), Buffer.from(',2,3,4\n')]));
  paths.endless = writeText(d, 'endless.csv', Buffer.concat([Buffer.from(`${HEADER}1,2,3,4\n`), Buffer.alloc(17 << 20, 0x31)]));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  paths.trap = path.join(d, 'in', 'trap.parquet');
  fs.mkdirSync(path.dirname(paths.trap));
  await c.run(
    `COPY (SELECT i AS user_id, i % 97 AS item_id, (i % 10) / 2 AS reward, 1000 + i AS timestamp FROM range(1, 20001) t(i)) TO '${paths.trap}' (FORMAT parquet, ROW_GROUP_SIZE 5000)`,
  );
  c.closeSync();
  db.closeSync();
  const b = fs.readFileSync(paths.trap);
  for (let k = 0; k < 64; k++) b[200 + k] = b[200 + k]! ^ 0x5a;
  fs.writeFileSync(paths.trap, b);
  writeText(d, 'in/good.csv', `${HEADER}1,2,3,4\n`);
  paths.dir = path.join(d, 'in');
  const out = (name: string) => path.join(d, `out-${name}`);
  paths.quarantineOut = out('quarantine');
  const start = (name: string, opts: Record<string, string>) => runs.set(name, runCliIngest({ ...opts, output: opts.output ?? out(name) }));
  start('float', { path: paths.float });
  start('utf8', { path: paths.utf8 });
  start('endless', { path: paths.endless });
  start('trap', { path: paths.trap });
  start('devzero', { path: '/dev/zero' });
  start('missing', { path: path.join(d, 'nope.csv') });
  start('glob', { path: path.join(d, 'nothing-*.csv') });
  start('quarantine', { path: paths.dir, mode: 'quarantine', output: paths.quarantineOut });
}, 60_000);

/** Exit code 2, the message on stderr, and no stack trace. */
async function expectUserError(name: string, message: string): Promise<void> {
  const r = await runs.get(name)!;
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('recpost stage ingest on hostile input', { timeout: 60_000 }, () => {
  it('a reward beyond float32: exit 2 naming file, line and field', async () => {
    await expectUserError(
      'float',
      `${paths.float}:3: field "reward": reward 1e+39 is beyond the float32 range (±3.4028235e38) and would be stored as +Infinity (value: "1e39")`,
    );
  });

  it('an id with invalid UTF-8: exit 2 naming file, line and field', async () => {
    await expectUserError('utf8', `${paths.utf8}:2: field "user_id": user id is not valid UTF-8`);
  });

  it('a 17 MiB line: exit 2 naming file and line', async () => {
    await expectUserError('endless', `${paths.endless}:3: field "(row)": line is longer than max_line_bytes (16777216 bytes)`);
  });

  it('a corrupt Parquet page that traps the WASM decoder: exit 2 naming the file, Node does not abort', async () => {
    await expectUserError('trap', `${paths.trap}: corrupt data in row group 1 of 4 (decoder crashed: unreachable)`);
  });

  it('/dev/zero: exit 2 naming the path', async () => {
    await expectUserError('devzero', 'ingest: path: /dev/zero is a character device; ingest reads regular files (and directories of them)');
  });

  it('a missing path and an empty glob: exit 2 naming them', async () => {
    await expectUserError('missing', 'ingest: path: no such file or directory: ');
    await expectUserError('glob', 'ingest: path: no files match the pattern ');
  });

  it('quarantine mode: exit 0, the corrupt file set aside whole, the good file stored', async () => {
    const r = await runs.get('quarantine')!;
    expect(r.code, r.stderr).toBe(0);
    const entries = fs
      .readFileSync(path.join(paths.quarantineOut!, '_quarantine', 'rejected.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; whole_file: boolean; reason: string });
    expect(entries).toEqual([
      {
        file: paths.trap,
        line: 0,
        field: '(file)',
        value: '',
        value_bytes: 0,
        reason: 'corrupt data in row group 1 of 4 (decoder crashed: unreachable)',
        raw: '',
        raw_bytes: 0,
        whole_file: true,
      },
    ]);
    const manifest = JSON.parse(fs.readFileSync(path.join(paths.quarantineOut!, '_manifest.json'), 'utf8')) as { rows: number };
    expect(manifest.rows).toBe(1);
  });
});
