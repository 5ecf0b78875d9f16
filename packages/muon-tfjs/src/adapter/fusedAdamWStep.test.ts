import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { cosine, linear } from '../math/schedule.js';
import type { AdamWOptions } from '../optimizers/adamw.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { type FusedStepKind, expectFusedEqualsComposed, testFusedStepContract } from '../testing/fusedStepContract.js';
import { type TwinGradient, expectTwinsEqual, hostValues as values, stepBoth as stepTwins, twinVariables } from '../testing/twinSteps.js';
import { adamw } from './optimizers.js';
import { MuonWithAdamWOptimizer } from './MuonWithAdamWOptimizer.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

// The fused AdamW step (native/src/fused_adam_step.cc) against the composed transformation it
// executes. Tolerance: none (bitwise equality). The kernel performs the composition's float32
// operations one by one in the same order (m, v, the bias-corrected direction, the decay, −lr, p +
// update), with every scalar rounded to float32 as TF.js rounds a JavaScript number and no fused
// multiply-add; +, ×, ÷ and √ are correctly rounded in float32 on the wasm backend and in float64
// then rounded on the cpu backend, which is the same float32 number (53 ≥ 2·24 + 2). So every new
// value and moment is the same float32 number; one ulp of difference would show an operation
// computed differently.

const native = loadNativeAddon();
const SHAPES = { matrix: [24, 40], bias: [40], conv: [3, 3, 2, 5], scalar: [] } as const;

/** Seeded gradients of spread-out magnitudes (e^±8). */
const spreadGradient: TwinGradient = (v, step, i) => tf.tidy(() => tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', 1000 * step + i), tf.exp(tf.randomUniform(v.shape, -8, 8, 'float32', 77 + step))));

/** Applies the same `steps` seeded gradients of spread-out magnitudes to both optimizers, each on its own variables. */
const stepBoth = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]): void => stepTwins(steps, a, va, b, vb, spreadGradient);

const ADAMW: FusedStepKind<AdamWOptions> = {
  label: 'adamw',
  make: adamw,
  shapes: SHAPES,
  gradient: spreadGradient,
  decay: {},
  overflowShape: [4, 4],
  // g = 2e19: g² overflows float32, so v is +Inf (and the update 0/Inf = 0 leaves p finite);
  // lr = 1e39 makes p' infinite from a finite m̂/(√v̂ + ε). Both steps must name the same values.
  overflows: [
    { options: {}, gradient: (shape) => tf.fill(shape, 2e19), steps: 1, refused: ['w/v'] },
    { options: { learningRate: 1e39 }, gradient: (shape) => tf.fill(shape, 1), steps: 1, refused: ['w'] },
  ],
};

const SETTINGS: Record<string, AdamWOptions> = {
  'no decay': { weightDecay: 0 },
  'decoupled decay, defaults': {},
  'corrected decay under a schedule': { weightDecay: 0.1, correctedWeightDecay: true, learningRate: linear({ from: 0.01, to: 0.002, steps: 4 }) },
  'cautious decay, small ε, β₂ 0.95': { weightDecay: 0.1, cautiousWeightDecay: true, epsilon: 1e-12, beta2: 0.95 },
  'corrected + cautious, cosine': { weightDecay: 0.2, correctedWeightDecay: true, cautiousWeightDecay: true, learningRate: cosine({ peak: 0.02, steps: 6 }) },
};

describe.each(TEST_BACKENDS)('the fused AdamW step on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  testFusedStepContract(ADAMW);

  it.runIf(native.available).each(Object.entries(SETTINGS))('equals the composed step bit for bit, %s: matrix, bias, conv kernel and scalar, 5 steps', async (_, options) => {
    await expectFusedEqualsComposed(ADAMW, options, 5);
  });

  it.runIf(native.available)("the hybrid's AdamW half runs fused beside the fused Muon half, bit for bit as composed", async () => {
    const shapes = [[16, 8], [8], [8, 4]];
    const [va, vb] = twinVariables(shapes);
    const head = (vs: tf.Variable[]) => [{ pattern: (vs[2] as tf.Variable).name, to: 'adamw' as const }];
    const fused = new MuonWithAdamWOptimizer({ adamw: { weightDecay: 0.01 }, overrides: head(va) });
    const composed = new MuonWithAdamWOptimizer({ adamw: { weightDecay: 0.01, execution: { fused: false } }, overrides: head(vb) });
    stepBoth(3, fused, va, composed, vb);
    expect(fused.describeExecution()).toEqual([
      expect.objectContaining({ label: 'muon', lastStep: 'fused' }),
      expect.objectContaining({ label: 'adamw', strategy: 'fused', lastStep: 'fused' }),
    ]);
    await expectTwinsEqual(fused, va, composed, vb);
  });

  it('empty variables step to empty values, fused or not', () => {
    const [va, vb] = twinVariables([[0, 3], [2, 2]]);
    const fused = adamw();
    const composed = adamw({ execution: { fused: false } });
    stepBoth(2, fused, va, composed, vb);
    expect(va[0]?.shape).toEqual([0, 3]);
    expect(values(va[1] as tf.Variable)).toEqual(values(vb[1] as tf.Variable));
  });

  it('refuses an execution setting it does not take, naming it', () => {
    expect(() => adamw({ execution: { orthogonalize: () => [] } as never })).toThrow("AdamWOptimizer: unknown execution setting 'orthogonalize'; valid settings are fused");
    expect(() => adamw({ execution: { fused: 'yes' } as never })).toThrow('AdamWOptimizer: execution.fused must be a boolean, got yes');
  });
});

describe('the fused AdamW step without the addon', () => {
  it('runs composed and says why: the reason the addon is absent', () => {
    const optimizer = adamw();
    const row = optimizer.describeExecution()[0];
    if (native.available) expect(row?.strategy).toBe('fused');
    else expect(row).toEqual(expect.objectContaining({ strategy: 'composed', reason: native.reason }));
  });
});
