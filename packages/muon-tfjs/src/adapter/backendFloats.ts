import * as tf from '@tensorflow/tfjs-core';
import type { Stabilizer } from '../transforms/gradientTransformation.js';

/** What the precision check needs to know of a TF.js backend. */
export interface BackendFloats {
  readonly name: string;
  /** Bits of the floats the backend stores: 16 on WebGL without float32 render targets. */
  readonly floatPrecision: 16 | 32;
}

/**
 * The smallest constant a backend keeps: tfjs's `EPSILON_FLOAT16` and `EPSILON_FLOAT32` (tfjs-core
 * backends/backend.ts), the ε tfjs's own optimizers default to. float16's smallest normal number is
 * 6.1e-5; below it values are subnormal or, on GPUs that flush them, zero.
 */
export function smallestUsableConstant(floatPrecision: 16 | 32): number {
  return floatPrecision === 16 ? 1e-4 : 1e-7;
}

const probed = new WeakMap<tf.KernelBackend, 16 | 32>();

/**
 * The bits of the floats the current backend really stores, found by tfjs's own test: 1e-8 is
 * sent through a kernel (`abs`) and read back; it survives at 32 bits and becomes 0 at 16. Asked
 * once per backend instance. `KernelBackend.floatPrecision()` cannot be used: tfjs-backend-webgl
 * 4.22 runs this test only when float32 rendering is disabled and returns 16 otherwise, so it
 * reports 16 on every device that has float32 textures.
 */
export function backendFloatPrecision(): 16 | 32 {
  const backend = tf.backend();
  let bits = probed.get(backend);
  if (bits === undefined) {
    const survivor = tf.tidy(() => tf.abs(tf.scalar(1e-8)).dataSync()[0] as number);
    bits = survivor > 0 ? 32 : 16;
    probed.set(backend, bits);
  }
  return bits;
}

/**
 * The stabilizers that vanish on `backend`. Only 16-bit backends lose any: AdamW's 1e-8 or
 * NorMuon's 1e-10 is stored as 0 there (or as a subnormal that GPUs flush to 0), and a zero input
 * then gives 0/0 — or a tiny second moment, itself flushed to 0, gives m/0 = ±Inf. The threshold
 * is {@link smallestUsableConstant}. At 32 bits every positive finite stabilizer the options accept
 * is kept.
 */
export function unrepresentableStabilizers(stabilizers: readonly Stabilizer[], backend: BackendFloats): Stabilizer[] {
  if (backend.floatPrecision !== 16) return [];
  const smallest = smallestUsableConstant(16);
  return stabilizers.filter((s) => s.value < smallest);
}

/**
 * Refuses to step on a backend where a stabilizer vanishes, naming the option, its value, the
 * backend and the smallest value that works there. The library does not raise the value itself:
 * ε = 1e-4 and ε = 1e-8 give different updates wherever √v is small, which is the user's choice.
 */
export function assertStabilizersRepresentable(stabilizers: readonly Stabilizer[], backend: BackendFloats, owner: string): void {
  const lost = unrepresentableStabilizers(stabilizers, backend);
  if (lost.length === 0) return;
  const smallest = String(smallestUsableConstant(backend.floatPrecision));
  const listed = lost.map((s) => `${s.option} = ${String(s.value)}${s.group === undefined ? '' : ` (group '${s.group}')`}`).join(', ');
  throw new Error(
    `${owner}: ${listed} cannot be stored by backend '${backend.name}', which keeps 16-bit floats (its smallest usable constant is ${smallest}): ` +
      `the value would become 0 and a zero or tiny gradient would write NaN or Inf. Set ${lost.length === 1 ? 'it' : 'them'} ≥ ${smallest} for this backend, ` +
      'or run where float32 textures are available (WEBGL_RENDER_FLOAT32_ENABLED). Nothing was updated.',
  );
}
