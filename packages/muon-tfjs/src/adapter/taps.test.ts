import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { TestOptimizer } from '../testing/transformOptimizer.js';
import { scaleByAdam } from '../transforms/scaleByAdam.js';
import { scaleByLearningRate } from '../transforms/scaleByLearningRate.js';
import { MUON_TAPS } from '../transforms/scaleByMuon.js';
import { chain } from '../transforms/chain.js';
import { observe } from '../transforms/taps.js';
import { SOPHIA_TAPS } from '../transforms/scaleBySophia.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { muon } from './optimizers.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';

let counter = 0;
function variable(shape: number[], seed: number): tf.Variable {
  counter += 1;
  return tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed), true, `tap${counter}`);
}

/** Kernels launched by one step, as TF.js's profiler records them. */
async function kernelsOf(step: () => void): Promise<string[]> {
  const info = await tf.profile(step);
  return info.kernels.map((k) => k.name);
}

describe.each(TEST_BACKENDS)('taps on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('a tap nobody hears on a step costs nothing: same kernels, same tensors, no call', async () => {
    const w = variable([8, 6], 1);
    const twin = tf.variable(w.clone(), true, `${w.name}_twin`);
    const plain = muon();
    const tapped = muon();
    const calls: number[] = [];
    // Heard on steps 1000, 2000, …: not on the steps below.
    tapped.tap(MUON_TAPS.newtonSchulzInput, ({ step }) => calls.push(step), { every: 1000 });
    tapped.tap(MUON_TAPS.newtonSchulzOutput, ({ step }) => calls.push(step), { every: 1000 });
    const grad = tf.randomNormal([8, 6], 0, 1, 'float32', 2);
    plain.applyGradients({ [twin.name]: grad });
    tapped.applyGradients({ [w.name]: grad });
    const before = tf.memory().numTensors;
    const unheard = await kernelsOf(() => tapped.applyGradients({ [w.name]: grad }));
    const afterUnheard = tf.memory().numTensors;
    const none = await kernelsOf(() => plain.applyGradients({ [twin.name]: grad }));
    expect(unheard).toEqual(none);
    expect(afterUnheard).toBe(before);
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual([]);
    expect(Array.from(w.dataSync())).toEqual(Array.from(twin.dataSync()));
    // The same step with a listener due does launch more kernels (the momentum view), so the
    // comparison above can fail.
    tapped.tap(MUON_TAPS.momentum, () => undefined);
    const heard = await kernelsOf(() => tapped.applyGradients({ [w.name]: grad }));
    expect(heard.length).toBeGreaterThan(none.length);
  });

  it("hands over Muon's Newton–Schulz input and output as the kernel's [fanIn, fanOut] matrix", () => {
    // A conv kernel [3, 3, 2, 4] is the matrix [18, 4].
    const w = variable([3, 3, 2, 4], 3);
    const before = w.arraySync() as number[][][][];
    const beta = 0.9;
    const lr = 0.01;
    const optimizer = muon({ learningRate: lr, momentum: beta, lrAdjust: 'none', matrixViews: [{ name: w.name, convKernel: true }] });
    const seen: Record<string, { variable: string; shape: number[]; values: number[] }> = {};
    for (const point of Object.values(MUON_TAPS)) {
      optimizer.tap(point, ({ variable: name, value }) => {
        seen[point] = { variable: name, shape: value.shape, values: Array.from(value.dataSync()) };
      });
    }
    const grad = tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 4);
    const g = Array.from(grad.dataSync());
    optimizer.applyGradients({ [w.name]: grad });
    for (const point of Object.values(MUON_TAPS)) {
      expect(seen[point]).toMatchObject({ variable: w.name, shape: [18, 4] });
    }
    // From zero momentum: M = (1−β)g, and the Nesterov look-ahead (1−β)g + βM = (1−β)(1+β)g.
    const close = (a: number[], b: number[], tol: number) => a.forEach((x, i) => expect(Math.abs(x - (b[i] as number))).toBeLessThan(tol));
    close(seen[MUON_TAPS.momentum]?.values ?? [], g.map((x) => (1 - beta) * x), 1e-7);
    close(seen[MUON_TAPS.newtonSchulzInput]?.values ?? [], g.map((x) => (1 - beta) * (1 + beta) * x), 1e-7);
    // p ← p − lr·O (no decay, no shape scale): the tapped output is −Δp/lr, to float32 round-off of
    // Δp (|p| ≈ 1, so Δp carries an absolute error near 6e-8, i.e. 6e-6 after dividing by lr).
    const after = (w.arraySync() as number[][][][]).flat(3);
    const step = before.flat(3).map((p, i) => (p - (after[i] as number)) / lr);
    close(seen[MUON_TAPS.newtonSchulzOutput]?.values ?? [], step, 2e-5);
  });

  it('hears only the steps it asked for, and stops when removed', () => {
    const w = variable([4, 4], 5);
    const optimizer = muon();
    const steps: number[] = [];
    const stop = optimizer.tap(MUON_TAPS.newtonSchulzOutput, ({ step }) => steps.push(step), { every: 2 });
    for (let i = 0; i < 5; i++) optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    stop();
    for (let i = 0; i < 2; i++) optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    expect(steps).toEqual([2, 4]);
    expect(() => optimizer.tap(MUON_TAPS.momentum, () => undefined, { every: 0 })).toThrow(/every must be a positive integer, got 0/);
  });

  it('a listener that throws aborts the step, naming the point, and changes nothing', async () => {
    const w = variable([4, 3], 6);
    const optimizer = muon();
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    const weights = Array.from(w.dataSync());
    const state = (await optimizer.getWeights()).map((t) => Array.from(t.tensor.dataSync()));
    optimizer.tap(MUON_TAPS.newtonSchulzInput, () => {
      throw new Error('disk full');
    });
    const grad = tf.onesLike(w);
    const count = tf.memory().numTensors;
    expect(() => optimizer.applyGradients({ [w.name]: grad })).toThrow(/listener of tap 'muon\/newtonSchulzInput' threw at step 2 \(variable 'tap\d+'\): disk full; no variable was updated/);
    expect(tf.memory().numTensors).toBe(count);
    expect(Array.from(w.dataSync())).toEqual(weights);
    expect((await optimizer.getWeights()).map((t) => Array.from(t.tensor.dataSync()))).toEqual(state);
    expect(optimizer.iterations).toBe(1);
  });

  it('observe() reports what any stage of a chain receives and emits', () => {
    const w = variable([3], 7);
    const optimizer = new TestOptimizer(() => chain(observe('adam', scaleByAdam({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 })), scaleByLearningRate(0.1)));
    const seen: Record<string, number[]> = {};
    optimizer.tap('adam/input', ({ value }) => (seen['input'] = Array.from(value.dataSync())));
    optimizer.tap('adam/output', ({ value }) => (seen['output'] = Array.from(value.dataSync())));
    optimizer.applyGradients({ [w.name]: tf.tensor1d([2, -3, 0.5]) });
    expect(seen['input']).toEqual([2, -3, 0.5]);
    // Adam's first step is m̂/(√v̂ + ε) = g/(|g| + ε) = sign(g), to ε/|g| ≤ 2e-8.
    (seen['output'] ?? []).forEach((u, i) => expect(u).toBeCloseTo([1, -1, 1][i] as number, 6));
  });

  it('refuses a point no transformation of the optimizer emits, listing the points it has, and registers nothing', () => {
    const w = variable([4, 3], 8);
    const optimizer = muon();
    const heard: string[] = [];
    expect(() => optimizer.tap('muon/newtonSchulzOuptut', ({ point }) => heard.push(point))).toThrow(
      "MuonOptimizer.tap: unknown tap point 'muon/newtonSchulzOuptut'; this optimizer's points are 'muon/momentum', 'muon/newtonSchulzInput', 'muon/newtonSchulzOutput'",
    );
    expect(() => optimizer.tap(SOPHIA_TAPS.unclippedFraction, () => undefined)).toThrow(/unknown tap point 'sophia\/unclippedFraction'/);
    optimizer.applyGradients({ [w.name]: tf.onesLike(w) });
    expect(heard).toEqual([]);
    expect(optimizer.tapPoints).toEqual(Object.values(MUON_TAPS));
  });

  it("a hybrid's points are the union of its groups'; observe's and column blocks' points are declared too", () => {
    const kernel = variable([4, 4], 9);
    const bias = variable([4], 10);
    const hybrid = new HybridOptimizer({ groups: { muon: { optimizer: 'muon' }, adamw: { optimizer: 'sophia' } } });
    expect(new Set(hybrid.tapPoints)).toEqual(new Set([...Object.values(MUON_TAPS), ...Object.values(SOPHIA_TAPS)]));
    const heard = new Set<string>();
    for (const point of hybrid.tapPoints) hybrid.tap(point, () => heard.add(point));
    hybrid.applyGradients({ [kernel.name]: tf.onesLike(kernel), [bias.name]: tf.onesLike(bias) });
    expect(heard).toEqual(new Set(hybrid.tapPoints));
    expect(() => muonWithAdamW([kernel, bias]).tap(SOPHIA_TAPS.unclippedFraction, () => undefined)).toThrow(
      "MuonWithAdamWOptimizer.tap: unknown tap point 'sophia/unclippedFraction'; this optimizer's points are 'muon/momentum', 'muon/newtonSchulzInput', 'muon/newtonSchulzOutput'",
    );
    expect(muon({ blockColumns: [{ name: 'x', blocks: 2 }], convOrthogonalization: 'perTap' }).tapPoints).toEqual(Object.values(MUON_TAPS));
    const observed = new TestOptimizer(() => chain(observe('adam', scaleByAdam({ beta1: 0.9, beta2: 0.999, epsilon: 1e-8 })), scaleByLearningRate(0.1)));
    expect(observed.tapPoints).toEqual(['adam/input', 'adam/output']);
    expect(() => new TestOptimizer(() => scaleByLearningRate(0.1)).tap('adam/output', () => undefined)).toThrow("TestOptimizer.tap: unknown tap point 'adam/output'; this optimizer has no tap points");
  });
});
