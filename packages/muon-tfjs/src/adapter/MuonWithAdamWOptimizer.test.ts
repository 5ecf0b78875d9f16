import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { OPTIMIZER_TEST_BACKENDS, reportWebGpuSkipped } from '../testing/webgpuBackend.js';
import { MuonWithAdamWOptimizer, muonWithAdamW } from './MuonWithAdamWOptimizer.js';
import { saveInMemory } from '../testing/saveInMemory.js';

/** Embedding → Conv2D → Dense → LayerNormalization → head: every routing case of a real model. */
function buildModel(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  const model = tfl.sequential({
    layers: [
      tfl.layers.embedding({ inputDim: 20, outputDim: 8, inputLength: 6, embeddingsInitializer: tfl.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed }), name: 'tokens' }),
      tfl.layers.reshape({ targetShape: [6, 8, 1] }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), name: 'conv' }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: init(2), name: 'hidden' }),
      tfl.layers.layerNormalization({ name: 'norm' }),
      tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(3), name: 'head' }),
    ],
  });
  return model;
}

/**
 * The model trained on each backend. The wasm backend of tfjs 4.22 lacks the gradient kernels of
 * Conv2D (Conv2DBackpropFilter) and Embedding (UnsortedSegmentSum), so there the tokens arrive
 * one-hot encoded into Dense → LayerNormalization → head; cpu trains the full model. webgpu gets
 * the small one too: on the software adapter here the full model's 68 steps take 40 s.
 */
function trainableModel(backend: string, seed: number): tfl.LayersModel {
  if (backend === 'cpu') {
    return buildModel(seed);
  }
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [6 * 20], units: 16, activation: 'relu', kernelInitializer: init(2), name: 'hidden' }),
      tfl.layers.layerNormalization({ name: 'norm' }),
      tfl.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(3), name: 'head' }),
    ],
  });
}

function syntheticData(backend: string): { xs: tf.Tensor; ys: tf.Tensor } {
  // Tokens 0..19; the class is the first token mod 5.
  const tokens = Array.from({ length: 64 * 6 }, (_, i) => (i * 7 + Math.floor(i / 6) * 3) % 20);
  const ids = tf.tensor2d(tokens, [64, 6], 'int32');
  const xs = backend !== 'cpu' ? tf.reshape(tf.oneHot(ids, 20), [64, 6 * 20]) : tf.cast(ids, 'float32');
  const labels = Array.from({ length: 64 }, (_, i) => (tokens[i * 6] as number) % 5);
  return { xs, ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 5) };
}

const baseNames = (names: readonly string[]) => names.map((n) => n.replace(/_\d+$/, ''));
/** Every weight's values, read asynchronously (webgpu in Node has no synchronous read). */
const weightValues = (model: tfl.LayersModel): Promise<number[][]> => Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));

reportWebGpuSkipped(it);

