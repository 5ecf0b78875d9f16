import { installWasmConvGradients } from './wasmConvGradients.js';
import { installWasmDepthwiseGradients } from './wasmDepthwiseGradients.js';
import { installWasmMatMulFastPath } from './wasmMatMulFastPath.js';
import { installWasmSegmentSum } from './wasmSegmentSum.js';

/**
 * Makes tfjs-backend-wasm 4.22 fit for training, opt-in and idempotent: it registers the gradient
 * kernels the wasm backend lacks, so that every trainable tfjs-layers layer trains there
 * (`Conv2DBackpropFilter` for Conv1D, Conv2D, Conv2DTranspose and SeparableConv2D's pointwise
 * kernel; `DepthwiseConv2dNativeBackpropFilter`/`Input` for DepthwiseConv2D and SeparableConv2D;
 * `UnsortedSegmentSum`, the gradient of `gather`, for Embedding), and speeds up two that exist:
 * transposed matMuls (every Dense backward pass) go to XNNPACK through an explicit transpose
 * instead of a scalar loop 10–14× slower, and stride-1 'same' `Conv2DBackpropInput` runs as a
 * flipped-kernel convolution. Each computes the same values as the cpu backend (summation order
 * aside; tested). Call once after the wasm backend is registered.
 * @example
 * await tf.setBackend('wasm');
 * installWasmTrainingKernels();
 */
export function installWasmTrainingKernels(): void {
  installWasmMatMulFastPath();
  installWasmConvGradients();
  installWasmDepthwiseGradients();
  installWasmSegmentSum();
}
