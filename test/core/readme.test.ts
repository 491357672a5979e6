import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stageReference } from '../../pipelines/stage-docs.js';
import { STAGES } from '../../stages/registry.js';

describe('README', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  it('carries the current generated stage reference (run `npm run docs` after changing a stage)', () => {
    expect(readme).toContain(stageReference());
  });
  it('names every registered stage', () => {
    for (const name of STAGES.keys()) expect(readme).toContain(`\`${name}\``);
  });
});

describe('README pipeline examples', () => {
  it('every complete YAML pipeline in the README validates', async () => {
    const { resolvePipeline, parsePipelineText } = await import('../../pipelines/spec.js');
    const readme = fs.readFileSync('README.md', 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^(name|stages):/m.test(b) && /^stages:/m.test(b));
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(() => resolvePipeline(parsePipelineText(b, 'README.yaml'), 'README.yaml')).not.toThrow();
  });
});
