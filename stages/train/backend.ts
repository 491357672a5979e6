/**
 * Choosing the TensorFlow.js backend training runs on.
 *
 * Order (DESIGN.md "Backends"): native TensorFlow through
 * `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`, then WebGPU
 * (`@tensorflow/tfjs-backend-webgpu` on Dawn, the `webgpu` package; used
 * only when Dawn finds a GPU adapter), then WASM (SIMD), then the plain
 * JavaScript CPU backend. The WebGPU packages are optional too. The native packages are optional:
 * their install downloads libtensorflow, so they are not dependencies of this
 * package; they are loaded by dynamic import inside try/catch, and a missing
 * one costs a one-line notice, never a crash.
 *
 * The choice comes from the `backend` argument, else the RECPOST_BACKEND
 * environment variable, else `auto`. A named backend that cannot start falls
 * back along the same order with a notice.
 *
 * On WASM the backend runs single-threaded: the Node build has no worker
 * threads (WASM_HAS_MULTITHREAD_SUPPORT is false) and DESIGN.md measured a
 * 100× slowdown of matMul with setThreadsCount(2); measured here a 1024²
 * matMul runs at ≈ 40 GFLOP/s with SIMD on one thread.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Logger } from '../core/logger.js';
import { registerTrainingKernels } from './training-kernels.js';
import { ensureGradients } from './tfjs-gradients.js';

export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_CHOICES)[number];
export type BackendName = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The tfjs backend now active. */
  name: BackendName;
  /** e.g. "wasm (simd, 1 thread)" or "tensorflow (@tensorflow/tfjs-node-gpu)". */
  description: string;
  /** One line per backend that was tried and could not start. */
  notices: string[];
}

/** Loads a module by name; injectable so tests can simulate missing packages. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

export interface InitBackendOptions {
  importer?: ModuleImporter;
  /**
   * Whether Dawn finds a GPU adapter, asked before Dawn starts in this
   * process. Default: a child process asks (Dawn prints its own multi-line
   * warnings on stderr when it finds none; the child's are kept out of the
   * log and its first line becomes the reason of the notice). With an
   * injected importer and no probe, Dawn is asked in process.
   */
  webgpuProbe?: WebgpuProbe;
  /** Environment to read RECPOST_BACKEND from (default process.env). */
  env?: Record<string, string | undefined>;
}

export const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** Dawn's Node bindings (native binary in the package) and the tfjs backend that runs on them. */
export const WEBGPU_PACKAGES = ['webgpu', '@tensorflow/tfjs-backend-webgpu'] as const;

const defaultImporter: ModuleImporter = (specifier) => import(specifier);

let wasmPathsSet = false;
let active: BackendInfo | undefined;

function resolvePreference(preferred: BackendPreference | undefined, env: Record<string, string | undefined>): BackendPreference {
  if (preferred && preferred !== 'auto') return preferred;
  const fromEnv = env.RECPOST_BACKEND?.trim().toLowerCase();
  if (fromEnv && fromEnv !== 'auto') {
    if ((BACKEND_CHOICES as readonly string[]).includes(fromEnv)) return fromEnv as BackendPreference;
    throw new Error(`RECPOST_BACKEND must be one of ${BACKEND_CHOICES.join(', ')}; got ${JSON.stringify(env.RECPOST_BACKEND)}`);
  }
  return 'auto';
}

function shortReason(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') return 'not installed';
  const msg = String(err?.message ?? e).split('\n')[0]!;
  return msg.length > 120 ? `${msg.slice(0, 117)}...` : msg;
}

async function tryNative(importer: ModuleImporter, notices: string[]): Promise<BackendInfo | undefined> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await importer(pkg);
    } catch (e) {
      notices.push(`${pkg}: ${shortReason(e)}`);
      continue;
    }
    // The package registers "tensorflow" on the tfjs-core copy it imports; if
    // that copy is not ours (version mismatch), our registry does not see it.
    let registered = false;
    try {
      registered = tf.findBackendFactory('tensorflow') != null;
    } catch {
      registered = false;
    }
    if (!registered) {
      notices.push(`${pkg}: loaded but not registered with this @tensorflow/tfjs-core (install version ${tf.version_core})`);
      continue;
    }
    let ok = false;
    try {
      ok = await tf.setBackend('tensorflow');
    } catch (e) {
      notices.push(`${pkg}: loaded but the backend failed to start (${shortReason(e)})`);
      continue;
    }
    if (!ok) {
      notices.push(`${pkg}: loaded but the backend failed to start`);
      continue;
    }
    return { name: 'tensorflow', description: `tensorflow (${pkg})`, notices };
  }
  return undefined;
}

