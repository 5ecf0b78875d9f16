import { matrixShape } from '../math/matrixView.js';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import { NATIVE_ALGORITHM_CODES, NATIVE_NORMALIZATION_CODES } from './nativeAddon.js';
import { inPlaceStepUnavailable, runInPlace } from './inPlaceStep.js';
import { matrixStepResults, nativeMatrixStep } from './nativeMatrixStep.js';
import { type NativeLibrary, nativeSchedule } from './nativeOrthogonalizer.js';

/** Options of {@link nativeMuonStep}. */
export interface NativeMuonStepOptions {
  /** Which library runs the products ({@link NativeLibrary}), as `nativeOrthogonalizer`'s option; default `'fastest'`. */
  readonly library?: NativeLibrary;
}

/**
 * The {@link MuonStepKernel} of the native addon (`muonStep`, native/src/fused_muon_step.cc): the
 * whole Muon step of every variable in one call, orthogonalizing with the engine, the plans and the
 * precision of `nativeOrthogonalizer({ library })` (the same `nativeProducts`: planner
 * capabilities, algorithm `auto`, bfloat16 products where the schedule asks and they can run, else
 * float32 said once), so that it computes what the composed step computes with that kernel.
 *
 * On the wasm backend the inputs are read in place in the wasm heap and the new values written
 * into tensors allocated there; on the cpu backend it reads the backend's own arrays
 * (`dataSync()`, no copy) and wraps the new arrays as tensors. Available in Node with the addon
 * built, on the cpu and wasm backends.
 */
export function nativeMuonStep(options: NativeMuonStepOptions = {}): MuonStepKernel {
  const native = nativeMatrixStep(options.library ?? 'fastest', 'nativeMuonStep');
  return {
    unavailable: inPlaceStepUnavailable,
    step(variables, settings) {
      const addon = native.addon();
      const { products, plan } = native.planning();
      const count = variables.length;
      const shapes = new Int32Array(2 * count);
      const plans = new Int32Array(2 * count);
      const flops = new Float64Array(count);
      const shapeScales = new Float64Array(count);
      variables.forEach(({ param, grad, momentum, shapeScale }, i) => {
        native.checkVariable(i, param, grad, momentum);
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
      const variableShapes = variables.map((v) => v.param.shape);
      const { outputs, flags } = runInPlace(variables.flatMap((v) => [v.param, v.grad, v.momentum]), [...variableShapes, ...variableShapes], (read, written) =>
        addon.muonStep({
          params: variables.map((v) => read(v.param)),
          grads: variables.map((v) => read(v.grad)),
          momenta: variables.map((v) => read(v.momentum)),
          newParams: written.slice(0, count),
          newMomenta: written.slice(count),
          shapes,
          plans,
          flops,
          shapeScales,
          coefficients,
          normalizationScale: settings.schedule.normalizationScale,
          eps: settings.schedule.eps,
          restartAfter,
          precision: products.precisionCode(settings.schedule.precision),
          normalization: NATIVE_NORMALIZATION_CODES[settings.schedule.normalization],
          beta: settings.beta,
          nesterov: settings.nesterov,
          learningRate: settings.learningRate,
          weightDecay: settings.weightDecay,
          cautious: settings.cautious,
        }),
      );
      return matrixStepResults(outputs, flags, count);
    },
  };
}
