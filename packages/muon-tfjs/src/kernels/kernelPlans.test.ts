import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { maxAbsDiff } from '../diagnostics/float64Matrices.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { type OrthogonalizationPlanner, orthogonalizationPlanner } from '../math/orthogonalizationPlanner.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { GENERAL_MATMUL_CAPABILITIES, type KernelCapabilities, type OrthogonalizationPlan, planOrthogonalization } from '../math/planOrthogonalization.js';
import { useBackend } from '../testing/backends.js';
import { fixNativeThreads } from '../testing/fixedNativeThreads.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { NATIVE_ALGORITHM_CODES, loadNativeAddon } from './nativeAddon.js';
import { OPENBLAS_CAPABILITIES, nativeOrthogonalizer } from './nativeOrthogonalizer.js';

/**
 * The plain/Gram decision is made once, in TypeScript, and every kernel executes it: given the same
 * planner, the native and the TF.js kernels ask for and run the same plan per shape, including the
 * shapes where the old TypeScript and C++ cost models disagreed (256×128, 9×16). Execution is
 * checked bit for bit: a kernel run with the recorded planner returns exactly what the same kernel
 * returns with the plan's algorithm forced, and differs from the other algorithm's result.
 */
const SHAPES = [
  [256, 128],
  [128, 256],
  [9, 16],
  [48, 160],
  [64, 64],
] as const;

interface Recorded {
  readonly shape: string;
  readonly plan: OrthogonalizationPlan;
}

function recording(capabilities: KernelCapabilities): { planner: OrthogonalizationPlanner; log: Recorded[] } {
  const inner = orthogonalizationPlanner(capabilities);
  const log: Recorded[] = [];
  return {
    log,
    planner: (rows, cols, schedule) => {
      const plan = inner(rows, cols, schedule);
      log.push({ shape: `${rows}x${cols}`, plan });
      return plan;
    },
  };
}

const status = loadNativeAddon();
// Compares native runs bit for bit on products OpenBLAS splits (256×128): one thread count for all.
fixNativeThreads();
const schedule = resolveNewtonSchulz({ coefficients: 'jordan' });

/** Runs `kernel` on one seeded matrix per shape, one call each (one matrix per call: the same summation order every time). */
function runEach(kernel: Orthogonalizer): Float32Array[] {
  return SHAPES.map(([rows, cols]) => {
    const g = tf.randomNormal([rows, cols], 0, 1, 'float32', rows * cols) as tf.Tensor2D;
    const [output] = kernel([g], schedule);
    const values = (output as tf.Tensor2D).dataSync<'float32'>().slice();
    tf.dispose([g, output as tf.Tensor2D]);
    return values;
  });
}

function expectExecuted(recorded: readonly Recorded[], got: readonly Float32Array[], forced: (algorithm: 'plain' | 'gram') => Orthogonalizer): void {
  const asPlain = runEach(forced('plain'));
  const asGram = runEach(forced('gram'));
  recorded.forEach(({ shape, plan }, i) => {
    const [same, other] = plan.algorithm === 'plain' ? [asPlain, asGram] : [asGram, asPlain];
    expect(maxAbsDiff(got[i] as Float32Array, same[i] as Float32Array), `${shape}: ${plan.algorithm} executed`).toBe(0);
    expect(maxAbsDiff(got[i] as Float32Array, other[i] as Float32Array), `${shape}: the other algorithm differs`).toBeGreaterThan(0);
  });
}

describe('kernels execute the plans they are given', () => {
  beforeAll(() => useBackend('cpu'));
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    ['general matmuls', GENERAL_MATMUL_CAPABILITIES],
    ['syrk at half cost', OPENBLAS_CAPABILITIES],
  ] as const)('the TF.js kernel runs the planner’s decision per shape (%s)', (_, capabilities) => {
    const { planner, log } = recording(capabilities);
    const got = runEach(gramOrthogonalizer({ planner, batchSameShapes: false }));
    expect(log.map((r) => r.shape)).toEqual(SHAPES.map(([r, c]) => `${r}x${c}`));
    log.forEach(({ plan }, i) => expect(plan).toEqual(planOrthogonalization(SHAPES[i]?.[0] as number, SHAPES[i]?.[1] as number, schedule, capabilities)));
    expectExecuted(log, got, (algorithm) => gramOrthogonalizer({ algorithm, batchSameShapes: false }));
  });

  it.skipIf(!status.available).each([
    ['general matmuls', GENERAL_MATMUL_CAPABILITIES],
    ['syrk at half cost', OPENBLAS_CAPABILITIES],
  ] as const)('the native kernel receives the same plans as the TF.js kernel and runs them (%s)', (_, capabilities) => {
    if (!status.available) return;
    const tfjs = recording(capabilities);
    runEach(gramOrthogonalizer({ planner: tfjs.planner, batchSameShapes: false }));
    const native = recording(capabilities);
    // What crosses into C++: the plan per matrix ([algorithm, transposed]) and its flops.
    const addonCall = vi.spyOn(status.addon, 'orthogonalize');
    const got = runEach(nativeOrthogonalizer({ planner: native.planner }));
    expect(native.log).toEqual(tfjs.log);
    expect(addonCall).toHaveBeenCalledTimes(SHAPES.length);
    addonCall.mock.calls.forEach((call, i) => {
      const { plan } = native.log[i] as Recorded;
      expect(Array.from(call[0].plans), native.log[i]?.shape).toEqual([NATIVE_ALGORITHM_CODES[plan.algorithm], plan.transposed ? 1 : 0]);
      expect(Array.from(call[0].flops)).toEqual([plan.flops]);
    });
    vi.restoreAllMocks();
    expectExecuted(native.log, got, (algorithm) => nativeOrthogonalizer({ algorithm }));
  });

  it('refuses a planner together with an algorithm, naming both', () => {
    const planner = orthogonalizationPlanner(GENERAL_MATMUL_CAPABILITIES);
    expect(() => gramOrthogonalizer({ planner, algorithm: 'gram' })).toThrow(/algorithm "gram" and a planner/);
    if (status.available) expect(() => nativeOrthogonalizer({ planner, algorithm: 'plain' })).toThrow(/algorithm "plain" and a planner/);
  });
});
