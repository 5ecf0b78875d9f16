// The same from CommonJS (require): an LSTM over one-hot characters, trained with the hybrid.
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const { describeFastestOrthogonalizer, installWasmTrainingKernels, muonWithAdamW } = require('muon-tfjs');

async function main() {
  await tf.setBackend('wasm');
  installWasmTrainingKernels();
  console.log(describeFastestOrthogonalizer()); // which Newton–Schulz kernel runs, and why

  // Next-character prediction on "abcd…l" repeated: 12 characters, windows of 6.
  const text = Array.from({ length: 70 }, (_, i) => i % 12);
  const windows = Array.from({ length: 64 }, (_, i) => text.slice(i, i + 6));
  const xs = tf.oneHot(tf.tensor2d(windows, [64, 6], 'int32'), 12).toFloat();
  const ys = tf.oneHot(tf.tensor1d(windows.map((w) => (w[5] + 1) % 12), 'int32'), 12).toFloat();

  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ inputShape: [6, 12], units: 16 }), // input kernel → AdamW, recurrent kernel → Muon
      tf.layers.dense({ units: 12, activation: 'softmax' }), // output head → AdamW
    ],
  });
  const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 1e-2 } });
  console.table(optimizer.describeRouting());
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const history = await model.fit(xs, ys, { epochs: 40, batchSize: 16, verbose: 0 });
  const losses = history.history.loss;
  console.log(`loss ${Number(losses[0]).toFixed(3)} → ${Number(losses.at(-1)).toFixed(3)}`);
}

main();
