import * as tf from '@tensorflow/tfjs-core';
import { matrixShape } from '../math/matrixView.js';
import type { MuonStepKernel, MuonStepResult } from '../math/muonStepKernel.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import { FUSED_STEP_FLAGS, NATIVE_ALGORITHM_CODES, NATIVE_NORMALIZATION_CODES, loadNativeAddon } from './nativeAddon.js';
import { inPlaceStepUnavailable, runInPlace } from './inPlaceStep.js';
import { type NativeLibrary, type NativeProducts, checkNativeLibrary, nativeProducts, nativeSchedule } from './nativeOrthogonalizer.js';

/** Options of {@link nativeMuonStep}. */
export interface NativeMuonStepOptions {
  /** Which library runs the products ({@link NativeLibrary}), as `nativeOrthogonalizer`'s option; default `'fastest'`. */
  readonly library?: NativeLibrary;
}

/**
 * The {@link MuonStepKernel} of the native addon (`muonStep`, native/src/fused_muon_step.cc): the
 * whole Muon step of every variable in one call, orthogonalizing with the engine, the plans and the
 * precision of `nativeOrthogonalizer({ library })` (the same {@link nativeProducts}: planner
 * capabilities, algorithm `auto`, bfloat16 products where the schedule asks and they can run, else
 * float32 said once), so that it computes what the composed step computes with that kernel.
 *
 * On the wasm backend the inputs are read in place in the wasm heap and the new values written
 * into tensors allocated there; on the cpu backend it reads the backend's own arrays
 * (`dataSync()`, no copy) and wraps the new arrays as tensors. Available in Node with the addon
 * built, on the cpu and wasm backends.
 */
export function nativeMuonStep(options: NativeMuonStepOptions = {}): MuonStepKernel {
  const library = options.library ?? 'fastest';
  checkNativeLibrary(library, 'nativeMuonStep');
  // Made on the first step: the capabilities are the loaded addon's, and there may be none.
  let made: { readonly products: NativeProducts; readonly plan: OrthogonalizationPlanner } | undefined;
  const productsAndPlanner = (): { readonly products: NativeProducts; readonly plan: OrthogonalizationPlanner } => {
    if (made === undefined) {
      const products = nativeProducts(library, 'nativeMuonStep');
      made = { products, plan: orthogonalizationPlanner(products.capabilities) };
    }
    return made;
  };
  return {
    unavailable: inPlaceStepUnavailable,
    step(variables, settings) {
      const status = loadNativeAddon();
      if (!status.available) throw new Error('nativeMuonStep: the native addon is not available; ask unavailable() first');
      const muonStep = status.addon.muonStep.bind(status.addon);
      const { products, plan } = productsAndPlanner();
      const count = variables.length;
      const shapes = new Int32Array(2 * count);
      const plans = new Int32Array(2 * count);
      const flops = new Float64Array(count);
      const shapeScales = new Float64Array(count);
      variables.forEach(({ param, grad, momentum, shapeScale }, i) => {
        if (param.dtype !== 'float32' || grad.dtype !== 'float32' || momentum.dtype !== 'float32') {
          throw new Error(`nativeMuonStep expects float32 tensors; variable ${i} has ${param.dtype}, gradient ${grad.dtype}, momentum ${momentum.dtype}`);
        }
        if (!tf.util.arraysEqual(grad.shape, param.shape) || !tf.util.arraysEqual(momentum.shape, param.shape)) {
          throw new Error(`nativeMuonStep: variable ${i} is [${param.shape.join(', ')}] but its gradient is [${grad.shape.join(', ')}] and momentum [${momentum.shape.join(', ')}]`);
        }
        const { fanIn, fanOut } = matrixShape(param.shape);
        const decision = plan(fanIn, fanOut, settings.schedule);
        shapes[2 * i] = fanIn;
        shapes[2 * i + 1] = fanOut;
        plans[2 * i] = NATIVE_ALGORITHM_CODES[decision.algorithm];
        plans[2 * i + 1] = decision.transposed ? 1 : 0;
        flops[i] = decision.flops;
        shapeScales[i] = shapeScale;
      });
      const { coefficients, restartAfter } = nativeSchedule(settings.schedule);
      const precision = products.precisionCode(settings.schedule.precision);
      const run = (read: (t: tf.Tensor) => Float32Array, newParams: Float32Array[], newMomenta: Float32Array[]): Uint8Array =>
        muonStep({
          params: variables.map((v) => read(v.param)),
          grads: variables.map((v) => read(v.grad)),
          momenta: variables.map((v) => read(v.momentum)),
          newParams,
          newMomenta,
          shapes,
          plans,
          flops,
          shapeScales,
          coefficients,
          normalizationScale: settings.schedule.normalizationScale,
          eps: settings.schedule.eps,
          restartAfter,
          precision,
          normalization: NATIVE_NORMALIZATION_CODES[settings.schedule.normalization],
          beta: settings.beta,
          nesterov: settings.nesterov,
          learningRate: settings.learningRate,
          weightDecay: settings.weightDecay,
          cautious: settings.cautious,
        });
      const variableShapes = variables.map((v) => v.param.shape);
      const { outputs, flags } = runInPlace(
        variables.flatMap((v) => [v.param, v.grad, v.momentum]),
        [...variableShapes, ...variableShapes],
        (read, written) => run(read, written.slice(0, count), written.slice(count)),
      );
      const params = outputs.slice(0, count);
      const momenta = outputs.slice(count);
      return variables.map((_, i): MuonStepResult => {
        const flag = flags[i] as number;
        return {
          param: params[i] as tf.Tensor,
          momentum: momenta[i] as tf.Tensor,
          gradientFinite: (flag & FUSED_STEP_FLAGS.gradient) === 0,
          momentumFinite: (flag & FUSED_STEP_FLAGS.momentum) === 0,
          paramFinite: (flag & FUSED_STEP_FLAGS.param) === 0,
        };
      });
    },
  };
}
