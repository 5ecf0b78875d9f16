import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type MockInstance, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { saveInMemory } from '../testing/saveInMemory.js';
import { adamw, lion, sophia } from './optimizers.js';
import { muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { sophiaHessianCallback } from './sophiaHessianCallback.js';
import type { TransformOptimizer } from './TransformOptimizer.js';
import { baseVariableName } from './variableNames.js';

// Issue 22, items 2 and 5: the check a user writes — train, save with the optimizer, load in the
// same process while the original lives, fit both once more and compare — holds bit for bit on
// cpu: both models run the same float32 operations in the same order from the same values, so
// any difference, however small, means state was lost or bound to the wrong variable.

/** Dense 6 → 8 → 8 → 3, seeded: the second kernel is a hidden matrix (Muon's, in the hybrid). */
function buildModel(hiddenUnits = 8): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [6], units: hiddenUnits, activation: 'tanh', kernelInitializer: init(1), name: 'reload_in' }),
      tfl.layers.dense({ units: 8, activation: 'tanh', kernelInitializer: init(2), name: 'reload_hidden' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3), name: 'reload_head' }),
    ],
  });
}

let xs: tf.Tensor;
let ys: tf.Tensor;
/** 4 steps an epoch. */
const fitOptions = { batchSize: 8, shuffle: false, verbose: 0 as const };
const weightsOf = (model: tfl.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));
/** The optimizers' warnings about a restored checkpoint (tfjs may warn too, the first time a backend runs). */
const restoreWarnings = (warn: MockInstance<typeof console.warn>) => warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('setWeights'));

const OPTIMIZERS = [
  ['muonWithAdamW', (model: tfl.LayersModel) => muonWithAdamW(model, { muon: { learningRate: 0.05 }, adamw: { learningRate: 0.01 } })],
  ['adamw', () => adamw({ learningRate: 0.01, weightDecay: 0.01 })],
  ['lion', () => lion({ learningRate: 3e-3, weightDecay: 0.1 })],
] as const;

/** A model trained for two epochs, and its artifacts saved with the optimizer. */
async function trainedAndSaved(makeOptimizer: (model: tfl.LayersModel) => TransformOptimizer): Promise<{ model: tfl.LayersModel; artifacts: tf.io.ModelArtifacts }> {
  const model = buildModel();
  model.compile({ optimizer: makeOptimizer(model), loss: 'categoricalCrossentropy' });
  await model.fit(xs, ys, { ...fitOptions, epochs: 2 });
  return { model, artifacts: await saveInMemory(model, { includeOptimizer: true }) };
}

