import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';

// Folders point one way: evaluation loads policies through the model
// registry and never reaches trainer code; trainers never import evaluation.
// Followed here: the runtime imports of the source (`import type` is erased).

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Relative runtime imports of a TypeScript file, as absolute .ts paths. */
function runtimeImports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (m[2]) continue;
    out.push(path.resolve(path.dirname(file), m[3]!.replace(/\.js$/, '.ts')));
  }
  for (const m of src.matchAll(/^\s*import\s+'(\.[^']+)'/gm)) out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  return out;
}

/** Every file reachable from `entries` by runtime imports. */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...entries];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f) || !fs.existsSync(f)) continue;
    seen.add(f);
    todo.push(...runtimeImports(f));
  }
  return seen;
}

const rel = (f: string) => path.relative(ROOT, f);
const dir = (d: string) =>
  fs
    .readdirSync(path.join(ROOT, d))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(ROOT, d, f));

describe('folders point one way', () => {
  it('the import walker sees runtime imports and skips type-only ones', () => {
    const reached = [...reachable([path.join(ROOT, 'stages/train/online-trainer.ts')])].map(rel);
    expect(reached).toContain('stages/train/adam.ts');
    expect(reached).toContain('stages/train/losses/clipped-surrogate.ts');
    // offline-trainer.ts is imported by online-trainer.ts for types only
    expect(reached).not.toContain('stages/train/offline-trainer.ts');
  });

  it('evaluation (its stages and library; the CLI command aside) reaches no trainer code', () => {
    const entries = dir('stages/eval').filter((f) => path.basename(f) !== 'commands.ts');
    const reached = [...reachable(entries)].map(rel);
    expect(reached).toContain('stages/train/load-policy.ts');
    expect(reached).toContain('stages/train/model-registry.ts');
    const trainerCode = reached.filter((f) =>
      /^stages\/train\/(offline-trainer|online-trainer|online-step|adam|stage-support|trainer-options|train-[a-z]+-stage|commands|index)\.ts$/.test(f),
    );
    expect(trainerCode).toEqual([]);
  });

  it('training does not import evaluation', () => {
    const reached = [...reachable(dir('stages/train').filter((f) => path.basename(f) !== 'commands.ts'))].map(rel);
    expect(reached.filter((f) => f.startsWith('stages/eval/'))).toEqual([]);
  });
});
