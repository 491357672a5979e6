import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { childWebgpuProbe, initBackend, type ModuleImporter } from '../../stages/train/backend.js';
import { trainingThreads } from '../../stages/train/parallel/threads.js';
import { memoryLogger } from '../../stages/core/logger.js';

const notInstalled = (specifier: string) =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from recpost`), { code: 'ERR_MODULE_NOT_FOUND' });

/** An importer where only the listed modules exist; records what was asked for. */
function importerWith(modules: Record<string, unknown>, tried: string[] = []): ModuleImporter {
  return async (s) => {
    tried.push(s);
    if (s in modules) return modules[s];
    throw notInstalled(s);
  };
}

/** Dawn's bindings as the `webgpu` package exports them, with the adapter it finds (or none). */
const dawnWith = (adapter: object | null, onCreate?: () => void) => ({
  create: () => {
    onCreate?.();
    return { requestAdapter: async () => adapter };
  },
  globals: { GPUBufferUsage: { MAP_READ: 1 } },
});

const navigatorGpu = () => (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;

afterAll(async () => {
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  await initBackend('wasm');
});

describe('the WebGPU backend (Dawn) and its fallback', () => {
  it('asked for by name with no adapter: one warning line, then WASM; the tfjs backend is not even loaded', async () => {
    const log = memoryLogger();
    const tried: string[] = [];
    const info = await initBackend('webgpu', log, { importer: importerWith({ webgpu: dawnWith(null) }, tried), env: {} });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tried).toEqual(['webgpu']);
    expect(log.lines).toEqual([
      'warning: backend: webgpu: no usable GPU adapter (Dawn needs libvulkan1 and a GPU Vulkan driver); using wasm',
      'backend: wasm (simd, 1 thread)',
    ]);
    expect(navigatorGpu()).toBeUndefined();
  });

  it('auto tries WebGPU after the native packages and before WASM; a missing package is one more "not installed"', async () => {
    const log = memoryLogger();
    const tried: string[] = [];
    const info = await initBackend('auto', log, { importer: importerWith({}, tried), env: {} });
    expect(info.name).toBe('wasm');
    expect(tried).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'webgpu']);
    expect(log.lines[0]).toBe('backend: @tensorflow/tfjs-node-gpu: not installed; @tensorflow/tfjs-node: not installed; webgpu: not installed; using wasm');
  });

  it('Dawn that throws at start, or a package that is not Dawn, is a notice too', async () => {
    const log = memoryLogger();
    const broken = {
      create: () => {
        throw new Error('libvulkan.so.1: cannot open shared object file');
      },
    };
    await initBackend('webgpu', log, { importer: importerWith({ webgpu: broken }), env: {} });
    expect(log.lines[0]).toBe('warning: backend: webgpu: Dawn failed to start (libvulkan.so.1: cannot open shared object file); using wasm');
    const log2 = memoryLogger();
    await initBackend('webgpu', log2, { importer: importerWith({ webgpu: { default: {} } }), env: {} });
    expect(log2.lines[0]).toBe('warning: backend: webgpu: the package has no create() (not the Dawn bindings); using wasm');
  });

  it('an adapter without @tensorflow/tfjs-backend-webgpu: a notice, and navigator.gpu is let go', async () => {
    const log = memoryLogger();
    await initBackend('webgpu', log, { importer: importerWith({ webgpu: dawnWith({ info: { vendor: 'nvidia' } }) }), env: {} });
    expect(log.lines[0]).toBe('warning: backend: @tensorflow/tfjs-backend-webgpu: not installed; using wasm');
    expect(navigatorGpu()).toBeUndefined();
  });

  it('with an adapter and a backend registered as "webgpu", it is used and named after the card; leaving it lets Dawn go', async () => {
    // Stand-in for tfjs-backend-webgpu: importing it registers a backend named "webgpu" (here the CPU backend's class).
    const fakeBackendModule = {};
    const importer = importerWith({ webgpu: dawnWith({ info: { description: 'NVIDIA H200' } }), '@tensorflow/tfjs-backend-webgpu': fakeBackendModule });
    const register: ModuleImporter = async (s) => {
      const m = await importer(s);
      if (s === '@tensorflow/tfjs-backend-webgpu' && !tf.findBackendFactory('webgpu')) tf.registerBackend('webgpu', () => new MathBackendCPU());
      return m;
    };
    const log = memoryLogger();
    const info = await initBackend('webgpu', log, { importer: register, env: {} });
    expect(info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(log.lines).toEqual(['backend: webgpu (NVIDIA H200, Dawn)']);
    expect(navigatorGpu()).toBeDefined();
    expect((globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage).toEqual({ MAP_READ: 1 });
    // Training threads are one on the GPU, with a notice.
    const tlog = memoryLogger();
    expect(trainingThreads(4, 'webgpu', tlog)).toBe(1);
    expect(tlog.lines).toEqual(['train: threads 4 ignored on the WebGPU backend (the GPU does the work); training on one thread']);
    await initBackend('wasm', memoryLogger(), { env: {} });
    expect(navigatorGpu()).toBeUndefined();
  });

  it('on this machine (package absent, or Dawn without an adapter) `backend: webgpu` falls back to WASM in one line', async () => {
    const log = memoryLogger();
    const info = await initBackend('webgpu', log, { env: {} });
    expect(info.name).toBe('wasm');
    expect(log.lines[0]).toMatch(
      /^warning: backend: webgpu: (not installed|no usable GPU adapter \(Dawn needs libvulkan1 and a GPU Vulkan driver(; Dawn: .+)?\)); using wasm$/,
    );
    expect(log.lines).toHaveLength(2);
    // The probe runs Dawn in a child process, so Dawn's own stderr warnings stay out of this one.
    const probe = await childWebgpuProbe();
    expect(probe.adapter).toBe(false);
    expect(probe.reason === 'not installed' || probe.reason === undefined || probe.reason.startsWith('Dawn: ')).toBe(true);
  }, 60_000);

  it('a probe that finds no adapter gives its reason, and Dawn is never loaded in this process', async () => {
    const log = memoryLogger();
    const tried: string[] = [];
    const webgpuProbe = async () => ({ adapter: false, reason: "Dawn: Couldn't load Vulkan: libvulkan.so.1" });
    await initBackend('webgpu', log, { importer: importerWith({ webgpu: dawnWith({}) }, tried), env: {}, webgpuProbe });
    expect(tried).toEqual([]);
    expect(log.lines[0]).toBe(
      "warning: backend: webgpu: no usable GPU adapter (Dawn needs libvulkan1 and a GPU Vulkan driver; Dawn: Couldn't load Vulkan: libvulkan.so.1); using wasm",
    );
  });
});
