/**
 * Resume refuses a changed configuration. A checkpoint records the training
 * configuration (`training` in checkpoint.json): the stage's options that
 * decide what is trained (objective and its options, architecture, lr, batch
 * size, seed, …) plus a fingerprint of the training data. A resume compares
 * it with the configuration of the run that resumes, field by field, and
 * refuses any difference, naming every differing field, so two runs are never
 * silently mixed. Options that only decide how long or how often (epochs,
 * stop_after_steps, checkpoint_every, log_every, backend, …) may change.
 */
import { ConfigError } from '../core/config-schema.js';
import type { Logger } from '../core/logger.js';
import { typedArraysSha256 } from '../core/content-hash.js';

/** Options of the offline trainers a resume may change: length, bookkeeping and where things go, never what is trained. */
export const OFFLINE_RESUME_MAY_CHANGE: readonly string[] = [
  'epochs',
  'resume',
  'resume_from',
  'stop_after_steps',
  'checkpoint_every',
  'checkpoint_every_steps',
  'keep_last',
  'keep_best',
  'log_every',
  'valid_every',
  // How long, not what: a resume may change or drop it (a stopped run trains on only if patience or metric changes).
  'early_stopping',
  'phantom_every',
  'backend',
  // Like the backend, the thread count changes the numbers only within float rounding.
  'threads',
  'keep_input',
  'spill_rows',
  'output',
  'method',
  // A resumed run takes its weights from the checkpoint, never from `init`.
  'init',
];

/** Options of the online trainer a resume may change. */
export const ONLINE_RESUME_MAY_CHANGE: readonly string[] = [
  'updates',
  'resume',
  'resume_from',
  'stop_after_updates',
  'checkpoint_every',
  'keep_last',
  'backend',
  'keep_input',
  'spill_rows',
  'output',
  'method',
  // π₀ of a resumed run is its series' step-0 checkpoint.
  'init',
];

/**
 * The training configuration recorded in checkpoints: the stage's options
 * without those a resume may change, plus `extra` (the effective seed, the
 * data fingerprint). JSON-clean (undefined members dropped).
 */
export function trainingConfigOf(cfg: object, mayChange: readonly string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const skip = new Set(mayChange);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg)) if (!skip.has(k) && v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** The fingerprint of a trainer's collected training data (its typed arrays and row count). */
export function dataFingerprint(data: object & { numRows?: number; rows?: number }): { rows: number | undefined; sha256: string } {
  return { rows: data.numRows ?? data.rows, sha256: typedArraysSha256(data) };
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaves of a JSON value by dotted path (arrays are leaves: compared whole). */
function flatten(v: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (isPlainObject(v) && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  else out.set(prefix, v);
  return out;
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * Every field where `current` differs from `saved`, as
 * "field: the checkpoint has X, this run has Y", sorted by field. Pure; an
 * empty list means the configurations agree.
 */
export function trainingConfigDiff(saved: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const a = flatten(saved, '', new Map());
  const b = flatten(current, '', new Map());
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields
    .filter((f) => JSON.stringify(a.get(f)) !== JSON.stringify(b.get(f)))
    .map((f) => `${f}: the checkpoint has ${show(a.get(f))}, this run has ${show(b.get(f))}`);
}

/**
 * Throw a ConfigError naming every differing field when `current` is not the
 * configuration `saved` was trained with. A checkpoint without a recorded
 * configuration (older versions) cannot be checked: returns false so the
 * caller can say so.
 */
export function checkResumeConfig(dir: string, saved: Record<string, unknown> | undefined, current: Record<string, unknown>, label: string): boolean {
  if (saved === undefined) return false;
  const diff = trainingConfigDiff(saved, current);
  if (diff.length)
    throw new ConfigError(
      `${label}: cannot resume from ${dir}: the configuration changed (${diff.join('; ')}); resume with the checkpoint's configuration, or train afresh in another output directory`,
      diff.map((d) => d.slice(0, d.indexOf(':'))),
    );
  return true;
}

/**
 * The resume check of a trainer: refuse a changed configuration (ConfigError
 * naming every field); warn when the checkpoint predates recorded
 * configurations. No-op without a checkpoint or a current configuration.
 */
export function checkResumeOrWarn(
  resume: { dir: string; meta: { training?: Record<string, unknown> } } | undefined,
  current: Record<string, unknown> | undefined,
  label: string,
  log?: Pick<Logger, 'warn'>,
): void {
  if (!resume || !current) return;
  if (!checkResumeConfig(resume.dir, resume.meta.training, current, label))
    log?.warn(`${label}: ${resume.dir} was written without its training configuration; cannot check that this run repeats it`);
}
