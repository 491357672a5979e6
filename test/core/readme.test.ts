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
