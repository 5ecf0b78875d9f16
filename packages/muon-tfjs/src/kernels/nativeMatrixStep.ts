import * as tf from '@tensorflow/tfjs-core';
import { packedLength } from '../math/bfloat16Storage.js';
import type { MuonStepMomentumDtype, MuonStepResult } from '../math/muonStepKernel.js';
import type { NewtonSchulzSchedule } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import { runInPlace } from './inPlaceStep.js';
import {
  FUSED_STEP_FLAGS,
  NATIVE_ALGORITHM_CODES,
  NATIVE_NORMALIZATION_CODES,
  type NativeAddon,
  type NativePlansAndSchedule,
  loadNativeAddon,
} from './nativeAddon.js';
import { type NativeLibrary, type NativeProducts, checkNativeLibrary, nativeProducts, nativeSchedule } from './nativeOrthogonalizer.js';

/** A variable of a fused matrix step: its value, gradient and momentum (float32, one shape; or the momentum packed in bfloat16). */
interface StepTensors {
  readonly param: tf.Tensor;
  readonly grad: tf.Tensor;
  readonly momentum: tf.Tensor;
}

/** The arrays a fused matrix step reads and writes, one per variable (the addon's fields of those names). */
export interface StepArrays {
  readonly params: Float32Array[];
  readonly grads: Float32Array[];
  readonly momenta: Float32Array[];
  readonly newParams: Float32Array[];
  readonly newMomenta: Float32Array[];
}

/** The same with the momenta packed in bfloat16, `ceil(size / 2)` int32 words each (`muonStep` under momentumDtype bfloat16). */
export interface PackedMomentumStepArrays extends Omit<StepArrays, 'momenta' | 'newMomenta'> {
  readonly momenta: Int32Array[];
  readonly newMomenta: Int32Array[];
}

/** The products and planner of a fused matrix step, those of `nativeOrthogonalizer({ library })`. */
export interface NativeStepPlanning {
  readonly products: NativeProducts;
  readonly plan: OrthogonalizationPlanner;
}

/**
 * What the fused matrix steps of the addon (`muonStep`, `dion2Step`) share: the loaded addon, the
 * products and planner of `nativeOrthogonalizer({ library })` (made on the first step: the
 * capabilities are the loaded addon's, and there may be none), so that a fused step plans and
 * multiplies as the composed step's kernel does, the check of each variable's tensors, the plan
 * and schedule fields, and the in-place run that turns the addon's flags into results.
 */
export function nativeMatrixStep(library: NativeLibrary, owner: string): {
  readonly addon: () => NativeAddon;
  readonly planning: () => NativeStepPlanning;
  readonly checkVariable: (i: number, param: tf.Tensor, grad: tf.Tensor, momentum: tf.Tensor, momentumDtype?: MuonStepMomentumDtype) => void;
  readonly plansAndSchedule: (matrices: readonly (readonly [number, number])[], schedule: NewtonSchulzSchedule) => NativePlansAndSchedule;
  readonly run: (variables: readonly StepTensors[], step: (arrays: StepArrays) => Uint8Array) => MuonStepResult[];
  readonly runPackedMomentum: (variables: readonly StepTensors[], step: (arrays: PackedMomentumStepArrays) => Uint8Array) => MuonStepResult[];
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
    checkVariable(i, param, grad, momentum, momentumDtype = 'float32') {
      const packed = momentumDtype === 'bfloat16';
      const storedDtype = packed ? 'int32' : 'float32';
      if (param.dtype !== 'float32' || grad.dtype !== 'float32' || momentum.dtype !== storedDtype) {
        throw new Error(`${owner} expects float32 tensors${packed ? ' and int32 packed momenta' : ''}; variable ${i} has ${param.dtype}, gradient ${grad.dtype}, momentum ${momentum.dtype}`);
      }
      const momentumShape = packed ? [packedLength(param.size)] : param.shape;
      if (!tf.util.arraysEqual(grad.shape, param.shape) || !tf.util.arraysEqual(momentum.shape, momentumShape)) {
        throw new Error(
          `${owner}: variable ${i} is [${param.shape.join(', ')}] but its gradient is [${grad.shape.join(', ')}] and momentum [${momentum.shape.join(', ')}]${packed ? ` (packed: [${momentumShape.join(', ')}])` : ''}`,
        );
      }
    },
    /** The plan of each [rows, cols] matrix the step orthogonalizes, and the schedule, as the addon reads them. */
    plansAndSchedule(matrices, schedule) {
      const { products, plan } = this.planning();
      const shapes = new Int32Array(2 * matrices.length);
      const plans = new Int32Array(2 * matrices.length);
      const flops = new Float64Array(matrices.length);
      matrices.forEach(([rows, cols], i) => {
        const decision = plan(rows, cols, schedule);
        shapes.set([rows, cols], 2 * i);
        plans.set([NATIVE_ALGORITHM_CODES[decision.algorithm], decision.transposed ? 1 : 0], 2 * i);
        flops[i] = decision.flops;
      });
      const { coefficients, restartAfter } = nativeSchedule(schedule);
      return {
        shapes,
        plans,
        flops,
        coefficients,
        normalizationScale: schedule.normalizationScale,
        eps: schedule.eps,
        restartAfter,
        precision: products.precisionCode(schedule.precision),
        normalization: NATIVE_NORMALIZATION_CODES[schedule.normalization],
      };
    },
    /**
     * Runs `step` on the variables' arrays, read in place, and new arrays for their values and
     * momenta ({@link runInPlace}); returns the results with the flags `step` returned.
     */
    run(variables, step) {
      const count = variables.length;
      const shapes = variables.map((v) => v.param.shape);
      const { outputs, flags } = runInPlace(variables.flatMap((v) => [v.param, v.grad, v.momentum]), [...shapes, ...shapes], (read, written) =>
        step({
          params: variables.map((v) => read(v.param)),
          grads: variables.map((v) => read(v.grad)),
          momenta: variables.map((v) => read(v.momentum)),
          newParams: written.slice(0, count),
          newMomenta: written.slice(count),
        }),
      );
      return matrixStepResults(outputs, flags, count);
    },
    /** {@link run} with the momenta packed in bfloat16: read as int32 words in place, the new ones written into new int32 tensors of `ceil(size / 2)` words. */
    runPackedMomentum(variables, step) {
      const count = variables.length;
      const { outputs, flags } = runInPlace(
        variables.flatMap((v) => [v.param, v.grad, v.momentum]),
        variables.map((v) => v.param.shape),
        (read, written, words) =>
          step({
            params: variables.map((v) => read(v.param)),
            grads: variables.map((v) => read(v.grad)),
            momenta: variables.map((v) => words.read(v.momentum)),
            newParams: written,
            newMomenta: words.outputs,
          }),
        variables.map((v) => packedLength(v.param.size)),
      );
      return matrixStepResults(outputs, flags, count);
    },
  };
}

/** The results of a fused matrix step from its new tensors (parameters, then momenta) and its {@link FUSED_STEP_FLAGS} per variable. */
function matrixStepResults(outputs: readonly tf.Tensor[], flags: Uint8Array, count: number): MuonStepResult[] {
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
