import * as tf from '@tensorflow/tfjs-core';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { loadNativeAddon } from './nativeAddon.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';

/** Which kernel {@link fastestOrthogonalizer} runs on the current backend, and why. */
export interface OrthogonalizerChoice {
  readonly kernel: 'native' | 'tfjs';
  readonly reason: string;
}

/** Backends whose tensors live in CPU memory, where handing them to native code costs one copy. */
const CPU_RESIDENT_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

/** Says which kernel {@link fastestOrthogonalizer} would run now (for logs, READMEs, benchmarks). */
export function describeFastestOrthogonalizer(): OrthogonalizerChoice {
  const status = loadNativeAddon();
  const backend = tf.getBackend();
  if (!status.available) return { kernel: 'tfjs', reason: status.reason };
  // tf.getBackend() is undefined until a backend is set or first used (then tfjs picks one).
  if ((backend as string | undefined) === undefined) {
    return { kernel: 'native', reason: `no TF.js backend set yet: the OpenBLAS addon at ${status.path} runs once it is ${[...CPU_RESIDENT_BACKENDS].join(', ')}` };
  }
  if (!CPU_RESIDENT_BACKENDS.has(backend)) return { kernel: 'tfjs', reason: `backend '${backend}' keeps tensors off the CPU` };
  return { kernel: 'native', reason: `OpenBLAS addon at ${status.path}` };
}

/**
 * The fastest available {@link Orthogonalizer}, decided per call: in Node with the native addon
 * built (`npm run build:native`, done by `npm ci`) and a CPU-resident backend (`cpu`, `wasm`), the
 * OpenBLAS kernel; everywhere else (browser, addon absent, GPU backends) Gram/plain Newton–Schulz
 * in TF.js with same-shape batching where the backend batches fast. Both compute the map of
 * `newtonSchulz` with the same schedule, each planning shapes under its own capabilities
 * (`planOrthogonalization`); the choice only changes speed and round-off.
 */
export function fastestOrthogonalizer(): Orthogonalizer {
  const tfjs = gramOrthogonalizer();
  let native: Orthogonalizer | undefined;
  return (matrices, schedule) => {
    if (describeFastestOrthogonalizer().kernel === 'native') {
      native ??= nativeOrthogonalizer();
      return native(matrices, schedule);
    }
    return tfjs(matrices, schedule);
  };
}
