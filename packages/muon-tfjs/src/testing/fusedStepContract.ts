import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { nonFiniteStepError } from '../adapter/nonFiniteStepError.js';
import type { TransformOptimizer } from '../adapter/TransformOptimizer.js';
import { loadNativeAddon } from '../kernels/nativeAddon.js';
import { type TwinGradient, checkpointByPosition, expectTwinsEqual, hostValues, seededVariables, stepBoth, twinVariables } from './twinSteps.js';

/** The options the shared scenarios set, which every kind with a fused step (Muon, Dion2, AdamW) takes alike. */
export interface FusedStepOptions {
  readonly cautiousWeightDecay?: boolean;
  readonly execution?: { readonly fused?: boolean };
}

/** Finite gradients whose step the optimizer must refuse because a new value would not be finite. */
export interface FiniteOverflow<Options> {
  readonly options: Options;
  /** The gradient given at every step, of the kind's `overflowShape`. */
  readonly gradient: (shape: number[]) => tf.Tensor;
  /** Steps taken: the last is refused, the earlier ones are not. */
  readonly steps: number;
  /** The values the refusal names, the variable called 'w' (its state 'w/…'). */
  readonly refused: readonly string[];
}

/** An optimizer kind with a fused step, as the shared scenarios step it. */
export interface FusedStepKind<Options extends FusedStepOptions> {
  /** Its row's label in `describeExecution()`. */
  readonly label: string;
  readonly make: (options?: Options) => TransformOptimizer;
  /** The variables stepped, by name: the shapes the fused step handles apart. */
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  readonly gradient: TwinGradient;
  /** The weight decay of the refusal and leak scenarios (`{}` for the kind's default). */
  readonly decay: Options;
  readonly overflowShape: readonly number[];
  readonly overflows: readonly FiniteOverflow<Options>[];
}

const native = loadNativeAddon();

/**
 * Steps a fused and a composed optimizer of `options` `steps` times on twin variables of the
 * kind's shapes, and expects each to have run its own way and both to end with the same values
 * and the same checkpoint, bit for bit.
 */
export async function expectFusedEqualsComposed<Options extends FusedStepOptions>(kind: FusedStepKind<Options>, options: Options, steps: number): Promise<void> {
  const [va, vb] = twinVariables(Object.values(kind.shapes));
  const fused = kind.make(options);
  const composed = kind.make({ ...options, execution: { fused: false } });
  stepBoth(steps, fused, va, composed, vb, kind.gradient);
  expect(fused.describeExecution()[0]?.lastStep).toBe('fused');
  expect(composed.describeExecution()[0]).toEqual(expect.objectContaining({ strategy: 'composed', lastStep: 'composed', reason: expect.stringMatching(/fused: false/) }));
  await expectTwinsEqual(fused, va, composed, vb, Object.keys(kind.shapes));
}

/**
 * Registers, in the calling `describe` (its backend set), the scenarios every fused step passes
 * beside its composed twin: it runs by default, checkpoints move between the two, a refused step
 * changes nothing and says what the composed step says, and no tensor leaks.
 */