describe('a model reloaded in the same process resumes exactly (issue 22 items 2, 5)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
    xs = tf.randomNormal([32, 6], 0, 1, 'float32', 71);
    ys = tf.cast(tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([6, 3], 0, 1, 'float32', 72)), 1), 3), 'float32');
  });
  afterEach(() => vi.restoreAllMocks());

  it.each(OPTIMIZERS)('%s: reloaded while the original lives, both fit one more epoch to the same weights', async (_, makeOptimizer) => {
    const warn = vi.spyOn(console, 'warn');
    const { model, artifacts } = await trainedAndSaved(makeOptimizer);
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    // tfjs-layers renames the copy's variables while the original's names are taken.
    const [savedName, reloadedName] = [model, reloaded].map((m) => m.trainableWeights[0]?.name as string);
    expect(reloadedName).not.toBe(savedName);
    expect(baseVariableName(reloadedName as string)).toBe(baseVariableName(savedName as string));
    await model.fit(xs, ys, { ...fitOptions, epochs: 1 });
    await reloaded.fit(xs, ys, { ...fitOptions, epochs: 1 });
    expect(weightsOf(reloaded)).toEqual(weightsOf(model));
    expect(restoreWarnings(warn)).toEqual([]);
  });

  it('two reloaded copies alive at once each resume exactly, and neither takes the other\'s state', async () => {
    const { model, artifacts } = await trainedAndSaved(OPTIMIZERS[0][1]);
    const first = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const second = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    // The second copy steps first: its variables (`_2`) pair with the checkpoint as the first's (`_1`) do.
    await second.fit(xs, ys, { ...fitOptions, epochs: 1 });
    await first.fit(xs, ys, { ...fitOptions, epochs: 1 });
    await model.fit(xs, ys, { ...fitOptions, epochs: 1 });
    expect(weightsOf(first)).toEqual(weightsOf(model));
    expect(weightsOf(second)).toEqual(weightsOf(model));
  });

  it('a checkpoint in another order does not bind by guess: fresh state, and a warning naming every unbound entry, once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { model, artifacts } = await trainedAndSaved(OPTIMIZERS[1][1]);
    const checkpoint = await (model.optimizer as TransformOptimizer).getWeights();
    const [iter, entries] = [checkpoint.slice(0, 1), checkpoint.slice(1)];
    const reordered = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    await (reordered.optimizer as TransformOptimizer).setWeights([...iter, ...[...entries].reverse()]);
    // What fresh state gives: the same step count, zero moments (bound in the checkpoint's own order).
    const zeroed = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    await (zeroed.optimizer as TransformOptimizer).setWeights([...iter, ...entries.map(({ name, tensor }) => ({ name, tensor: tf.zerosLike(tensor) }))]);
    await reordered.fit(xs, ys, { ...fitOptions, epochs: 1 });
    await zeroed.fit(xs, ys, { ...fitOptions, epochs: 1 });
    expect(weightsOf(reordered)).toEqual(weightsOf(zeroed));
    expect(restoreWarnings(warn)).toHaveLength(1);
    const saved = model.trainableWeights.map((w) => w.name);
    for (const name of saved) expect(restoreWarnings(warn)[0]).toContain(`'${name}'`);
    // Unbound, the entries stay in the checkpoint under their own names.
    const names = (await (reordered.optimizer as TransformOptimizer).getWeights()).map(({ name }) => name);
    for (const name of saved) expect(names).toContain(`${name}/m`);
  });

  it('a checkpoint whose shapes do not pair: fresh state and a warning while the original lives; once it is gone, the renamed variable binds and its shape is refused', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { model } = await trainedAndSaved(OPTIMIZERS[1][1]);
    const checkpoint = async () => (await (model.optimizer as TransformOptimizer).getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    const narrower = buildModel(5);
    const optimizer = adamw({ learningRate: 0.01, weightDecay: 0.01 });
    narrower.compile({ optimizer, loss: 'categoricalCrossentropy' });
    await optimizer.setWeights(await checkpoint());
    await narrower.fit(xs, ys, { ...fitOptions, epochs: 1 });
    expect(restoreWarnings(warn)).toHaveLength(1);
    expect(restoreWarnings(warn)[0]).toContain(`'${model.trainableWeights[0]?.name}'`);

    const saved = await checkpoint();
    const kernelName = model.trainableWeights[0]?.name as string;
    model.dispose();
    const other = buildModel(5);
    const second = adamw({ learningRate: 0.01, weightDecay: 0.01 });
    other.compile({ optimizer: second, loss: 'categoricalCrossentropy' });
    await second.setWeights(saved);
    const before = weightsOf(other);
    await expect(other.fit(xs, ys, { ...fitOptions, epochs: 1 })).rejects.toThrow(`Restored '${kernelName}/m' is float32 [6, 8], but '${other.trainableWeights[0]?.name}' needs float32 [6, 5]`);
    expect(weightsOf(other)).toEqual(before);
  });

  it('a Hessian estimate pending at the save (Sophia) is saved with the optimizer and reaches the reloaded model\'s next step', async () => {
    const model = buildModel();
    const optimizer = sophia({ learningRate: 3e-3, rho: 1 });
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    // 4 steps an epoch, an estimate after every second step: after step 8 one is pending for step 9.
    const fitWithEstimates = (m: tfl.LayersModel, epochs: number) => m.fit(xs, ys, { ...fitOptions, epochs, callbacks: [sophiaHessianCallback(m, m.optimizer as TransformOptimizer, { inputs: xs, every: 2 })] });
    await fitWithEstimates(model, 2);
    const artifacts = await saveInMemory(model, { includeOptimizer: true });
    expect(artifacts.weightSpecs?.map((s) => s.name)).toContain(`${model.trainableWeights[0]?.name}/pendingInput:hessianDiagonal`);
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    await fitWithEstimates(model, 1);
    await fitWithEstimates(reloaded, 1);
    expect(weightsOf(reloaded)).toEqual(weightsOf(model));
  });

  it('pending inputs round-trip through getWeights and setWeights; one provided after the restore replaces the saved kind; a saved input of another shape is refused, naming both', async () => {
    const p = tf.variable(tf.tensor1d([1, -2, 3]), true, 'reload_pending');
    const make = () => sophia({ learningRate: 0.1, rho: 0.1 });
    const gradient = () => ({ [p.name]: tf.tensor1d([0.5, -1, 0.01]) });
    const original = make();
    // Provided before the first step: the input's variable has no saved state yet.
    original.provideStepInputs('hessianDiagonal', { [p.name]: tf.tensor1d([10, 1, 100]) });
    const checkpoint = (await original.getWeights()).map(({ name, tensor }) => ({ name, tensor: tensor.clone() }));
    expect(checkpoint.map(({ name }) => name)).toEqual(['iter', `${p.name}/pendingInput:hessianDiagonal`]);
    const start = Array.from(p.dataSync());
    original.applyGradients(gradient());
    const expected = Array.from(p.dataSync());

    p.assign(tf.tensor1d(start));
    const g = gradient();
    const count = tf.memory().numTensors;
    const restored = make();
    await restored.setWeights(checkpoint);
    restored.applyGradients(g);
    expect(Array.from(p.dataSync())).toEqual(expected);
    // The saved input is released once its step commits, as a provided one is.
    restored.dispose();
    expect(tf.memory().numTensors).toBe(count);

    p.assign(tf.tensor1d(start));
    const replaced = make();
    await replaced.setWeights(checkpoint);
    replaced.provideStepInputs('hessianDiagonal', { [p.name]: tf.tensor1d([1, 1, 1]) });
    replaced.applyGradients(gradient());
    expect(Array.from(p.dataSync())).not.toEqual(expected);

    p.assign(tf.tensor1d(start));
    const misshapen = make();
    await misshapen.setWeights([checkpoint[0] as (typeof checkpoint)[number], { name: `${p.name}/pendingInput:hessianDiagonal`, tensor: tf.ones([2]) }]);
    expect(() => misshapen.applyGradients(gradient())).toThrow(`the restored '${p.name}/pendingInput:hessianDiagonal' is [2], but '${p.name}' needs [3]; no variable was updated`);
    expect(Array.from(p.dataSync())).toEqual(start);
    expect(misshapen.iterations).toBe(0);
    expect(misshapen.variableNames).toEqual([]);
  });
});
