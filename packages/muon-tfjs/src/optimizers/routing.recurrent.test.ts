// The README's package set: the @tensorflow/tfjs umbrella (it registers the chained tensor methods
// that tfjs-layers' Orthogonal initializer, the default of every recurrent kernel, calls) and the
// wasm backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { muonWithAdamW } from '../adapter/MuonWithAdamWOptimizer.js';
import { installWasmTrainingKernels } from '../backends/wasmTrainingKernels.js';
import { defaultRoute } from './routing.js';

const L = tf.layers;
const VOCAB = 12;
const UNITS = 16;
const TIME = 6;

/** A char-RNN: one-hot characters → recurrent layer → softmax head over the next character. */
function charModel(recurrent: tf.layers.Layer): tf.Sequential {
  return tf.sequential({ layers: [L.inputLayer({ inputShape: [TIME, VOCAB] }), recurrent, L.dense({ units: VOCAB, activation: 'softmax' })] });
}

/** The routing rows of the recurrent layer (not the head), by the weight's own name. */
const routes = (model: tf.LayersModel) =>
  Object.fromEntries(
    muonWithAdamW(model)
      .describeRouting()
      .filter((r) => !r.variable.startsWith('dense'))
      .map((r) => [r.variable.replace(/^.*\//, ''), r]),
  );

describe('defaultRoute for recurrent layers', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    installWasmTrainingKernels();
  });

  it('LSTM: input kernel → AdamW (an embedding table on one-hot tokens), recurrent kernel → Muon with its 4 fused gates named', () => {
    const r = routes(charModel(L.lstm({ units: UNITS })));
    expect(r['kernel']).toMatchObject({ optimizer: 'adamw', shape: [VOCAB, 4 * UNITS], scale: 1 });
    expect(r['kernel']?.reason).toBe(
      `input kernel of a recurrent layer: on one-hot tokens an embedding table in effect (override to Muon when its inputs are hidden features); its 4 gates are fused in one [${VOCAB}, ${4 * UNITS}] matrix`,
    );
    // 'original' shape scale of the fused [16, 64] matrix: √(64/16) = 2.
    expect(r['recurrent_kernel']).toMatchObject({ optimizer: 'muon', matrix: [UNITS, 4 * UNITS], scale: 2 });
    expect(r['recurrent_kernel']?.reason).toBe(`recurrent kernel: hidden state to hidden state; its 4 gates are fused in one [${UNITS}, ${4 * UNITS}] matrix, orthogonalized together`);
    expect(r['bias']?.optimizer).toBe('adamw');
  });

  it('GRU (3 gates), SimpleRNN (one gate: nothing fused), Bidirectional LSTM and ConvLSTM2D', () => {
    const gru = routes(charModel(L.gru({ units: UNITS })));
    expect(gru['kernel']?.reason).toMatch(/; its 3 gates are fused in one \[12, 48\] matrix$/);
    expect(gru['recurrent_kernel']?.reason).toMatch(/; its 3 gates are fused in one \[16, 48\] matrix, orthogonalized together$/);
    const simple = routes(charModel(L.simpleRNN({ units: UNITS })));
    expect(simple['kernel']?.optimizer).toBe('adamw');
    expect(simple['kernel']?.reason).not.toMatch(/gates/);
    expect(simple['recurrent_kernel']).toMatchObject({ optimizer: 'muon', reason: 'recurrent kernel: hidden state to hidden state' });
    const bidirectional = muonWithAdamW(charModel(L.bidirectional({ layer: L.lstm({ units: UNITS }) as tf.RNN }))).describeRouting();
    const wrapped = bidirectional.filter((row) => /_lstm_/.test(row.variable) && row.shape.length === 2);
    expect(wrapped.map((row) => [row.variable.replace(/^.*\//, ''), row.optimizer])).toEqual([
      ['kernel', 'adamw'],
      ['recurrent_kernel', 'muon'],
      ['kernel', 'adamw'],
      ['recurrent_kernel', 'muon'],
    ]);
    // ConvLSTM2D's recurrent kernel [3, 3, f, 4f]: the matrix [9f, 4f], 4 gates.
    expect(defaultRoute({ name: 'conv_lst_m2d_ConvLSTM2D1/recurrent_kernel', shape: [3, 3, 2, 8], layerClass: 'ConvLSTM2D' }).reason).toBe(
      'recurrent kernel: hidden state to hidden state; its 4 gates are fused in one [18, 8] matrix, orthogonalized together',
    );
  });

  it('Dense kernels keep their routes, and an override sends an input kernel to Muon', () => {
    expect(defaultRoute({ name: 'dense_Dense1/kernel', shape: [8, 8], layerClass: 'Dense' })).toEqual({ route: 'muon', reason: 'hidden matrix' });
    const model = charModel(L.lstm({ units: UNITS }));
    const rows = muonWithAdamW(model, { overrides: [{ pattern: /lstm_LSTM\d+\/kernel$/, to: 'muon' }] }).describeRouting();
    expect(rows.filter((row) => row.optimizer === 'muon').map((row) => row.variable.replace(/^.*\//, ''))).toEqual(['kernel', 'recurrent_kernel']);
  });

  it('a char-LSTM trains with muonWithAdamW on wasm: next-character loss falls from ln 12', async () => {
    // A periodic text "abcdefghijkl…": each next character is a function of the last, learnable.
    const ids = Array.from({ length: 64 + TIME }, (_, i) => i % VOCAB);
    const windows = Array.from({ length: 64 }, (_, i) => ids.slice(i, i + TIME));
    const xs = tf.oneHot(tf.tensor2d(windows, [64, TIME], 'int32'), VOCAB).toFloat();
    const ys = tf.oneHot(tf.tensor1d(windows.map((w) => ((w.at(-1) as number) + 1) % VOCAB), 'int32'), VOCAB).toFloat();
    const model = charModel(L.lstm({ units: UNITS, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }) }));
    const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 1e-2 } });
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const history = await model.fit(xs, ys, { epochs: 40, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = history.history['loss'] as number[];
    // Chance is ln 12 = 2.48; the map is deterministic, so the loss can approach 0.
    expect(losses[0]).toBeGreaterThan(2);
    expect(losses.at(-1)).toBeLessThan(0.1); // measured 0.0017
    tf.dispose([xs, ys]);
  });
});
