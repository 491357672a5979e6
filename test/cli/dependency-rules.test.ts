/** The dependency check's rules fail on each kind of violation; no folder cycle is tolerated (the known-cycle list is empty). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module without type declarations (run by node in npm test)
import { checkDependencies } from '../dependency-check.mjs';
import { removeTmpDirs, tmpDir } from './helpers.js';

afterAll(removeTmpDirs);

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function tree(files: Record<string, string>): string {
  const root = tmpDir('deps');
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

describe('dependency rules', () => {
  it('fail on stages → pipelines, eval → trainer plumbing and any folder cycle', async () => {
    const root = tree({
      'pipelines/runner.ts': 'export const run = 1;\n',
      'stages/split/split.ts': "import { run } from '../../pipelines/runner';\nexport const s = run;\n",
      'stages/train/load-policy.ts': 'export const load = 1;\n',
      'stages/train/offline-trainer.ts': "import { truth } from '../eval/truth';\nexport const train = truth;\n",
      'stages/eval/truth.ts': 'export const truth = 1;\n',
      'stages/eval/checkpoints.ts':
        "import { load } from '../train/load-policy';\nimport { train } from '../train/offline-trainer';\nexport const c = load + train;\n",
      'stages/x/a.ts': "import { b } from '../y/b';\nexport const a = b;\n",
      'stages/y/b.ts': "import { a } from '../x/a';\nexport const b = 1;\nexport const ab = () => a;\n",
    });
    const r = (await checkDependencies(['pipelines', 'stages'], { baseDir: root, tsConfig: null })) as { failures: Violation[]; known: Violation[] };
    const rows = (vs: Violation[]) => vs.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(rows(r.failures)).toEqual([
      'eval-not-into-trainer-plumbing: stages/eval/checkpoints.ts → stages/train/offline-trainer.ts',
      'no-folder-cycle: stages/eval → stages/train',
      'no-folder-cycle: stages/train → stages/eval',
      'no-folder-cycle: stages/x → stages/y',
      'no-folder-cycle: stages/y → stages/x',
      'no-stages-into-pipelines: stages/split/split.ts → pipelines/runner.ts',
    ]);
    expect(rows(r.known)).toEqual([]);
  }, 60_000);
});
