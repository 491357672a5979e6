/**
 * Checkpoints that verify themselves. A checkpoint written by this version
 * records in checkpoint.json
 *
 *   integrity: {
 *     weightsSha256   SHA-256 of weights.bin
 *     weightsBytes    its exact size
 *     configSha256    SHA-256 of the training configuration (`training`, the
 *                     options a resume must repeat; canonical JSON)
 *     metaSha256      SHA-256 of checkpoint.json itself without `integrity`
 *                     and `createdAt` (canonical JSON)
 *   }
 *
 * Reading checks the structure of checkpoint.json (every field a loader uses,
 * the tensor table against its shapes and the file size), the two content
 * hashes, and that every stored value is finite. Each failure is one
 * CheckpointError naming the directory and what is wrong; it is a ConfigError,
 * so the CLI exits 2 with that line. Checkpoints written before hashes were
 * recorded (no `integrity`) are still checked for structure, size and
 * finiteness.
 */
import { LocatedConfigError } from '../core/config-schema.js';
import { jsonSha256 } from '../core/content-hash.js';

export interface CheckpointIntegrity {
  weightsSha256: string;
  weightsBytes: number;
  configSha256: string;
  metaSha256: string;
}

/** A checkpoint that cannot be used as it is: names the directory and the problem. */
export class CheckpointError extends LocatedConfigError {
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`checkpoint ${dir}: ${problem}`, [problem]);
    this.name = 'CheckpointError';
  }
}

/** The hash of checkpoint.json's content: everything but `integrity` and `createdAt`, as it reads back from JSON. */
export function metaSha256(meta: object): string {
  const { integrity: _i, createdAt: _c, ...rest } = meta as Record<string, unknown>;
  return jsonSha256(JSON.parse(JSON.stringify(rest)) as unknown);
}

/** The hash of a training configuration (what resume-check.ts compares field by field). */
export function configSha256(training: Record<string, unknown> | undefined): string {
  return jsonSha256(training === undefined ? null : (JSON.parse(JSON.stringify(training)) as unknown));
}