/** What the `webgpu` package exports (dawn.node): create(flags) → navigator.gpu, and the WebGPU globals. */
interface DawnModule {
  create(flags: string[]): { requestAdapter(): Promise<DawnAdapter | null> };
  globals?: Record<string, unknown>;
}

interface DawnAdapter {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string };
}

/** Whether an adapter exists; when not, why (one line). */
export type WebgpuProbe = () => Promise<{ adapter: boolean; reason?: string }>;

const PROBE_SCRIPT = `
const { create } = await import(process.argv[1]);
let adapter = null;
try { adapter = await create([]).requestAdapter(); } catch (e) { process.stderr.write(String(e && e.message || e) + '\\n'); }
process.stdout.write(JSON.stringify({ adapter: adapter != null }));
process.exit(0);
`;

/** Ask Dawn for an adapter in a child process (its stderr stays there); 20 s at most. */
export const childWebgpuProbe: WebgpuProbe = async () => {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = pathToFileURL(require.resolve('webgpu')).href;
  } catch {
    return { adapter: false, reason: 'not installed' };
  }
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', PROBE_SCRIPT, entry], { timeout: 20_000 }, (error, stdout, stderr) => {
      const firstLine = stderr
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l !== '')
        ?.replace(/^Warning:\s*/, '');
      try {
        const r = JSON.parse(stdout) as { adapter: boolean };
        if (r.adapter) return resolve({ adapter: true });
      } catch {
        return resolve({ adapter: false, reason: `the adapter probe failed (${error ? shortReason(error) : 'no answer'})` });
      }
      resolve({ adapter: false, ...(firstLine ? { reason: `Dawn: ${firstLine.length > 100 ? `${firstLine.slice(0, 97)}...` : firstLine}` } : {}) });
    });
  });
};

/** The Dawn instance in use; referenced while the webgpu backend is active (Dawn lives as long as it is referenced). */
let dawnGpu: unknown;

function dawnModule(mod: unknown): DawnModule | undefined {
  const m = mod as { create?: unknown; default?: { create?: unknown } } | null;
  if (typeof m?.create === 'function') return m as DawnModule;
  if (typeof m?.default?.create === 'function') return m.default as DawnModule;
  return undefined;
}

/** navigator.gpu = gpu (Node 20 has no navigator; Node 21+ has one without gpu). */
function setNavigatorGpu(gpu: unknown): void {
  const g = globalThis as { navigator?: object };
  if (typeof g.navigator === 'object' && g.navigator !== null) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
}

/**
 * WebGPU through Dawn: ask Dawn for an adapter first (no adapter: a notice,
 * and nothing else is loaded or left referenced, so the process can exit),
 * then load tfjs-backend-webgpu, which reads navigator.gpu and the WebGPU
 * constants from globalThis.
 */
