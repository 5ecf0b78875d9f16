// Training on a GPU in Node: WebGPU through Dawn's `webgpu` package (Linux with a Vulkan driver).
import * as tf from '@tensorflow/tfjs';
import { muonWithAdamW } from 'muon-tfjs';
import { create, globals } from 'webgpu';

// Give TF.js's WebGPU backend the `navigator.gpu` that browsers have, then load and pick it.
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
await import('@tensorflow/tfjs-backend-webgpu');
await tf.setBackend('webgpu');

const xs = tf.randomNormal([512, 20], 0, 1, 'float32', 1);
const ys = tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([20, 3], 0, 1, 'float32', 2)), 1), 3);
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [20], units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 64, activation: 'relu' }),
    tf.layers.dense({ units: 3, activation: 'softmax' }),
  ],
});
// The all-or-nothing check runs on the GPU: no read-back in a step. A refused (NaN) step is
// thrown by a later step, or here by whenChecked().
const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 3e-3 } });
model.compile({ optimizer, loss: 'categoricalCrossentropy' });
const history = await model.fit(xs, ys, { epochs: 5, batchSize: 64, verbose: 0 });
await optimizer.whenChecked();
const losses = history.history['loss'] as number[];
// Read with data(): dataSync() needs a canvas, which Node lacks.
console.log(`loss ${losses[0]?.toFixed(3)} → ${losses.at(-1)?.toFixed(3)}`);
