import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine, mergeNodeCount } from '../../pipelines/engine/local-engine.js';
import { TaskFailedError } from '../../pipelines/engine/task-errors.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import type { TaskSpec } from '../../pipelines/engine/task.js';

const modules = [pathToFileURL(path.join(import.meta.dirname, 'test-tasks.ts')).href];
let dir: string;
let file: string;
const N = 1000;
let expected = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-engine-'));
  file = path.join(dir, 'numbers.txt');
  const values = Array.from({ length: N }, (_v, i) => (i * 7919) % 1009);
  expected = values.reduce((a, b) => a + b, 0);
  fs.writeFileSync(file, values.join('\n'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function shards(count: number, extra: (i: number) => object = () => ({})): TaskSpec[] {
  const size = Math.ceil(N / count);
  return Array.from({ length: count }, (_v, i) => ({
    kind: 'test.sum-lines',
    key: `sum/${i}`,
    input: { file, start: i * size, end: Math.min(N, (i + 1) * size), ...extra(i) },
  }));
}

describe('local engine', () => {
  it('counts merge nodes of a tree reduction', () => {
    expect(mergeNodeCount(10, undefined)).toBe(1);
    expect(mergeNodeCount(3, 3)).toBe(1);
    // 10 → 4 groups (3,3,3,1) → 2 groups → root
    expect(mergeNodeCount(10, 3)).toBe(4 + 2 + 1);
  });

  it('fans out over 2 workers and merges in a tree to the sequential sum', async () => {
    const engine = new LocalEngine(2, { modules });
    try {
      const seen: number[] = [];
      const out = (await engine.runFlow(
        { label: 'sum', children: shards(10), merge: { kind: 'test.merge-sums', key: 'sum/merge', input: { tag: 't' } }, treeFanIn: 3 },
        (p) => seen.push(p.done),
      )) as { sum: number; rows: number; tag: string; partial: boolean };
      expect(out).toEqual({ sum: expected, rows: N, tag: 't', partial: false });
      expect(Math.max(...seen)).toBe(10 + 7);
      // Without a merge: the children's results in order.
      const parts = (await engine.runFlow({ label: 'parts', children: shards(4) })) as { rows: number }[];
      expect(parts.map((r) => r.rows)).toEqual([250, 250, 250, 250]);
    } finally {
      await engine.close();
    }
    expect(engine.workerPids()).toEqual([]);
  });

  it('gives the task of a worker killed with SIGKILL to another worker; the result is unchanged', async () => {
    const engine = new LocalEngine(2, { modules });
    try {
      const pidFile = path.join(dir, 'slow.pid');
      const children = shards(4, (i) => (i === 1 ? { delayMs: 1500, pidFile } : {}));
      let retries = 0;
      const run = engine.runFlow({ label: 'sum', children, merge: { kind: 'test.merge-sums', key: 'm', input: { tag: 'k' } } }, (p) => (retries = p.retries));
      for (let i = 0; i < 100 && !fs.existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
      const victim = Number(fs.readFileSync(pidFile, 'utf8'));
      fs.rmSync(pidFile);
      process.kill(victim, 'SIGKILL');
      const out = (await run) as { sum: number };
      expect(out.sum).toBe(expected);
      expect(retries).toBe(1);
      expect(engine.workerPids()).not.toContain(victim);
    } finally {
      await engine.close();
    }
  });

  it('fails after maxAttempts when a task crashes its worker every time', async () => {
    const engine = new LocalEngine(2, { modules, maxAttempts: 2 });
    try {
      const children = shards(2, (i) => (i === 0 ? { crashAttempts: 9 } : {}));
      const err = await engine.runFlow({ label: 'sum', children }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect((err as Error).message).toMatch(/^task sum\/0 failed after 2 attempts: worker \S+ exited with code 3 while running it$/);
      // The engine still works after a failed flow.
      const ok = (await engine.runFlow({ label: 'again', children: shards(2) })) as { rows: number }[];
      expect(ok.map((r) => r.rows)).toEqual([500, 500]);
    } finally {
      await engine.close();
    }
  });

  it('recovers a crash on the first attempt', async () => {
    const engine = new LocalEngine(1, { modules });
    try {
      const out = (await engine.runFlow({ label: 'sum', children: shards(2, () => ({ crashAttempts: 1 })) })) as { attempt: number; sum: number }[];
      expect(out.map((r) => r.attempt)).toEqual([2, 2]);
      expect(out[0]!.sum + out[1]!.sum).toBe(expected);
    } finally {
      await engine.close();
    }
  });

  it('returns a usage error from a worker as a ConfigError, without retrying', async () => {
    const engine = new LocalEngine(2, { modules });
    try {
      const err = await engine.runFlow({ label: 'bad', children: [{ kind: 'test.bad-config', key: 'b', input: { x: -1 } }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe('test.bad-config: field "x" must be positive (got -1)');
      const err2 = await engine.runFlow({ label: 'throws', children: [{ kind: 'test.throws', key: 't', input: {} }] }).catch((e: unknown) => e);
      expect((err2 as Error).message).toBe('task t failed after 3 attempts: disk on fire');
      const err3 = await engine.runFlow({ label: 'unknown', children: [{ kind: 'nope', key: 'u', input: {} }] }).catch((e: unknown) => e);
      expect((err3 as Error).message).toMatch(/^task u failed after 3 attempts: no handler for task kind "nope" in this worker \(known: .*engine\.ping.*\)$/);
    } finally {
      await engine.close();
    }
  });
});