describe.each(OPTIMIZER_TEST_BACKENDS)('muonWithAdamW on a tfjs-layers model, %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('routes hidden kernels to Muon and everything else to AdamW, and says why', () => {
    const model = buildModel(1);
    const rows = muonWithAdamW(model).describeRouting();
    const table = Object.fromEntries(rows.map((r) => [r.variable.replace(/_\d+$/, ''), r]));
    const route = (name: string) => table[name]?.optimizer;
    expect(rows).toHaveLength(model.trainableWeights.length);
    expect(route('tokens/embeddings')).toBe('adamw');
    expect(route('conv/kernel')).toBe('muon');
    expect(route('conv/bias')).toBe('adamw');
    expect(route('hidden/kernel')).toBe('muon');
    expect(route('hidden/bias')).toBe('adamw');
    expect(route('norm/gamma')).toBe('adamw');
    expect(route('norm/beta')).toBe('adamw');
    expect(route('head/kernel')).toBe('adamw');
    expect(route('head/bias')).toBe('adamw');
    // Conv kernel [3, 3, 1, 4] is the matrix [9, 4]: scale √max(1, 4/9) = 1, lr 0.02.
    expect(table['conv/kernel']).toMatchObject({ matrix: [9, 4], scale: 1, effectiveLearningRate: 0.02 });
    // Hidden kernel [192, 16]: scale 1; head: AdamW at its default, 3e-3.
    expect(table['hidden/kernel']).toMatchObject({ matrix: [192, 16], scale: 1 });
    expect(table['head/kernel']).toMatchObject({ effectiveLearningRate: 3e-3, reason: 'output layer (classifier / LM head)' });
    expect(table['tokens/embeddings']?.reason).toBe('embedding');
  });

  it('honours overrides and the label function, and refuses a vector sent to Muon', () => {
    const model = buildModel(2);
    const rows = muonWithAdamW(model, {
      overrides: [{ pattern: /head\/kernel/, to: 'muon' }],
      label: (v) => (v.layerClass === 'Conv2D' && v.shape.length === 4 ? 'adamw' : undefined),
    }).describeRouting();
    const route = (part: string) => rows.find((r) => r.variable.includes(part))?.optimizer;
    expect(route('head/kernel')).toBe('muon');
    expect(route('conv/kernel')).toBe('adamw');
    expect(() => muonWithAdamW(model, { overrides: [{ pattern: 'norm/gamma', to: 'muon' }] })).toThrow(/norm\/gamma.*shape \[16\] to Muon.*rank ≥ 2/);
  });

  it('trains with model.compile + model.fit', async () => {
    const model = trainableModel(backend, 3);
    const { xs, ys } = syntheticData(backend);
    model.compile({ optimizer: muonWithAdamW(model, { adamw: { learningRate: 0.01 } }), loss: 'categoricalCrossentropy' });
    const initial = (await (model.evaluate(xs, ys) as tf.Scalar).data())[0] as number;
    const history = await model.fit(xs, ys, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    // Near chance (ln 5 = 1.609) at the start; the classes are a function of the first token.
    expect(initial).toBeGreaterThan(1.4);
    expect(losses[losses.length - 1]).toBeLessThan(0.1 * initial);
    // Once the state exists, more training allocates no lasting tensors.
    const counted = tf.memory().numTensors;
    await model.fit(xs, ys, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
    expect(tf.memory().numTensors).toBe(counted);
  });

  it('saves with includeOptimizer, reloads in the same process, and continues bit-identically', async () => {
    const { xs, ys } = syntheticData(backend);
    const fitOptions = { epochs: 2, batchSize: 64, shuffle: false, verbose: 0 as const };
    const model = trainableModel(backend, 4);
    model.compile({ optimizer: muonWithAdamW(model, { muon: { weightDecay: 0.01, coefficients: 'polarExpress5' } }), loss: 'categoricalCrossentropy' });
    await model.fit(xs, ys, fitOptions);
    const muonRoutes = (o: MuonWithAdamWOptimizer) => baseNames(o.describeRouting().filter((r) => r.optimizer === 'muon').map((r) => r.variable));
    const routedBefore = muonRoutes(model.optimizer as MuonWithAdamWOptimizer);
    expect(routedBefore).toContain('hidden/kernel');

    const artifacts = await saveInMemory(model, { includeOptimizer: true });
    await model.fit(xs, ys, fitOptions);
    const expected = await weightValues(model);
    const originalName = model.trainableWeights[0]?.name;
    // Reloading in the same process renames every variable (`hidden/kernel` → `hidden/kernel_1`).
    // State follows the renamed copy, here once the original is gone (while it lives too:
    // inProcessReload.test.ts).
    model.dispose();
    const reloaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const optimizer = reloaded.optimizer as MuonWithAdamWOptimizer;
    expect(optimizer).toBeInstanceOf(MuonWithAdamWOptimizer);
    expect(optimizer.iterations).toBe(2);
    expect(optimizer.muonOptions).toMatchObject({ weightDecay: 0.01, coefficients: 'polarExpress5' });
    expect(reloaded.trainableWeights[0]?.name).not.toBe(originalName);
    await reloaded.fit(xs, ys, fitOptions);
    expect(await weightValues(reloaded)).toEqual(expected);
    expect(muonRoutes(optimizer)).toEqual(routedBefore);
  });
});
