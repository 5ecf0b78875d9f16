import * as tf from '@tensorflow/tfjs-core';
import { checkNewtonSchulzInput, normalizeFrobenius, swapLastTwo } from '../math/newtonSchulz.js';
import { type NewtonSchulzSchedule, checkResolvedSchedule } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { GENERAL_MATMUL_CAPABILITIES } from '../math/planOrthogonalization.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { kernelPlanner } from './kernelPlanner.js';
import { precisionThatRuns } from './precisionThatRuns.js';
import { warnOnce } from './warnOnce.js';

/**
 * A GPGPU program of tfjs-backend-webgl, seen structurally so that the library does not depend on
 * that package: GLSL `userCode` reading its inputs through `get<Name>(b, i, j)` samplers and
 * writing `setOutput(value)` at `getOutputCoords()`; `customUniforms` are set per run, so one
 * compiled program serves every iteration's coefficients.
 */
interface GlslProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  readonly userCode: string;
  readonly customUniforms?: { name: string; type: 'float' }[];
}

/** The webgl backend's method that compiles (once per program text and shapes) and runs a program. */
interface WebGlProgramRunner {
  runWebGLProgram(program: GlslProgram, inputs: tf.TensorInfo[], outputDtype: 'float32', customUniformValues?: number[][]): tf.TensorInfo;
}

/** X·Xᵀ of each matrix of a `[batch, m, n]` stack: `[batch, m, m]`. */
function gramProgram(batch: number, m: number, n: number): GlslProgram {
  return {
    variableNames: ['X'],
    outputShape: [batch, m, m],
    userCode: `
      void main() {
        ivec3 o = getOutputCoords();
        float sum = 0.0;
        for (int k = 0; k < ${n}; k++) sum += getX(o.x, o.y, k) * getX(o.x, o.z, k);
        setOutput(sum);
      }`,
  };
}

/** B = bA + cA·A of each `[m, m]` Gram matrix: the quintic's scale-and-add folded into the product. */
function polynomialProgram(batch: number, m: number): GlslProgram {
  return {
    variableNames: ['A'],
    outputShape: [batch, m, m],
    customUniforms: [{ name: 'b', type: 'float' }, { name: 'c', type: 'float' }],
    userCode: `
      void main() {
        ivec3 o = getOutputCoords();
        float sum = 0.0;
        for (int k = 0; k < ${m}; k++) sum += getA(o.x, o.y, k) * getA(o.x, k, o.z);
        setOutput(b * getA(o.x, o.y, o.z) + c * sum);
      }`,
  };
}

/** X ← aX + B·X of each matrix: the update's scale-and-add folded into the product. */
function updateProgram(batch: number, m: number, n: number): GlslProgram {
  return {
    variableNames: ['B', 'X'],
    outputShape: [batch, m, n],
    customUniforms: [{ name: 'a', type: 'float' }],
    userCode: `
      void main() {
        ivec3 o = getOutputCoords();
        float sum = 0.0;
        for (int k = 0; k < ${m}; k++) sum += getB(o.x, o.y, k) * getX(o.x, k, o.z);
        setOutput(a * getX(o.x, o.y, o.z) + sum);
      }`,
  };
}

function webglBackend(): WebGlProgramRunner {
  const backend = tf.backend() as unknown as Partial<WebGlProgramRunner>;
  if (typeof backend.runWebGLProgram !== 'function') throw new Error(`webglOrthogonalizer runs on the webgl backend; the current one is '${tf.getBackend()}'`);
  return backend as WebGlProgramRunner;
}

/**
 * Plain Newton–Schulz on a `[batch, m, n]` stack (m ≤ n), three programs per iteration whatever the
 * batch: A = XXᵀ, B = bA + cA², X ← aX + BX. TF.js's ops take eight kernels for the same
 * iteration (three products, three scalings, two additions), each a pass over memory.
 */