async function tryWebgpu(importer: ModuleImporter, notices: string[], probe: WebgpuProbe | undefined): Promise<BackendInfo | undefined> {
  const NO_ADAPTER = 'webgpu: no usable GPU adapter (Dawn needs libvulkan1 and a GPU Vulkan driver)';
  if (probe) {
    const p = await probe();
    if (!p.adapter) {
      notices.push(p.reason === 'not installed' ? 'webgpu: not installed' : `${NO_ADAPTER.slice(0, -1)}${p.reason ? `; ${p.reason}` : ''})`);
      return undefined;
    }
  }
  let dawn: DawnModule | undefined;
  try {
    dawn = dawnModule(await importer('webgpu'));
  } catch (e) {
    notices.push(`webgpu: ${shortReason(e)}`);
    return undefined;
  }
  if (!dawn) {
    notices.push('webgpu: the package has no create() (not the Dawn bindings)');
    return undefined;
  }
  let gpu: ReturnType<DawnModule['create']>;
  let adapter: DawnAdapter | null;
  try {
    gpu = dawn.create([]);
    adapter = await gpu.requestAdapter();
  } catch (e) {
    notices.push(`webgpu: Dawn failed to start (${shortReason(e)})`);
    return undefined;
  }
  if (!adapter) {
    notices.push(NO_ADAPTER);
    return undefined;
  }
  Object.assign(globalThis, dawn.globals ?? {});
  setNavigatorGpu(gpu);
  dawnGpu = gpu;
  const fail = (msg: string): undefined => {
    notices.push(msg);
    setNavigatorGpu(undefined);
    dawnGpu = undefined;
    return undefined;
  };
  try {
    await importer('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return fail(`@tensorflow/tfjs-backend-webgpu: ${shortReason(e)}`);
  }
  if (tf.findBackendFactory('webgpu') == null)
    return fail(`@tensorflow/tfjs-backend-webgpu: loaded but not registered with this @tensorflow/tfjs-core (install version ${tf.version_core})`);
  try {
    if (!(await tf.setBackend('webgpu'))) return fail('webgpu: an adapter was found but the backend failed to start');
  } catch (e) {
    return fail(`webgpu: an adapter was found but the backend failed to start (${shortReason(e)})`);
  }
  const i = adapter.info ?? {};
  const card = i.description || [i.vendor, i.architecture, i.device].filter(Boolean).join(' ') || 'GPU adapter';
  return { name: 'webgpu', description: `webgpu (${card}, Dawn)`, notices };
}

async function tryWasm(notices: string[]): Promise<BackendInfo | undefined> {
  try {
    if (!wasmPathsSet) {
      const require = createRequire(import.meta.url);
      const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      setWasmPaths(`${dir}${path.sep}`);
      wasmPathsSet = true;
    }
    if (!(await tf.setBackend('wasm'))) {
      notices.push('wasm: the backend failed to initialise');
      return undefined;
    }
  } catch (e) {
    notices.push(`wasm: ${shortReason(e)}`);
    return undefined;
  }
  registerTrainingKernels('wasm');
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const threads = getThreadsCount();
  return { name: 'wasm', description: `wasm (${simd ? 'simd' : 'no simd'}, ${threads} thread${threads === 1 ? '' : 's'})`, notices };
}

async function useCpu(notices: string[]): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new Error(`no TensorFlow.js backend could start (${notices.join('; ')})`);
  registerTrainingKernels('cpu');
  return { name: 'cpu', description: 'cpu (plain JavaScript; slow, for small models and tests)', notices };
}

/**
 * Start the preferred backend (falling back as described above), register
 * the kernels training needs, and log one line `backend: <description>`
 * (plus one line naming what was unavailable, when something was).
 * Calling it again with the same preference returns at once.
 */
export async function initBackend(
  preferred: BackendPreference = 'auto',
  log?: Pick<Logger, 'info' | 'warn'>,
  opts: InitBackendOptions = {},
): Promise<BackendInfo> {
  const pref = resolvePreference(preferred, opts.env ?? process.env);
  const importer = opts.importer ?? defaultImporter;
  if (active && (pref === 'auto' || pref === active.name) && tf.getBackend() === active.name && !opts.importer) {
    log?.info(`backend: ${active.description}`);
    return active;
  }
  const notices: string[] = [];
  let info: BackendInfo | undefined;
  const order: BackendName[] =
    pref === 'cpu' ? ['cpu'] : pref === 'wasm' ? ['wasm', 'cpu'] : pref === 'webgpu' ? ['webgpu', 'wasm', 'cpu'] : ['tensorflow', 'webgpu', 'wasm', 'cpu'];
  for (const name of order) {
    if (name === 'tensorflow') info = await tryNative(importer, notices);
    else if (name === 'webgpu') info = await tryWebgpu(importer, notices, opts.webgpuProbe ?? (opts.importer ? undefined : childWebgpuProbe));
    else if (name === 'wasm') info = await tryWasm(notices);
    else info = await useCpu(notices);
    if (info) break;
  }
  await tf.ready();
  await ensureGradients();
  active = info!;
  if (active.name !== 'webgpu' && dawnGpu !== undefined) {
    // Another backend now: let Dawn go, or its reference keeps the process alive.
    setNavigatorGpu(undefined);
    dawnGpu = undefined;
  }
  if (notices.length) {
    const msg = `backend: ${notices.join('; ')}; using ${active.name}`;
    // Asking for a backend by name and not getting it deserves a warning;
    // auto mode falling past absent native packages is routine.
    if (pref !== 'auto' && pref !== active.name) log?.warn(msg);
    else log?.info(msg);
  }
  log?.info(`backend: ${active.description}`);
  return active;
}

/** The backend initialised last, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}
