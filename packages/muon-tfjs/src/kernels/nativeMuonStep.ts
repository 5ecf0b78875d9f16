import { matrixShape } from '../math/matrixView.js';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import { inPlaceStepUnavailable } from './inPlaceStep.js';
import { NATIVE_MOMENTUM_DTYPE_CODES } from './nativeAddon.js';
import { nativeMatrixStep } from './nativeMatrixStep.js';
import type { NativeLibrary } from './nativeOrthogonalizer.js';

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
 *
 * It reads and writes the momentum in either format (`momentumDtypes`): under
 * `momentumDtype: 'bfloat16'` the packed int32 words in and out, in the same pass as the EMA.
 */
export function nativeMuonStep(options: NativeMuonStepOptions = {}): MuonStepKernel {
  const native = nativeMatrixStep(options.library ?? 'fastest', 'nativeMuonStep');
  return {
    unavailable: inPlaceStepUnavailable,
    momentumDtypes: Object.freeze(['float32', 'bfloat16'] as const),
    step(variables, settings) {
      const addon = native.addon();
      const { momentumDtype } = settings;
      variables.forEach(({ param, grad, momentum }, i) => native.checkVariable(i, param, grad, momentum, momentumDtype));
      const planned = native.plansAndSchedule(
        variables.map(({ param }) => {
          const { fanIn, fanOut } = matrixShape(param.shape);
          return [fanIn, fanOut] as const;
        }),
        settings.schedule,
      );
      const shapeScales = Float64Array.from(variables, (v) => v.shapeScale);
      const { beta, nesterov, learningRate, weightDecay, cautious } = settings;
      const fields = { ...planned, momentumDtype: NATIVE_MOMENTUM_DTYPE_CODES[momentumDtype], shapeScales, beta, nesterov, learningRate, weightDecay, cautious };
      return momentumDtype === 'bfloat16'
        ? native.runPackedMomentum(variables, (arrays) => addon.muonStep({ ...arrays, ...fields }))
        : native.run(variables, (arrays) => addon.muonStep({ ...arrays, ...fields }));
    },
  };
}
