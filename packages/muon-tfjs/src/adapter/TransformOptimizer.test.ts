import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { HybridOptimizer } from './HybridOptimizer.js';
import { AdamWOptimizer, MuonOptimizer, adamw, lion, muon } from './optimizers.js';
import { MuonWithAdamWOptimizer, muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { TransformOptimizer } from './TransformOptimizer.js';

let counter = 0;
/** A fresh, uniquely named variable. */
function variable(shape: number[], seed: number): tf.Variable {
  counter += 1;
  return tf.variable(tf.randomNormal(shape, 0, 1, 'float32', seed), true, `w${counter}_${shape.join('x')}`);
}

function snapshot(vars: readonly tf.Variable[]): number[][] {
  return vars.map((v) => Array.from(v.dataSync()));
}

async function stateSnapshot(optimizer: TransformOptimizer): Promise<[string, number[]][]> {
  return (await optimizer.getWeights()).map(({ name, tensor }) => [name, Array.from(tensor.dataSync())]);
}

const factories = {
  muon: () => muon({ learningRate: 0.05 }),
  adamw: () => adamw({ learningRate: 0.01 }),
  lion: () => lion({ learningRate: 0.01 }),
};

describe.each(TEST_BACKENDS)('the tf.Optimizer contract on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(Object.keys(factories) as (keyof typeof factories)[])('%s: minimize, map and array forms agree; no tensor leaks', (kind) => {
    const a = variable([6, 4], 1);
    const b = variable([4, 3], 2);
    const twinA = tf.variable(a.clone(), true, `${a.name}_twin`);
    const twinB = tf.variable(b.clone(), true, `${b.name}_twin`);
    const x = tf.randomNormal([5, 6], 0, 1, 'float32', 3);
    const loss = (p: tf.Variable, q: tf.Variable) => (): tf.Scalar => tf.sum(tf.square(tf.matMul(tf.matMul(x, p), q)));
    const viaMinimize = factories[kind]();
    const viaArray = factories[kind]();
    viaMinimize.minimize(loss(a, b), false, [a, b]);
    const counted = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      viaMinimize.minimize(loss(a, b), false, [a, b]);
    }
    expect(tf.memory().numTensors).toBe(counted);
    for (let step = 0; step < 4; step++) {
      // The array form, in reverse order: state must follow names, not positions.
      const { grads } = tf.variableGrads(loss(twinA, twinB), [twinA, twinB]);
      viaArray.applyGradients([
        { name: twinB.name, tensor: grads[twinB.name] as tf.Tensor },
        { name: twinA.name, tensor: grads[twinA.name] as tf.Tensor },
      ]);
      tf.dispose(grads);
    }
    expect(snapshot([a, b])).toEqual(snapshot([twinA, twinB]));
    expect(viaMinimize.iterations).toBe(4);
  });

  it('resuming from getWeights/setWeights is bit-identical to uninterrupted training', async () => {
    const w = variable([8, 5], 4);
    const v = variable([5], 5);
    const x = tf.randomNormal([6, 8], 0, 1, 'float32', 6);
    const loss = (): tf.Scalar => tf.sum(tf.square(tf.add(tf.matMul(x, w), v)));
    const start = snapshot([w, v]);
    const make = () => muonWithAdamW([w, v], { muon: { learningRate: 0.05, weightDecay: 0.1 }, adamw: { learningRate: 0.01 } });

    const uninterrupted = make();
    for (let step = 0; step < 6; step++) uninterrupted.minimize(loss, false, [w, v]);
    const expected = snapshot([w, v]);

    w.assign(tf.tensor(start[0] as number[], w.shape));
    v.assign(tf.tensor(start[1] as number[], v.shape));
    const first = make();
    for (let step = 0; step < 3; step++) first.minimize(loss, false, [w, v]);
    const checkpoint = (await first.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    first.dispose();
    const resumed = make();
    await resumed.setWeights(checkpoint);
    expect(resumed.iterations).toBe(3);
    for (let step = 0; step < 3; step++) resumed.minimize(loss, false, [w, v]);
    expect(snapshot([w, v])).toEqual(expected);
  });

  it('a NaN or Inf gradient throws, names the variable, and changes nothing', async () => {
    const a = variable([4, 4], 7);
    const b = variable([4, 2], 8);
    const optimizer = muon();
    optimizer.applyGradients({ [a.name]: tf.onesLike(a), [b.name]: tf.onesLike(b) });
    const before = snapshot([a, b]);
    const state = await stateSnapshot(optimizer);
    const bad = tf.tensor2d([[1, Number.NaN], [0, 0], [0, 0], [0, Number.POSITIVE_INFINITY]]);
    expect(() => optimizer.applyGradients({ [a.name]: tf.onesLike(a), [b.name]: bad })).toThrow(new RegExp(`Non-finite .* '${b.name}'; no variable was updated`));
    expect(snapshot([a, b])).toEqual(before);
    expect(await stateSnapshot(optimizer)).toEqual(state);
    expect(optimizer.iterations).toBe(1);
  });

  it('with checkFinite off, a NaN gradient is not checked (and reaches the weights)', () => {
    const a = variable([2, 2], 15);
    const optimizer = adamw();
    optimizer.checkFinite = false;
    optimizer.applyGradients({ [a.name]: tf.fill([2, 2], Number.NaN) });
    expect(Array.from(a.dataSync()).every(Number.isNaN)).toBe(true);
  });

  it("a NaN gradient on a variable's first step leaves no state behind", async () => {
    const a = variable([3, 3], 9);
    const optimizer = adamw();
    expect(() => optimizer.applyGradients({ [a.name]: tf.fill([3, 3], Number.NaN) })).toThrow(/Non-finite/);
    expect(optimizer.variableNames).toEqual([]);
    expect(await optimizer.getWeights()).toHaveLength(1);
  });

  it('a bad first step after setWeights keeps the restored checkpoint intact', async () => {
    const w = variable([4, 3], 14);
    const trained = muon();
    trained.applyGradients({ [w.name]: tf.onesLike(w) });
    const checkpoint = (await trained.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const saved = checkpoint.map(({ name, tensor }) => [name, Array.from(tensor.dataSync())]);
    const resumed = muon();
    await resumed.setWeights(checkpoint);
    expect(() => resumed.applyGradients({ [w.name]: tf.fill([4, 3], Number.NaN) })).toThrow(/Non-finite/);
    expect(await stateSnapshot(resumed)).toEqual(saved);
  });

  it('refuses gradients of the wrong shape or dtype and unknown variables, by name', () => {
    const a = variable([3, 4], 10);
    const optimizer = muon();
    expect(() => optimizer.applyGradients({ [a.name]: tf.ones([4, 3]) })).toThrow(new RegExp(`gradient of '${a.name}' has shape \\[4, 3\\] but the variable has shape \\[3, 4\\]`));
    expect(() => optimizer.applyGradients({ [a.name]: tf.ones([3, 4], 'int32') })).toThrow(/must be float32; got variable float32, gradient int32/);
    expect(() => optimizer.applyGradients({ nowhere: tf.ones([3, 4]) })).toThrow(/'nowhere', but no variable of that name is registered/);
    expect(() => optimizer.applyGradients([
      { name: a.name, tensor: tf.ones([3, 4]) },
      { name: a.name, tensor: tf.ones([3, 4]) },
    ])).toThrow(/two gradients for variable/);
    expect(optimizer.iterations).toBe(0);
  });

  it('plain Muon refuses a vector and points to the hybrid, changing nothing', () => {
    const kernel = variable([4, 4], 11);
    const bias = variable([4], 12);
    const before = snapshot([kernel, bias]);
    const optimizer = muon();
    expect(() => optimizer.applyGradients({ [kernel.name]: tf.onesLike(kernel), [bias.name]: tf.onesLike(bias) })).toThrow(
      new RegExp(`'${bias.name}' has shape \\[4\\] \\(rank 1\\).*muonWithAdamW`),
    );
    expect(snapshot([kernel, bias])).toEqual(before);
    expect(optimizer.variableNames).toEqual([]);
  });

  it('a zero gradient gives finite updates (Muon: none at all)', () => {
    const a = variable([5, 3], 13);
    const before = snapshot([a]);
    for (const optimizer of [muon(), adamw({ weightDecay: 0 }), lion()]) {
      optimizer.applyGradients({ [a.name]: tf.zerosLike(a) });
    }
    expect(snapshot([a])).toEqual(before);
  });

  it('rejects unknown options and out-of-range values, naming them', () => {
    expect(() => muon({ learnigRate: 0.1 } as object)).toThrow(/unknown option 'learnigRate'; valid options are learningRate/);
    expect(() => muon({ learningRate: -1 })).toThrow(/learningRate must be a finite number ≥ 0, got -1/);
    expect(() => muon({ momentum: 1 })).toThrow(/momentum must be in \[0, 1\), got 1/);
    expect(() => muon({ momentum: -0.1 })).toThrow(/momentum must be in \[0, 1\)/);
    expect(() => muon({ coefficients: 'newton' as 'jordan' })).toThrow(/Unknown Newton–Schulz coefficient preset 'newton'/);
    expect(() => muon({ lrAdjust: 'rms' as 'none' })).toThrow(/unknown lrAdjust 'rms'/);
    expect(() => adamw({ beta2: 1.5 })).toThrow(/beta2 must be in \[0, 1\), got 1.5/);
    expect(() => lion({ weightDecay: -0.1 })).toThrow(/weightDecay must be a finite number ≥ 0/);
    const optimizer = new MuonOptimizer();
    expect(() => {
      optimizer.learningRate = Number.NaN;
    }).toThrow(/learningRate must be a finite number ≥ 0, got NaN/);
    expect(optimizer.learningRate).toBe(0.02);
  });
});

