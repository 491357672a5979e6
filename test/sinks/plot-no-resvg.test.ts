/** When the resvg native binding cannot load, the plot writes the SVG only, with one warning. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { metricRecord } from '../../schemas/metric-record.js';
import { metricsToBatch } from '../../stages/core/metric-batch.js';
import { plotStage } from '../../stages/sinks/plot-stage.js';
import { runWith, testSource, tmpDir } from './helpers.js';

vi.mock('@resvg/resvg-js', () => {
  throw new Error('Cannot find native binding (simulated)');
});

describe('plot without resvg', () => {
  it('falls back to SVG only with a one-line warning', async () => {
    const dir = tmpDir('no-resvg');
    const records = [1, 2].map((step) => metricRecord({ method: 'bc', step, split: 'test', metric: 'hr@10', value: step / 10 }));
    const h = await runWith(testSource([metricsToBatch(records)]), [[plotStage, { metric: 'hr@10', path: path.join(dir, 'hr') }]], dir);
    expect(fs.existsSync(path.join(dir, 'hr.svg'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'hr.png'))).toBe(false);
    const warnings = h.log.filter((l) => l.startsWith('warning:'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/PNG not written: @resvg\/resvg-js could not be loaded .*; SVG written to .*hr\.svg/);
    expect(warnings[0]).not.toContain('\n');
  });
});
