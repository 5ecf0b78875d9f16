import * as tf from '@tensorflow/tfjs-core';

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
  // WebGPU buffers hold float32 (tfjs-backend-webgpu's floatPrecision() is 32), and a synchronous
  // read there fails in Node and stalls in browsers: nothing to probe.
  if (tf.getBackend() === 'webgpu') return 32;
  const backend = tf.backend();
  let bits = probed.get(backend);
  if (bits === undefined) {
    const survivor = tf.tidy(() => tf.abs(tf.scalar(1e-8)).dataSync()[0] as number);
    bits = survivor > 0 ? 32 : 16;
    probed.set(backend, bits);
  }
  return bits;
}