describe('instanceof', () => {
  it("checks the prototype chain for this library's classes, and keeps tf.Optimizer's duck type", () => {
    // tf.Optimizer's Symbol.hasInstance accepts any object with minimize, computeGradients and
    // applyGradients; inherited unchanged, it made every optimizer an instance of every class here.
    const optimizers = { muon: muon(), adamw: adamw(), hybrid: new MuonWithAdamWOptimizer(), tfAdam: tf.train.adam(0.01) };
    expect(optimizers.muon instanceof MuonOptimizer).toBe(true);
    expect(optimizers.adamw instanceof MuonOptimizer).toBe(false);
    expect(optimizers.hybrid instanceof MuonOptimizer).toBe(false);
    expect(optimizers.tfAdam instanceof MuonOptimizer).toBe(false);
    expect(optimizers.adamw instanceof AdamWOptimizer).toBe(true);
    expect(optimizers.hybrid instanceof HybridOptimizer).toBe(true);
    expect(optimizers.hybrid instanceof MuonWithAdamWOptimizer).toBe(true);
    expect(optimizers.muon instanceof MuonWithAdamWOptimizer).toBe(false);
    expect(optimizers.muon instanceof TransformOptimizer).toBe(true);
    expect(optimizers.tfAdam instanceof TransformOptimizer).toBe(false);
    expect(({} as object) instanceof MuonOptimizer).toBe(false);
    for (const optimizer of Object.values(optimizers)) expect(optimizer instanceof tf.Optimizer).toBe(true);
    // A duck-typed optimizer from another copy of tfjs-core still passes as a tf.Optimizer (tfjs-layers' check).
    expect({ minimize() {}, computeGradients() {}, applyGradients() {} } instanceof tf.Optimizer).toBe(true);
    for (const optimizer of Object.values(optimizers)) optimizer.dispose();
  });
});
