// The umbrella package, as the README recommends: tfjs-layers' Orthogonal initializer (LSTM, GRU)
// needs the chained tensor methods that only @tensorflow/tfjs registers.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { muonWithAdamW } from '../adapter/MuonWithAdamWOptimizer.js';
import { installWasmTrainingKernels } from './wasmTrainingKernels.js';

/**
 * Every trainable tfjs-layers layer type trains with the hybrid on the wasm backend, with
 * `installWasmTrainingKernels()`: the gradients of a loss through the layer agree with the cpu
 * backend's for the same weights and batch, then `model.fit` with `muonWithAdamW` lowers the loss.
 *
 * Tolerance: max |g_wasm − g_cpu| ≤ 1e-5 · max |g_cpu| per variable. Both backends compute in
 * float32 and differ only in summation order (XNNPACK's blocked sums and our float64 JavaScript
 * loops against tfjs-backend-cpu's), which moves a sum of n float32 terms by at most about
 * n·2⁻²⁴ ≈ n·6e-8 of its terms' magnitude; the sums here have at most ~100 terms (the Dense head
 * over a flattened 5×5×4 map), and the recurrent layers carry round-off through 4 time steps.
 * Measured: at most 7.2e-7 (a bias of the strided Conv2D and of SimpleRNN's head). A missing or
 * wrong kernel gives an error or an O(1) difference.
 */
const L = tf.layers;
interface LayerCase {
  readonly layer: () => tf.layers.Layer;
  readonly inputShape: number[];
  /** Integer inputs in [0, 10) (token ids) instead of normal ones. */
  readonly ids?: boolean;
}
const seed = 7;
const init = { kernelInitializer: tf.initializers.glorotUniform({ seed }) };
const CASES: Record<string, LayerCase> = {
  Dense: { layer: () => L.dense({ units: 6, ...init }), inputShape: [4, 5] },
  Conv1D: { layer: () => L.conv1d({ filters: 4, kernelSize: 3, ...init }), inputShape: [7, 3] },
  'Conv1D (stride 2, same)': { layer: () => L.conv1d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', ...init }), inputShape: [7, 3] },
  Conv2D: { layer: () => L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', ...init }), inputShape: [5, 5, 2] },
  'Conv2D (stride 2, valid)': { layer: () => L.conv2d({ filters: 4, kernelSize: 3, strides: 2, ...init }), inputShape: [6, 6, 2] },
  Conv2DTranspose: { layer: () => L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', ...init }), inputShape: [3, 3, 2] },
  DepthwiseConv2D: {
    layer: () => L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', depthwiseInitializer: tf.initializers.glorotUniform({ seed }) }),
    inputShape: [5, 5, 3],
  },
  SeparableConv2D: {
    layer: () =>
      L.separableConv2d({
        filters: 4,
        kernelSize: 3,
        depthwiseInitializer: tf.initializers.glorotUniform({ seed }),
        pointwiseInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    inputShape: [5, 5, 2],
  },
  Embedding: { layer: () => L.embedding({ inputDim: 10, outputDim: 4, embeddingsInitializer: tf.initializers.randomNormal({ seed }) }), inputShape: [6], ids: true },
  LSTM: { layer: () => L.lstm({ units: 5, returnSequences: true, ...init, recurrentInitializer: tf.initializers.orthogonal({ seed }) }), inputShape: [4, 3] },
  GRU: { layer: () => L.gru({ units: 5, returnSequences: true, ...init, recurrentInitializer: tf.initializers.orthogonal({ seed }) }), inputShape: [4, 3] },
  SimpleRNN: { layer: () => L.simpleRNN({ units: 5, returnSequences: true, ...init, recurrentInitializer: tf.initializers.orthogonal({ seed }) }), inputShape: [4, 3] },
  BatchNormalization: { layer: () => L.batchNormalization({}), inputShape: [4, 3] },
  LayerNormalization: { layer: () => L.layerNormalization({}), inputShape: [4, 3] },
};

/** The layer under test, then Flatten and a Dense head: the layer is hidden, as in a real model. */
function build(c: LayerCase): tf.LayersModel {
  return tf.sequential({ layers: [L.inputLayer({ inputShape: c.inputShape }), c.layer(), L.flatten(), L.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }) })] });
}

function batch(c: LayerCase): { x: tf.Tensor; y: tf.Tensor } {
  const shape = [8, ...c.inputShape];
  const x = c.ids === true ? tf.floor(tf.randomUniform(shape, 0, 10, 'float32', 3)) : tf.randomNormal(shape, 0, 1, 'float32', 3);
  return { x, y: tf.randomNormal([8, 3], 0, 1, 'float32', 4) };
}

/** d(mean squared error)/d(every trainable weight) on the current backend, by variable name. */
function gradients(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor): Map<string, Float32Array> {
  const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
  const out = new Map(Object.entries(grads).map(([name, g]) => [name, g.dataSync() as Float32Array]));
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

describe('every trainable tfjs-layers layer trains with muonWithAdamW on wasm (installWasmTrainingKernels)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    installWasmTrainingKernels();
  });

  for (const [name, c] of Object.entries(CASES)) {
    it(name, async () => {
      await tf.setBackend('cpu');
      const model = build(c);
      const { x, y } = batch(c);
      const cpu = gradients(model, x, y);
      await tf.setBackend('wasm');
      const wasm = gradients(model, x, y);
      expect([...wasm.keys()].sort()).toEqual([...cpu.keys()].sort());
      for (const [variable, expected] of cpu) {
        const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const diff = (wasm.get(variable) as Float32Array).reduce((m, v, i) => Math.max(m, Math.abs(v - (expected[i] as number))), 0);
        expect(scale, `${variable}: zero gradient on cpu`).toBeGreaterThan(0);
        expect(diff, variable).toBeLessThanOrEqual(1e-5 * scale);
      }

      const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 1e-2 } });
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const history = await model.fit(x, y, { epochs: 15, batchSize: 8, verbose: 0 });
      const losses = history.history['loss'] as number[];
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[losses.length - 1]).toBeLessThan(0.8 * (losses[0] as number));
      tf.dispose([x, y]);
      model.dispose();
    });
  }
});
