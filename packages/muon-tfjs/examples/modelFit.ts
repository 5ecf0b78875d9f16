// Muon for the hidden layers, AdamW for the rest, through model.compile / model.fit.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmTrainingKernels, muonWithAdamW } from 'muon-tfjs';

await tf.setBackend('wasm'); // the fastest backend in Node (XNNPACK, SIMD)
installWasmTrainingKernels(); // gradient kernels tfjs-backend-wasm 4.22 lacks (Conv, Embedding)

// Synthetic data: 3 classes decided by random linear scores of 20 features.
const xs = tf.randomNormal([512, 20], 0, 1, 'float32', 1);
const ys = tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([20, 3], 0, 1, 'float32', 2)), 1), 3);

const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [20], units: 64, activation: 'relu' }), // hidden → Muon
    tf.layers.dense({ units: 64, activation: 'relu' }), // hidden → Muon
    tf.layers.dense({ units: 3, activation: 'softmax' }), // output head → AdamW
  ],
});
const optimizer = muonWithAdamW(model, {
  muon: { learningRate: 0.02, weightDecay: 0.01 },
  adamw: { learningRate: 3e-3, weightDecay: 0.01 },
});
console.table(optimizer.describeRouting()); // where each variable goes, and why
model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const history = await model.fit(xs, ys, { epochs: 5, batchSize: 64, verbose: 0 });
const losses = history.history['loss'] as number[];
console.log(`loss ${losses[0]?.toFixed(3)} → ${losses.at(-1)?.toFixed(3)}`);
