import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { trainSmallClassifier } from '../testing/smallClassifierRun.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { adamw, muon } from './optimizers.js';
import { NonFiniteStepError } from './nonFiniteStepError.js';
import type { TransformOptimizer } from './TransformOptimizer.js';

const values = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data());

let serial = 0;
/** A fresh variable with a unique name (TF.js registers variables globally). */
const variable = (init: tf.Tensor, label: string): tf.Variable => tf.variable(init, true, `guard_${label}_${serial++}`);

/** Seeded gradients for `w`, one per step; `bad` steps get a NaN in entry 0. */
function gradient(shape: number[], step: number, bad = false): tf.Tensor {
  return tf.tidy(() => {
    const g = tf.randomNormal(shape, 0, 1, 'float32', 100 + step);
    return bad ? tf.where(tf.equal(tf.reshape(tf.range(0, g.size), shape), 0), tf.fill(shape, Number.NaN), g) : g;
  });
}

const OPTIMIZERS: Readonly<Record<string, () => TransformOptimizer>> = {
  muon: () => muon({ learningRate: 0.02 }),
  adamw: () => adamw({ learningRate: 0.01, weightDecay: 0.1 }),
};

describe.each(OPTIMIZER_TEST_BACKENDS)('the device guard (finiteGuard: device), on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(Object.keys(OPTIMIZERS))('%s: a NaN step changes nothing, refuses the steps queued after it, and is reported once, naming the variable and the step', async (kind) => {
    const make = OPTIMIZERS[kind] as () => TransformOptimizer;
    const shape = [6, 4];
    const init = tf.randomNormal(shape, 0, 1, 'float32', 7);
    // Reference: steps 1, 2 then the steps that follow a refused step 3, re-run as steps 3 and 4.
    const reference = variable(init, `${kind}_ref`);
    const plain = make();
    for (const s of [1, 2, 4, 5]) plain.applyGradients({ [reference.name]: gradient(shape, s) });

    const w = variable(init, kind);
    const guarded = make();
    guarded.finiteGuard = 'device';
    guarded.applyGradients({ [w.name]: gradient(shape, 1) });
    guarded.applyGradients({ [w.name]: gradient(shape, 2) });
    const afterTwo = await values(w);
    guarded.applyGradients({ [w.name]: gradient(shape, 3, true) }); // refused on the device, no throw here
    // Queued behind the refusal: refused by the latch where the flags are still on their way
    // (webgpu); where they are read at once (cpu, wasm) this call throws the refusal instead.
    let refusal: unknown;
    try {
      guarded.applyGradients({ [w.name]: gradient(shape, 9) });
      refusal = await guarded.whenChecked().then(() => undefined, (error: unknown) => error);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(NonFiniteStepError);
    const { step, keys, source, message } = refusal as NonFiniteStepError;
    expect([step, keys, source]).toEqual([3, [w.name], 'gradient']);
    expect(message).toMatch(new RegExp(`^Non-finite \\(NaN or Inf\\) gradient for '${w.name}'; no variable was updated \\(step 3, refused on the device`));
    // Delivered once: nothing left to report, no weight changed, the step count rolled back.
    await expect(guarded.whenChecked()).resolves.toBeUndefined();
    expect(await values(w)).toEqual(afterTwo);
    expect(guarded.iterations).toBe(2);
    expect(guarded.refusedSteps).toBe(1);
    // Training goes on from step 3 exactly as if the refused steps had never been given.
    guarded.applyGradients({ [w.name]: gradient(shape, 4) });
    guarded.applyGradients({ [w.name]: gradient(shape, 5) });
    await guarded.whenChecked();
    // Same ops on the same backend: equal up to the order of float32 reductions (1e-6 absolute, weights ~1).
    const [got, want] = [await values(w), await values(reference)];
    got.forEach((x, i) => expect(Math.abs(x - (want[i] as number)), `entry ${i}`).toBeLessThan(1e-6));
    expect(guarded.iterations).toBe(4);
  });

  it('a later applyGradients throws the refusal and changes nothing; a refused first step leaves no state', async () => {
    const w = variable(tf.ones([3, 2]), 'later');
    const optimizer = adamw({ learningRate: 0.1, weightDecay: 0 });
    optimizer.finiteGuard = 'device';
    optimizer.applyGradients({ [w.name]: gradient([3, 2], 1, true) }); // a first step, refused
    await tf.nextFrame(); // let the asynchronous read of its flags arrive
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(() => optimizer.applyGradients({ [w.name]: gradient([3, 2], 2) })).toThrow(NonFiniteStepError);
    expect(await values(w)).toEqual([1, 1, 1, 1, 1, 1]);
    // The state that step created is gone again, as under the host guard.
    expect(optimizer.getSlot(w.name, 'm')).toBeUndefined();
    expect(optimizer.variableNames).toEqual([]);
    expect(optimizer.iterations).toBe(0);
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    await optimizer.whenChecked();
    expect(optimizer.iterations).toBe(1);
    // AdamW's first step with g = 1: m̂/√v̂ = 1/(1 + ε) ≈ 1, so w = 1 − 0.1 = 0.9, to float32 rounding.
    (await values(w)).forEach((x) => expect(Math.abs(x - 0.9)).toBeLessThan(1e-6));
  });

  it('a refused first step after setWeights leaves the checkpoint entry unbound, and the next step resumes from it', async () => {
    const w = variable(tf.ones([3, 2]), 'restored');
    const make = (): TransformOptimizer => {
      const o = adamw({ learningRate: 0.1, weightDecay: 0 });
      o.finiteGuard = 'device';
      return o;
    };
    const trained = make();
    for (const s of [1, 2]) trained.applyGradients({ [w.name]: gradient([3, 2], s) });
    const checkpoint = (await trained.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const saved = await Promise.all(checkpoint.map(async ({ name, tensor }) => [name, await values(tensor)]));
    const weights = await values(w);
    // Expected: the checkpoint resumed by one good step.
    const reference = make();
    await reference.setWeights(checkpoint);
    reference.applyGradients({ [w.name]: gradient([3, 2], 4) });
    await reference.whenChecked();
    const expected = await values(w);
    w.assign(tf.tensor2d(weights, [3, 2]));
    // The same, with a refused step first: it binds nothing and counts nothing.
    const refused = make();
    await refused.setWeights(checkpoint);
    refused.applyGradients({ [w.name]: gradient([3, 2], 3, true) });
    await expect(refused.whenChecked()).rejects.toThrow(NonFiniteStepError);
    expect(refused.variableNames).toEqual([]);
    const after = await refused.getWeights();
    expect(await Promise.all(after.map(async ({ name, tensor }) => [name, await values(tensor)]))).toEqual(saved);
    refused.applyGradients({ [w.name]: gradient([3, 2], 4) });
    await refused.whenChecked();
    expect(refused.iterations).toBe(3);
    expect(await values(w)).toEqual(expected);
  });

  it("a refused step's after-step hooks write nothing, wherever its flags are read", async () => {
    const w = variable(tf.ones([2, 2]), 'hooked');
    const optimizer = adamw({ learningRate: 0.1, weightDecay: 0 });
    optimizer.finiteGuard = 'device';
    optimizer.addAfterStepHook('shift', ({ variables, assign }) => {
      const v = variables[w.name];
      if (v !== undefined) assign(v, tf.add(v, 100));
    });
    optimizer.applyGradients({ [w.name]: gradient([2, 2], 1, true) });
    await expect(optimizer.whenChecked()).rejects.toThrow(NonFiniteStepError);
    expect(await values(w)).toEqual([1, 1, 1, 1]);
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    await optimizer.whenChecked();
    // AdamW's first step with g = 1 moves each weight by −0.1 (to float32 rounding), then the hook adds 100.
    (await values(w)).forEach((x) => expect(Math.abs(x - 100.9)).toBeLessThan(1e-5));
  });

  it('finite steps from finite gradients that overflow are refused as updates, not gradients', async () => {
    const w = variable(tf.ones([2, 2]), 'overflow');
    const optimizer = adamw({ learningRate: 0.1 });
    optimizer.finiteGuard = 'device';
    // g² overflows float32 for |g| > 1.8e19: v = +Inf, the update is finite (m̂/√v̂ = 0) but v is not.
    optimizer.applyGradients({ [w.name]: tf.fill([2, 2], 1e20) });
    await expect(optimizer.whenChecked()).rejects.toMatchObject({ step: 1, source: 'update', keys: [`${w.name}/v`] });
  });
});

describe.each(OPTIMIZER_TEST_BACKENDS)('muonWithAdamW on a tfjs-layers model, guarded on the device by default, on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('trains with no synchronous read in steps 3..N where reads stall, and matches cpu', async () => {
    const train = () => trainSmallClassifier(8);
    const onBackend = await train();
    if (backend !== 'cpu' && backend !== 'wasm') expect(onBackend.syncReadsAfterStep2).toBe(0);
    expect(onBackend.losses.at(-1)).toBeLessThan(onBackend.losses[0] as number);
    await useBackend('cpu');
    const onCpu = await train();
    await useBackend(backend);
    // Relative 1e-3 (the bound): GPU float32 sums in another order, over 8 steps of an
    // orthogonalized update whose Newton–Schulz amplifies round-off of small singular values.
    onBackend.weights.forEach((w, k) => {
      const ref = onCpu.weights[k] as number[];
      const scale = Math.max(...ref.map(Math.abs));
      w.forEach((x, i) => expect(Math.abs(x - (ref[i] as number)) / scale, `weight ${k} entry ${i}`).toBeLessThan(1e-3));
    });
  });

  reportWebGpuSkipped(it);
});
