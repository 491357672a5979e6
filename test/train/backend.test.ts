import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../stages/train/backend.js';
import { memoryLogger } from '../../stages/core/logger.js';

const missing = async (specifier: string): Promise<unknown> => {
  throw Object.assign(new Error(`Cannot find package '${specifier}' imported from recpost`), { code: 'ERR_MODULE_NOT_FOUND' });
};

afterAll(async () => {
  await initBackend('wasm');
});

describe('backend choice', () => {
  it('falls back past missing native and WebGPU packages to WASM with a one-line notice', async () => {
    const log = memoryLogger();
    const tried: string[] = [];
    const info = await initBackend('auto', log, { importer: (s) => (tried.push(s), missing(s)), env: {} });
    expect(tried).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'webgpu']);
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(log.lines).toEqual([
      'backend: @tensorflow/tfjs-node-gpu: not installed; @tensorflow/tfjs-node: not installed; webgpu: not installed; using wasm',
      'backend: wasm (simd, 1 thread)',
    ]);
  });

  it('a native package that loads but registers no backend (version mismatch) is also skipped', async () => {
    const log = memoryLogger();
    const info = await initBackend('tensorflow', log, { importer: async () => ({}), env: {} });
    expect(info.name).toBe('wasm');
    expect(log.lines[0]).toMatch(/^warning: backend: @tensorflow\/tfjs-node-gpu: loaded but not registered .*; using wasm$/);
    expect(log.lines).toHaveLength(2);
  });

  it('RECPOST_BACKEND chooses when the option says auto, and a bad value is an error naming the choices', async () => {
    const log = memoryLogger();
    const info = await initBackend('auto', log, { importer: missing, env: { RECPOST_BACKEND: 'cpu' } });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(log.lines).toEqual(['backend: cpu (plain JavaScript; slow, for small models and tests)']);
    await expect(initBackend('auto', log, { importer: missing, env: { RECPOST_BACKEND: 'gpu' } })).rejects.toThrow(
      /RECPOST_BACKEND must be one of auto, tensorflow, webgpu, wasm, cpu; got "gpu"/,
    );
  });
});