interface TensorLike {
  name: string;
  offset: number;
  length: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Check one tensor table (`params` or `optimizerTensors`) laid out from byte `start`; returns where it ends. */
function checkTensorTable(dir: string, table: unknown, field: string, start: number, seen: Set<string>): number {
  if (!Array.isArray(table)) throw new CheckpointError(dir, `checkpoint.json: "${field}" must be a list of tensors`);
  let offset = start;
  table.forEach((e: unknown, i) => {
    const where = `checkpoint.json: ${field}[${i}]`;
    if (!isRecord(e) || typeof e.name !== 'string') throw new CheckpointError(dir, `${where} needs a "name" string`);
    const name = `${field}[${i}] "${e.name}"`;
    if (seen.has(`${field}:${e.name}`)) throw new CheckpointError(dir, `checkpoint.json: ${name} appears twice`);
    seen.add(`${field}:${e.name}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount))
      throw new CheckpointError(dir, `checkpoint.json: ${name} has shape ${JSON.stringify(e.shape)}, not a list of non-negative integers`);
    if (e.dtype !== 'float32') throw new CheckpointError(dir, `checkpoint.json: ${name} has dtype ${JSON.stringify(e.dtype)}; only float32 is stored`);
    const size = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (e.length !== size)
      throw new CheckpointError(dir, `checkpoint.json: ${name} has length ${JSON.stringify(e.length)} but shape [${e.shape}] holds ${size} values`);
    if (e.offset !== offset)
      throw new CheckpointError(
        dir,
        `checkpoint.json: ${name} starts at byte ${JSON.stringify(e.offset)}, expected ${offset} (tensors are stored back to back)`,
      );
    offset += size * 4;
  });
  return offset;
}

/**
 * Check that a parsed checkpoint.json has every field loaders use, with the
 * right types, and a consistent tensor table; returns the bytes weights.bin
 * must hold.
 */
export function checkMetaStructure(dir: string, meta: Record<string, unknown>): number {
  const need = (field: string, ok: boolean, what: string) => {
    if (!ok)
      throw new CheckpointError(
        dir,
        `checkpoint.json: "${field}" ${meta[field] === undefined ? 'is missing' : `is ${JSON.stringify(meta[field])}`}; it must be ${what}`,
      );
  };
  need('kind', typeof meta.kind === 'string', 'the model kind (a string)');
  need('method', typeof meta.method === 'string', 'the method label (a string)');
  need('model', isRecord(meta.model), "the model's configuration (an object)");
  need('step', isCount(meta.step), 'a non-negative integer');
  need('epoch', isCount(meta.epoch), 'a non-negative integer');
  need('seed', typeof meta.seed === 'number' && Number.isInteger(meta.seed), 'an integer');
  const pos = meta.position;
  need(
    'position',
    pos === null || pos === undefined || (isRecord(pos) && isCount(pos.epoch) && isCount(pos.batch) && isCount(pos.rows)),
    'null or {epoch, batch, rows} of non-negative integers',
  );
  if (meta.optimizer !== undefined)
    need('optimizer', isRecord(meta.optimizer) && isCount(meta.optimizer.step), '{kind, step, config} with a non-negative integer step');
  if (meta.integrity !== undefined) {
    const g = meta.integrity;
    need(
      'integrity',
      isRecord(g) && typeof g.weightsSha256 === 'string' && typeof g.metaSha256 === 'string' && typeof g.configSha256 === 'string' && isCount(g.weightsBytes),
      '{weightsSha256, weightsBytes, configSha256, metaSha256}',
    );
  }
  const seen = new Set<string>();
  const end = checkTensorTable(dir, meta.params, 'params', 0, seen);
  return checkTensorTable(dir, meta.optimizerTensors ?? [], 'optimizerTensors', end, seen);
}

/** Check checkpoint.json against its recorded content hash (when it has one). */
export function checkMetaHash(dir: string, meta: Record<string, unknown>): void {
  const g = meta.integrity as CheckpointIntegrity | undefined;
  if (!g) return;
  if (metaSha256(meta) !== g.metaSha256)
    throw new CheckpointError(
      dir,
      'checkpoint.json was changed after the checkpoint was written (its content hash does not match integrity.metaSha256); restore the file or retrain',
    );
  const training = meta.training as Record<string, unknown> | undefined;
  if (configSha256(training) !== g.configSha256)
    throw new CheckpointError(dir, 'checkpoint.json: the training configuration does not match integrity.configSha256; restore the file or retrain');
}

/** Check weights.bin's size and content hash. */
export function checkWeightsBytes(dir: string, meta: Record<string, unknown>, expectedBytes: number, actualBytes: number, actualSha256: () => string): void {
  const g = meta.integrity as CheckpointIntegrity | undefined;
  if (actualBytes < expectedBytes) {
    const tensors = [...(meta.params as TensorLike[]), ...((meta.optimizerTensors as TensorLike[] | undefined) ?? [])];
    const cut = tensors.find((t) => t.offset + t.length * 4 > actualBytes);
    throw new CheckpointError(
      dir,
      `weights.bin: truncated (tensor "${cut?.name}" ends at byte ${cut ? cut.offset + cut.length * 4 : expectedBytes}, the file has ${actualBytes} of the ${expectedBytes} bytes the tensor table needs)`,
    );
  }
  if (actualBytes > expectedBytes)
    throw new CheckpointError(
      dir,
      `weights.bin has ${actualBytes} bytes, the tensor table describes ${expectedBytes}: the file was altered or belongs to another checkpoint`,
    );
  if (g && g.weightsBytes !== actualBytes) throw new CheckpointError(dir, `weights.bin has ${actualBytes} bytes, the checkpoint recorded ${g.weightsBytes}`);
  if (g && actualSha256() !== g.weightsSha256)
    throw new CheckpointError(
      dir,
      'weights.bin was altered after the checkpoint was written (its SHA-256 does not match integrity.weightsSha256); restore it or retrain',
    );
}

/** Throw on the first NaN or ±Infinity of a stored tensor. */
export function checkFinite(dir: string, name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0)
      throw new CheckpointError(
        dir,
        `tensor "${name}" holds ${v} at index ${i}: a checkpoint with non-finite weights cannot be evaluated or resumed (retrain with a lower lr or clip_norm)`,
      );
  }
}
