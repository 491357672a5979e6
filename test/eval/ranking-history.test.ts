/**
 * Issue 12, defect 6: ranking excludes the user's whole history (every item the
 * user interacted with before the target), not only the items of the context
 * column (the last max_len items); `history: context` keeps the old behaviour.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateRankingStage } from '../../stages/eval/evaluate-ranking-stage.js';
import type { MetricRecord } from '../../schemas/metric-record.js';
import { examplesBatch, removeTmpDirs, runStage, type ExampleRow } from './helpers.js';

afterAll(removeTmpDirs);

// Timestamps are the row positions. Contexts hold one item (max_len 1), so user 1's
// test context [4] has lost items 1, 2, 3 of the history.
const rows: ExampleRow[] = [
  { user: 1, context: [], action: 1, split: 'train' },
  { user: 2, context: [], action: 1, split: 'train' },
  { user: 3, context: [], action: 1, split: 'train' },
  { user: 1, context: [1], action: 2, split: 'train' },
  { user: 2, context: [1], action: 2, split: 'train' },
  { user: 3, context: [1], action: 2, split: 'train' },
  { user: 1, context: [2], action: 3, split: 'train' },
  { user: 2, context: [2], action: 3, split: 'train' },
  { user: 3, context: [2], action: 5, split: 'train' },
  { user: 1, context: [3], action: 4, split: 'valid' },
  { user: 1, context: [4], action: 5, split: 'test' },
];
// Popularity (train rows): 1:3, 2:3, 3:2, 5:1, 4:0, 6:0 (catalog 1..6).

const find = (rs: MetricRecord[], metric: string, split: string) =>
  rs.find((r) => r.method === 'popularity' && r.metric === metric && r.split === split)?.value;

async function ranks(options: Record<string, unknown>) {
  const r = await runStage(evaluateRankingStage, { baselines: ['popularity'], num_items: 7, ...options }, [examplesBatch(rows)]);
  return { r, find: (metric: string, split: string) => find(r.metrics, metric, split) };
}

describe('evaluate_ranking excludes the whole history by default', () => {
  it('test target 5 with history {1, 2, 3, 4}: nothing above it, rank 1 over 2 candidates', async () => {
    const { r, find } = await ranks({ splits: ['test'] });
    expect(find('mrr', 'test')).toBe(1);
    expect(find('candidates', 'test')).toBe(2);
    expect(r.log.join('\n')).toMatch(/the user's whole history before the target excluded/);
    // …and leaves the comparison table's caption a note on the ranking metrics.
    expect(r.artifacts.get('report:notes')).toContainEqual({ metric: 'mrr', text: "ranked over the full catalog, the user's whole history excluded" });
  });

  it('valid target 4 (score 0) with history {1, 2, 3}: the later test item 5 stays a candidate, 6 ties → rank 3', async () => {
    const { find } = await ranks({ splits: ['valid'] });
    expect(find('mrr', 'valid')).toBeCloseTo(1 / 3, 15);
    expect(find('candidates', 'valid')).toBe(3);
  });

  it("history: context excludes only the context column's items (rank 4 for the test target, 5 for the valid one)", async () => {
    const { r, find } = await ranks({ history: 'context' });
    expect(find('mrr', 'test')).toBe(0.25);
    expect(find('mrr', 'valid')).toBe(0.2);
    expect(r.log.join('\n')).toMatch(/context items other than the target excluded/);
  });

  it('exclude_history: false excludes nothing', async () => {
    const { find } = await ranks({ exclude_history: false });
    expect(find('mrr', 'test')).toBe(0.25);
    expect(find('candidates', 'test')).toBe(6);
  });

  it('a stream without timestamps is a ConfigError that points to history: context', async () => {
    const b = examplesBatch(rows);
    delete (b.columns as Record<string, unknown>).timestamp;
    await expect(runStage(evaluateRankingStage, { baselines: ['popularity'] }, [b])).rejects.toThrow(
      'evaluate_ranking: history: full needs the column "timestamp" in "examples" batches; set history: context',
    );
  });
});
