// Watching Muon's Newton–Schulz input and output with taps, and constraining weights with an
// after-step hook, in a custom loop.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MUON_TAPS, muon } from 'muon-tfjs';

await tf.setBackend('wasm');
const x = tf.randomNormal([256, 32], 0, 1, 'float32', 1);
const y = tf.matMul(x, tf.randomNormal([32, 16], 0, 0.1, 'float32', 2));
const w = tf.variable(tf.zeros([32, 16]), true, 'tapped');
const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(tf.matMul(x, w), y)));
const optimizer = muon({ learningRate: 0.05 });

// Every 25 steps: the Frobenius norm of what Newton–Schulz receives (the Nesterov look-ahead) and
// the largest entry of what it returns. Values are valid during the call only: read them there.
optimizer.tap(MUON_TAPS.newtonSchulzInput, ({ step, variable, value }) => {
  console.log(`step ${step} ${variable}: ‖NS input‖_F = ${tf.norm(value).dataSync()[0]?.toExponential(2)}`);
}, { every: 25 });
optimizer.tap(MUON_TAPS.newtonSchulzOutput, ({ step, value }) => {
  console.log(`step ${step}: max |NS output| = ${tf.max(tf.abs(value)).dataSync()[0]?.toFixed(3)}`);
}, { every: 25 });
// After every step, keep each weight in [-0.5, 0.5]; the hook's changes apply together or not at all.
optimizer.addAfterStepHook('clipWeights', ({ variables, assign }) => {
  for (const variable of Object.values(variables)) assign(variable, tf.clipByValue(variable, -0.5, 0.5));
});

const losses: number[] = [];
for (let step = 0; step < 100; step++) {
  optimizer.learningRate = 0.05 * (1 - step / 100) + 1e-4;
  const cost = optimizer.minimize(loss, true, [w]) as tf.Scalar;
  losses.push((await cost.data())[0] as number);
  cost.dispose();
}
console.log(`loss ${losses[0]?.toFixed(4)} → ${losses.at(-1)?.toExponential(2)}`);
