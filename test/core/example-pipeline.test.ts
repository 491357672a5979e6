import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { main } from '../../pipelines/cli.js';

describe('pipelines/examples/ingest-split-stats.yaml from the CLI', () => {
  it('writes interactions, split examples and statistics that DuckDB and JSON read back', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-example-'));
    const code = await main([
      'run',
      'pipelines/examples/ingest-split-stats.yaml',
      '--out',
      d,
      '--set',
      `stages.0.with.output=${path.join(d, 'interactions')}`,
      '--set',
      `stages.1.with.output=${path.join(d, 'examples')}`,
      '--quiet',
    ]);
    expect(code).toBe(0);
    const source = fs
      .readFileSync('data/samples/ratings-sim.dat', 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => l.split('::').map(Number));
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const n = (await con.runAndReadAll(`SELECT count(*) FROM '${d}/interactions/*.parquet'`)).getRows()[0]![0];
    expect(Number(n)).toBe(source.length);
    // Rewards per (raw user) survive ingest: compare sums through the vocabulary.
    const sums = (
      await con.runAndReadAll(
        `SELECT v.raw_id, sum(i.reward) FROM '${d}/interactions/*.parquet' i JOIN '${d}/interactions/vocab/users.parquet' v ON i.user_id = v.index GROUP BY v.raw_id ORDER BY v.raw_id`,
      )
    ).getRows();
    const expected = new Map<string, number>();
    for (const [u, , r] of source) expected.set(String(u), (expected.get(String(u)) ?? 0) + r!);
    expect(sums.map(([u, s]) => [String(u), Number(s)])).toEqual([...expected.entries()].sort((a, b) => a[0].localeCompare(b[0])));
    // One test target per user at most, and only 5-star ones (threshold 4.5).
    const test = (await con.runAndReadAll(`SELECT user_id, reward FROM read_parquet('${d}/examples/split=test/*.parquet')`)).getRows();
    for (const [, r] of test) expect(Number(r)).toBeGreaterThanOrEqual(4.5);
    expect(new Set(test.map(([u]) => Number(u))).size).toBe(test.length);
    const stats = JSON.parse(fs.readFileSync(path.join(d, 'reward_stats.json'), 'utf8'));
    const all = source.length; // every interaction but the first of each user becomes an example, minus held-out drops
    expect(stats.count).toBeGreaterThan(0);
    expect(stats.count).toBeLessThan(all);
    expect(stats.max).toBeLessThanOrEqual(5);
    expect(stats.min).toBeGreaterThanOrEqual(1);
  });
});
