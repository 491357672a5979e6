/**
 * Metric records written before a kill survive the resume (issue 9: they were
 * left in metrics.jsonl.tmp-PID). metrics.jsonl is appended record by record;
 * a resumed run replaces the records of what it redoes and keeps the rest.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metricRecord, type MetricRecord } from '../../schemas/metric-record.js';
import { openMetricsLog, pipelineResumes } from '../../pipelines/metrics-log.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { removeTmp, tmp } from './state-helpers.js';

afterAll(removeTmp);

const rec = (step: number, value: number, method = 'bc'): MetricRecord =>
  metricRecord({ run: 'r', method, seed: 1, step, epoch: 1, split: 'train', metric: 'loss', value, count: 4 });
const read = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MetricRecord)
    .map((r) => `${r.method}@${r.step}=${r.value}`);

describe('metrics.jsonl survives kills', () => {
  it('records are on disk as they are emitted, before close', () => {
    const dir = tmp('log');
    const log = openMetricsLog(dir, { resume: false });
    log.write(rec(1, 0.5));
    log.write(rec(2, 0.25));
    // No close: as after a SIGKILL.
    expect(read(dir)).toEqual(['bc@1=0.5', 'bc@2=0.25']);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a fresh run starts the file anew', () => {
    const dir = tmp('fresh');
    const a = openMetricsLog(dir, { resume: false });
    a.write(rec(1, 1));
    a.close();
    const b = openMetricsLog(dir, { resume: false });
    b.write(rec(1, 2));
    b.close();
    expect(read(dir)).toEqual(['bc@1=2']);
  });

  it('a resumed run keeps the records of steps it does not redo and replaces those it does', () => {
    const dir = tmp('resume');
    const a = openMetricsLog(dir, { resume: false });
    for (const s of [1, 2, 3, 4]) a.write(rec(s, s));
    // killed after step 4; the checkpoint was at step 2: the resumed run redoes 3 and 4, then 5
    const b = openMetricsLog(dir, { resume: true });
    for (const s of [3, 4, 5]) b.write(rec(s, s + 0.5));
    b.close();
    expect(read(dir)).toEqual(['bc@1=1', 'bc@2=2', 'bc@3=3.5', 'bc@4=4.5', 'bc@5=5.5']);
    expect(fs.existsSync(path.join(dir, 'metrics.jsonl.attempts'))).toBe(false);
  });

  it('a resumed run killed again: the next resume still applies the rule attempt by attempt', () => {
    const dir = tmp('twice');
    const a = openMetricsLog(dir, { resume: false });
    for (const s of [1, 2, 3]) a.write(rec(s, s));
    const b = openMetricsLog(dir, { resume: true });
    for (const s of [2, 3, 4]) b.write(rec(s, s * 10)); // killed after step 4 (checkpoint at 3)
    const c = openMetricsLog(dir, { resume: true });
    for (const s of [4, 5]) c.write(rec(s, s * 100));
    c.close();
    expect(read(dir)).toEqual(['bc@1=1', 'bc@2=20', 'bc@3=30', 'bc@4=400', 'bc@5=500']);
  });

  it('a torn last line (a write cut by the kill) is dropped on resume', () => {
    const dir = tmp('torn');
    const a = openMetricsLog(dir, { resume: false });
    a.write(rec(1, 1));
    fs.appendFileSync(path.join(dir, 'metrics.jsonl'), '{"run":"r","method":"bc","se');
    const b = openMetricsLog(dir, { resume: true });
    b.write(rec(2, 2));
    b.close();
    expect(read(dir)).toEqual(['bc@1=1', 'bc@2=2']);
  });

  it('a line that is not JSON is a located error', () => {
    const dir = tmp('bad');
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${JSON.stringify(rec(1, 1))}\nnot json\n`);
    expect(() => openMetricsLog(dir, { resume: true })).toThrow(ConfigError);
    expect(() => openMetricsLog(dir, { resume: true })).toThrow(/metrics\.jsonl:2: not a JSON metric record/);
  });

  it('a pipeline resumes when a stage has resume: true or resume_from', () => {
    const stage = (config: Record<string, unknown>) => ({ stages: [{ config }] }) as unknown as Parameters<typeof pipelineResumes>[0];
    expect(pipelineResumes(stage({ resume: true }))).toBe(true);
    expect(pipelineResumes(stage({ resume_from: '/x' }))).toBe(true);
    expect(pipelineResumes(stage({ resume: false }))).toBe(false);
  });
});
