/** User mistakes in the paper-004 options are ConfigErrors naming what to fix, found by validation before any work. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePipeline } from '../../pipelines/spec.js';
import { ConfigError } from '../../stages/core/config-schema.js';
import { readControlledProxy } from '../../stages/simulators/controlled-proxy.js';

const pipeline = (online: Record<string, unknown>) => () =>
  resolvePipeline({
    name: 't',
    stages: [
      { stage: 'simulate_ratings', with: { output: 'sim' } },
      { stage: 'train_online', with: { init: 'ck', ...online } },
    ],
  });

describe('paper 004 option errors', () => {
  it('train_online: a controlled proxy without its file, an ensemble on the simulator proxy, members without a reward-head proxy', () => {
    expect(pipeline({ proxy: 'controlled' })).toThrow(/proxy controlled needs proxy_file \(a calibrate_proxy output\)/);
    expect(pipeline({ proxy: 'simulator', ensemble: { combine: 'mean' } })).toThrow(
      /an ensemble needs proxy reward_head \(ensemble.checkpoints\) or controlled/,
    );
    expect(pipeline({ proxy: 'reward_head', ensemble: { combine: 'uwo' } })).toThrow(/ensemble with proxy reward_head needs ensemble.checkpoints/);
    expect(pipeline({ proxy: 'simulator', bspo: { threshold: 2 } })).toThrow(/bspo.threshold" must be ≤ 1, got 2/);
    expect(pipeline({ proxy: 'controlled', proxy_file: 'p.json' })).not.toThrow();
  });

  it('a file that is not a calibrate_proxy output is a ConfigError naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p004-'));
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify({ format: 'something-else' }));
    expect(() => readControlledProxy(file, 'proxy_file')).toThrow(ConfigError);
    expect(() => readControlledProxy(file, 'proxy_file')).toThrow(`${file}: not a calibrate_proxy file (format is not "recpost-controlled-proxy")`);
    expect(() => readControlledProxy(path.join(dir, 'missing.json'), 'proxy_file')).toThrow(/missing.json: cannot read the controlled proxy/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
