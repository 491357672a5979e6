/**
 * Gradient definitions for @tensorflow/tfjs-core used without the umbrella
 * `@tensorflow/tfjs` package.
 *
 * tfjs-core's Node entry (a CommonJS bundle) registers kernels' forward
 * functions only; the gradients live in its ES-module files
 * (`dist/register_all_gradients.js` and `dist/gradients/*`), which the umbrella
 * package bundles. Those files use extensionless relative imports, which
 * Node's ES-module loader rejects, so we install a narrow resolve hook (only
 * for relative specifiers inside tfjs-core's dist/) that appends `.js` (or
 * `/index.js`), then import the file. tfjs keeps its engine and registries in
 * a global namespace, so the gradients registered by that second copy of the
 * modules are the ones the engine uses; tensors are recognised across copies
 * by tfjs's duck-typed `instanceof`.
 *
 * Nothing is loaded when gradients are already registered (a native
 * `@tensorflow/tfjs-node` brings the umbrella package, which registers them).
 */
import * as nodeModule from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

const HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const parent = context.parentURL || '';
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (relative && !specifier.endsWith('.js') && parent.includes('/@tensorflow/tfjs-core/dist/')) {
      try {
        return await next(specifier + '.js', context);
      } catch {
        return await next(specifier + '/index.js', context);
      }
    }
    throw e;
  }
}
`;

let loading: Promise<void> | undefined;

/** True when the engine knows the gradient of a basic kernel. */
export function gradientsRegistered(): boolean {
  return tf.getGradient(tf.Sum) !== undefined && tf.getGradient(tf.BatchMatMul) !== undefined;
}

/** Register tfjs-core's gradient functions once per process (≈ 0.5 s the first time). */
export function ensureGradients(): Promise<void> {
  if (gradientsRegistered()) return Promise.resolve();
  loading ??= (async () => {
    const register = (nodeModule as { register?: (specifier: string) => void }).register;
    if (typeof register !== 'function')
      throw new Error(`training needs Node.js ≥ 20.6 (module.register, to load tfjs-core's gradients); this is ${process.version}`);
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    const specifier = '@tensorflow/tfjs-core/dist/register_all_gradients.js';
    await import(specifier);
    if (!gradientsRegistered()) throw new Error('tfjs-core gradients could not be registered');
  })();
  return loading;
}
