import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sources(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the AWS SDK is loaded only for s3:// paths', () => {
  it('no module of stages/ or pipelines/ imports @aws-sdk statically (type imports and import() only)', () => {
    const offenders: string[] = [];
    for (const file of [...sources('stages'), ...sources('pipelines')]) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'(@aws-sdk\/[^']+)'/gm)) if (!m[2]) offenders.push(`${file}: ${m[3]}`);
      for (const m of text.matchAll(/^\s*import\s+'(@aws-sdk\/[^']+)'/gm)) offenders.push(`${file}: ${m[1]}`);
    }
    expect(offenders).toEqual([]);
    // The one place it is loaded, on demand.
    expect(fs.readFileSync('stages/io/object-store/s3-client.ts', 'utf8')).toContain("import('@aws-sdk/client-s3')");
  });
});
