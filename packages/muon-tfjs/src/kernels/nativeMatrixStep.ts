import * as tf from '@tensorflow/tfjs-core';
import type { MuonStepResult } from '../math/muonStepKernel.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import { FUSED_STEP_FLAGS, type NativeAddon, loadNativeAddon } from './nativeAddon.js';
import { type NativeLibrary, type NativeProducts, checkNativeLibrary, nativeProducts } from './nativeOrthogonalizer.js';

/** The products and planner of a fused matrix step, those of `nativeOrthogonalizer({ library })`. */
export interface NativeStepPlanning {
  readonly products: NativeProducts;
  readonly plan: OrthogonalizationPlanner;
}

/**
 * What the fused matrix steps of the addon (`muonStep`, `dion2Step`) share: the loaded addon, the
 * products and planner of `nativeOrthogonalizer({ library })` (made on the first step: the
 * capabilities are the loaded addon's, and there may be none), so that a fused step plans and
 * multiplies as the composed step's kernel does, and the check of each variable's tensors.
 */
export function nativeMatrixStep(library: NativeLibrary, owner: string): {
  readonly addon: () => NativeAddon;
  readonly planning: () => NativeStepPlanning;
  readonly checkVariable: (i: number, param: tf.Tensor, grad: tf.Tensor, momentum: tf.Tensor) => void;
} {
  checkNativeLibrary(library, owner);
  let made: NativeStepPlanning | undefined;
  return {
    addon() {
      const status = loadNativeAddon();
      if (!status.available) throw new Error(`${owner}: the native addon is not available; ask unavailable() first`);
      return status.addon;
    },
    planning() {
      if (made === undefined) {
        const products = nativeProducts(library, owner);
        made = { products, plan: orthogonalizationPlanner(products.capabilities) };
      }
      return made;
    },
    checkVariable(i, param, grad, momentum) {
      if (param.dtype !== 'float32' || grad.dtype !== 'float32' || momentum.dtype !== 'float32') {
        throw new Error(`${owner} expects float32 tensors; variable ${i} has ${param.dtype}, gradient ${grad.dtype}, momentum ${momentum.dtype}`);
      }
      if (!tf.util.arraysEqual(grad.shape, param.shape) || !tf.util.arraysEqual(momentum.shape, param.shape)) {
        throw new Error(`${owner}: variable ${i} is [${param.shape.join(', ')}] but its gradient is [${grad.shape.join(', ')}] and momentum [${momentum.shape.join(', ')}]`);
      }
    },
  };
}

/** The results of a fused matrix step from its new tensors (parameters, then momenta) and its {@link FUSED_STEP_FLAGS} per variable. */
export function matrixStepResults(outputs: readonly tf.Tensor[], flags: Uint8Array, count: number): MuonStepResult[] {
  return Array.from({ length: count }, (_, i): MuonStepResult => {
    const flag = flags[i] as number;
    return {
      param: outputs[i] as tf.Tensor,
      momentum: outputs[count + i] as tf.Tensor,
      gradientFinite: (flag & FUSED_STEP_FLAGS.gradient) === 0,
      momentumFinite: (flag & FUSED_STEP_FLAGS.momentum) === 0,
      paramFinite: (flag & FUSED_STEP_FLAGS.param) === 0,
    };
  });
}