function plainIterations(x0: tf.Tensor3D, schedule: NewtonSchulzSchedule): tf.Tensor3D {
  const runner = webglBackend();
  const [batch, m, n] = x0.shape;
  const gram = gramProgram(batch, m, n);
  const polynomial = polynomialProgram(batch, m);
  const update = updateProgram(batch, m, n);
  const run = (program: GlslProgram, inputs: tf.Tensor[], uniforms?: number[][]): tf.Tensor3D =>
    tf.engine().makeTensorFromTensorInfo(runner.runWebGLProgram(program, inputs, 'float32', uniforms)) as tf.Tensor3D;
  let x = x0;
  for (const [a, b, c] of schedule.iterations) {
    const gramOfX = run(gram, [x]);
    const poly = run(polynomial, [gramOfX], [[b], [c]]);
    const next = run(update, [poly, x], [[a]]);
    tf.dispose([gramOfX, poly]);
    if (x !== x0) x.dispose();
    x = next;
  }
  return x;
}

/** Options of {@link webglOrthogonalizer}. */
export interface WebglOrthogonalizerOptions {
  /**
   * Plans the matrices instead of the kernel's own planner (plain Newton–Schulz on every shape);
   * shapes it plans as Gram run on the TF.js Gram kernel, with the same planner.
   */
  readonly planner?: OrthogonalizationPlanner;
}

/**
 * An {@link Orthogonalizer} for tfjs-backend-webgl whose plain Newton–Schulz iterations run as
 * custom GLSL programs: per iteration one program per product, with the quintic's scalings and
 * additions folded into them (X ← aX + (bA + cA²)X, A = XXᵀ), and the matrices of one shape
 * stacked into one batch, so an iteration costs three dispatches per shape however many matrices
 * share it. Tall matrices iterate on their transpose (the Gram side is the smaller one), as
 * `newtonSchulz` does; normalization and the transposes are TF.js ops. Float32 only. A schedule
 * with `normalization: 'aol'` (`turboMuon`) runs in the TF.js kernel (`gramOrthogonalizer`, same
 * plans) on the same backend, said once: the GLSL iterations start from the Frobenius-normalized X.
 *
 * @example
 * await tf.setBackend('webgl');
 * const orthogonalize = webglOrthogonalizer();
 * const [o] = orthogonalize([tf.randomNormal([64, 256])], resolveNewtonSchulz());
 */
export function webglOrthogonalizer(settings: WebglOrthogonalizerOptions = {}): Orthogonalizer {
  const plan = kernelPlanner(settings, () => orthogonalizationPlanner(GENERAL_MATMUL_CAPABILITIES, 'plain'));
  const gram = gramOrthogonalizer({ planner: plan });
  return (matrices, schedule) => {
    checkResolvedSchedule(schedule, 'webglOrthogonalizer');
    matrices.forEach((g) => checkNewtonSchulzInput(g, 'webglOrthogonalizer'));
    if (schedule.normalization === 'aol') {
      warnOnce('muon-tfjs: the WebGL kernel normalizes by the Frobenius norm only; AOL schedules (turboMuon) run in the TF.js kernel on the webgl backend');
      return gram(matrices, schedule);
    }
    precisionThatRuns(schedule.precision, 'the WebGL kernel', 'the WebGL kernel computes in float32');
    const outputs = new Array<tf.Tensor2D>(matrices.length);
    // Same-shape matrices share a plan and a stack; Gram-planned shapes go to the TF.js kernel.
    const plainGroups = new Map<string, number[]>();
    const gramIndices: number[] = [];
    matrices.forEach((g, i) => {
      const [rows, cols] = g.shape;
      if (plan(rows, cols, schedule).algorithm === 'gram') gramIndices.push(i);
      else plainGroups.set(`${rows}x${cols}`, [...(plainGroups.get(`${rows}x${cols}`) ?? []), i]);
    });
    if (gramIndices.length > 0) gram(gramIndices.map((i) => matrices[i] as tf.Tensor2D), schedule).forEach((o, k) => (outputs[gramIndices[k] as number] = o));
    for (const indices of plainGroups.values()) {
      const results = tf.tidy(() => {
        const stack = tf.stack(indices.map((i) => matrices[i] as tf.Tensor2D)) as tf.Tensor3D;
        const transposed = plan(stack.shape[1], stack.shape[2], schedule).transposed;
        const x = plainIterations(normalizeFrobenius(transposed ? swapLastTwo(stack) : stack, schedule), schedule);
        return tf.unstack(transposed ? swapLastTwo(x) : x) as tf.Tensor2D[];
      });
      indices.forEach((i, k) => (outputs[i] = results[k] as tf.Tensor2D));
    }
    return outputs;
  };
}
