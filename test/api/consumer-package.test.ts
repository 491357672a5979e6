/**
 * SLOW (about a minute: a full build): the package as a user gets it.
 *
 * Builds the sources into a clean copy of the working tree, `npm pack`s it,
 * and installs the tarball into an empty project, then, in that project:
 * a script imports `recpost` and runs a stage through runStage, a TypeScript
 * file type-checks against the shipped declarations, and
 * `npx recpost run node_modules/recpost/pipelines/examples/ingest-split-stats.yaml`
 * runs an example from the installed package.
 *
 * The install works offline: npm's cache on a CI machine holds the tarballs
 * `npm ci` fetched but not the registry metadata `npm install <tgz>` asks
 * for, so the test does what npm would do with the answers: the tarball is
 * extracted into node_modules/recpost, its bin linked into node_modules/.bin,
 * and each of its declared `dependencies` linked from this checkout's
 * node_modules. Only declared dependencies are there, so a runtime import of
 * a devDependency or of a file left out of `files` fails here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const REPO = process.cwd();
const TSC = require.resolve('typescript/bin/tsc');
const NPM_ENV = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_offline: 'true' };

let tmp: string;
let consumer: string;
let packed: { files: { path: string }[] };

function run(cmd: string, args: string[], cwd: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(cmd, args, { cwd, env: NPM_ENV, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A copy of the working tree as git sees it (tracked and untracked, not ignored): no dist/, runs/ or node_modules/. */
function copyTree(to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    if (!fs.existsSync(path.join(REPO, f))) continue; // deleted, not yet committed
    fs.mkdirSync(path.dirname(path.join(to, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(to, f));
  }
}

/** What `npm install <tarball>` leaves in node_modules, without asking the registry (see the file comment). */
function installTarball(tgz: string, project: string): void {
  const pkgDir = path.join(project, 'node_modules', 'recpost');
  fs.mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', pkgDir, '--strip-components=1']);
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    bin: Record<string, string>;
  };
  for (const dep of Object.keys(manifest.dependencies)) {
    const link = path.join(project, 'node_modules', dep);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules', dep)), link, 'dir');
  }
  const bin = path.join(project, 'node_modules', '.bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const [name, rel] of Object.entries(manifest.bin)) {
    fs.chmodSync(path.join(pkgDir, rel), 0o755);
    fs.symlinkSync(path.join('..', 'recpost', rel), path.join(bin, name));
  }
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recpost-consumer-'));
  const stage = path.join(tmp, 'source');
  copyTree(stage);
  // The build needs the compiler's type packages; npm pack never ships node_modules.
  fs.symlinkSync(fs.realpathSync(path.join(REPO, 'node_modules')), path.join(stage, 'node_modules'), 'dir');
  const build = run(process.execPath, [TSC, '-p', path.join(stage, 'tsconfig.build.json')], stage);
  expect(build.err + build.out).toBe('');
  const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], stage);
  expect(pack.code, pack.err).toBe(0);
  packed = (JSON.parse(pack.out) as (typeof packed & { filename: string })[])[0]!;
  consumer = path.join(tmp, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  installTarball(path.join(tmp, (packed as unknown as { filename: string }).filename), consumer);
}, 240_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('consumer project (npm pack → install → use; slow)', () => {
  it('the tarball ships the build, the pipeline files and the samples, and no tests, benchmarks or CI scripts', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/pipelines/cli.js',
      'dist/stages/weighting/public.js',
      'pipelines/default.yaml',
      'pipelines/examples/ingest-split-stats.yaml',
      'data/samples/ratings-sim.dat',
      'data/presets/ratings-small.json',
    ]) {
      expect(files).toContain(f);
    }
    expect(
      files.filter((f) => /^(test|bench|\.ci|dist\/bench|dist\/test|notes)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map')),
    ).toEqual([]);
    // About two files (.js, .d.ts) per source module (≈ 410 now) plus the YAML and samples; tests would add hundreds.
    expect(files.length).toBeLessThan(1000);
  });

  it('a script imports recpost, runs a stage through runStage, and cannot reach internal modules', () => {
    fs.writeFileSync(
      path.join(consumer, 'etl.mjs'),
      [
        "import { runStage, ConfigError } from 'recpost';",
        "import { createOfflineObjective } from 'recpost/weighting';",
        "const batch = { table: 'examples', numRows: 3, columns: { user_id: Int32Array.of(0, 1, 2), action: Int32Array.of(1, 2, 3), reward: Float32Array.of(1, 3, 5) } };",
        "const out = await runStage('exp_rsft', { lambda: 2, shift: 5 }, [batch]).toArray();",
        "let bad = '';",
        "try { runStage('exp_rsft', { lambda: 0 }, [batch]); } catch (e) { bad = e instanceof ConfigError ? e.message : 'not a ConfigError'; }",
        "let internal = '';",
        "try { await import('recpost/stages/registry'); internal = 'importable'; } catch (e) { internal = e.code; }",
        "const direct = createOfflineObjective('rsft_linear', {}).weigh({ reward: Float64Array.of(2, 4) }, null).result.weight;",
        'console.log(JSON.stringify({ table: out[0].table, weights: Array.from(out[0].columns.weight), bad, internal, direct: Array.from(direct) }));',
      ].join('\n'),
    );
    const r = run(process.execPath, ['etl.mjs'], consumer);
    expect(r.code, r.err).toBe(0);
    const got = JSON.parse(r.out) as { table: string; weights: number[]; bad: string; internal: string; direct: number[] };
    expect(got.table).toBe('weighted_examples');
    // Exp-RSFT, w = exp((r − c)/λ) with c = 5, λ = 2.
    [1, 3, 5].forEach((rw, i) => expect(got.weights[i]).toBeCloseTo(Math.exp((rw - 5) / 2), 6));
    expect(got.bad).toBe('stage "exp_rsft": field "lambda" must be > 0, got 0');
    expect(got.internal).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    expect(got.direct).toEqual([2, 4]);
  });

  it('TypeScript code type-checks against the shipped declarations, stage options included', () => {
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['etl.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(consumer, 'etl.ts'),
      [
        "import { runStage, type Batch, type StageOptions } from 'recpost';",
        'declare const batches: Batch[];',
        "const options: StageOptions<'train_sasrec'> = { objective: { name: 'drpo', rho: 0.5 }, epochs: 2 };",
        "runStage('train_sasrec', options, batches);",
        '// @ts-expect-error lambda is not an option of drpo',
        "runStage('train_sasrec', { objective: { name: 'drpo', lambda: 1 } }, batches);",
        '',
      ].join('\n'),
    );
    const r = run(process.execPath, [TSC, '-p', 'tsconfig.json'], consumer);
    expect(r.out + r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it('npx recpost runs an example pipeline from the installed package, writing under the current directory', () => {
    const version = run('npx', ['--no-install', 'recpost', '--version'], consumer);
    expect(version.out.trim()).toBe('0.1.0');
    const example = 'node_modules/recpost/pipelines/examples/ingest-split-stats.yaml';
    const r = run('npx', ['--no-install', 'recpost', 'run', example, '--quiet'], consumer);
    expect(r.code, r.err).toBe(0);
    const stats = JSON.parse(fs.readFileSync(path.join(consumer, 'runs', 'ingest-split-stats', 'reward_stats.json'), 'utf8')) as {
      count: number;
      min: number;
      max: number;
    };
    expect(stats.count).toBeGreaterThan(0);
    expect(stats.min).toBeGreaterThanOrEqual(1);
    expect(stats.max).toBeLessThanOrEqual(5);
    expect(fs.existsSync(path.join(consumer, 'runs', 'ingest-split-stats', 'interactions', '_manifest.json'))).toBe(true);
    expect(fs.existsSync(path.join(consumer, 'node_modules', 'recpost', 'runs'))).toBe(false);
  });
});
