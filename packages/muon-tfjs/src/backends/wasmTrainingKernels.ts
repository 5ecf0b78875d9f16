import { installWasmConvGradients } from './wasmConvGradients.js';
import { installWasmMatMulFastPath } from './wasmMatMulFastPath.js';

/**
 * Makes tfjs-backend-wasm 4.22 fit for training, opt-in and idempotent: transposed matMuls (every
 * Dense backward pass) are routed to XNNPACK through an explicit transpose instead of a scalar
 * loop 10–14× slower, `Conv2DBackpropFilter` (missing: a Conv2D cannot train) is registered as a
 * convolution on XNNPACK, and stride-1 'same' `Conv2DBackpropInput` runs as a flipped-kernel
 * convolution. Each replacement computes the same product (summation order aside) and is tested
 * against the cpu backend. Call once after the wasm backend is registered.
 * @example
 * await tf.setBackend('wasm');
 * installWasmTrainingKernels();
 */
export function installWasmTrainingKernels(): void {
  installWasmMatMulFastPath();
  installWasmConvGradients();
}