export function testFusedStepContract<Options extends FusedStepOptions>(kind: FusedStepKind<Options>): void {
  const shapes = Object.values(kind.shapes);
  const stepTwins = (steps: number, a: TransformOptimizer, va: tf.Variable[], b: TransformOptimizer, vb: tf.Variable[]) => stepBoth(steps, a, va, b, vb, kind.gradient);

  it.runIf(native.available)('runs by default where the native kernel can, and says so', () => {
    const [w] = seededVariables([[8, 4]]) as [tf.Variable];
    const optimizer = kind.make();
    expect(optimizer.describeExecution()).toEqual([expect.objectContaining({ label: kind.label, strategy: 'fused', lastStep: 'none' })]);
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    expect(optimizer.describeExecution()[0]?.lastStep).toBe('fused');
  });

  it.runIf(native.available).each([
    ['composed', 'fused'],
    ['fused', 'composed'],
  ] as const)('checkpoints move between fused and composed optimizers unchanged: %s to %s', async (from, to) => {
    const [va, vb] = twinVariables(shapes);
    const saving = kind.make({ ...kind.decay, execution: { fused: from === 'fused' } });
    // The twins' first optimizer only moves vb, which takes va's values before the resumed steps.
    stepTwins(2, saving, va, kind.make({ ...kind.decay, execution: { fused: to === 'fused' } }), vb);
    const rename = (name: string) => va.reduce((n, v, i) => n.replace(v.name, (vb[i] as tf.Variable).name), name);
    const saved = (await saving.getWeights()).map(({ name, tensor }) => ({ name: rename(name), tensor: tensor.clone() }));
    const resumed = kind.make({ ...kind.decay, execution: { fused: to === 'fused' } });
    await resumed.setWeights(saved);
    vb.forEach((v, i) => v.assign(va[i] as tf.Variable));
    stepTwins(2, saving, va, resumed, vb);
    expect(resumed.describeExecution()[0]?.lastStep).toBe(to);
    await expectTwinsEqual(saving, va, resumed, vb, Object.keys(kind.shapes));
    tf.dispose(saved.map((s) => s.tensor));
  });

  it.runIf(native.available)('all-or-nothing: a NaN gradient of the last variable leaves every earlier one and all state untouched', async () => {
    const vs = seededVariables(shapes);
    const last = vs.length - 1;
    const optimizer = kind.make(kind.decay);
    optimizer.applyGradients(vs.map((v) => ({ name: v.name, tensor: tf.onesLike(v) })));
    const before = vs.map(hostValues);
    const state = await checkpointByPosition(optimizer, vs);
    const count = tf.memory().numTensors;
    const bad = vs.map((v, i) => ({ name: v.name, tensor: i === last ? tf.fill(v.shape, Number.NaN) : tf.onesLike(v) }));
    expect(() => optimizer.applyGradients(bad)).toThrow(new RegExp(`^Non-finite \\(NaN or Inf\\) gradient for '${vs[last]?.name}'; no variable was updated$`));
    expect(optimizer.describeExecution()[0]?.lastStep).toBe('fused');
    vs.forEach((v, i) => expect(hostValues(v)).toEqual(before[i]));
    expect(await checkpointByPosition(optimizer, vs)).toEqual(state);
    expect(optimizer.iterations).toBe(1);
    tf.dispose(bad.map((g) => g.tensor));
    expect(tf.memory().numTensors).toBe(count);
  });

  it.runIf(native.available)('all-or-nothing: finite gradients that make a non-finite value are refused by name, with the message of the composed step', () => {
    for (const { options, gradient, steps, refused } of kind.overflows) {
      /** The message of the refused last step, its variable called 'w'; expects that step to have changed nothing. */
      const refusal = (fused: boolean): string => {
        const [w] = seededVariables([kind.overflowShape]) as [tf.Variable];
        const optimizer = kind.make({ ...options, execution: { fused } });
        const grad = gradient([...kind.overflowShape]);
        for (let step = 1; step < steps; step++) optimizer.applyGradients({ [w.name]: grad });
        const before = hostValues(w);
        let message = '';
        try {
          optimizer.applyGradients({ [w.name]: grad });
        } catch (error) {
          message = (error as Error).message.replaceAll(w.name, 'w');
        }
        expect(hostValues(w)).toEqual(before);
        expect(optimizer.iterations).toBe(steps - 1);
        grad.dispose();
        return message;
      };
      const fused = refusal(true);
      expect(fused).toBe(nonFiniteStepError(steps, refused, []).message);
      expect(fused).toBe(refusal(false));
    }
  });

  it.runIf(native.available)('leaks no tensor: a fused step leaves the tensor count as the composed one does', () => {
    const [va, vb] = twinVariables(shapes);
    const cautious = { ...kind.decay, cautiousWeightDecay: true };
    const fused = kind.make(cautious);
    const composed = kind.make({ ...cautious, execution: { fused: false } });
    stepTwins(1, fused, va, composed, vb); // creates the state
    const count = tf.memory().numTensors;
    stepTwins(3, fused, va, composed, vb);
    expect(tf.memory().numTensors).toBe(count);
  });
}
