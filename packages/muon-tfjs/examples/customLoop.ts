// Plain Muon on a weight matrix in a custom training loop, with a learning-rate schedule.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { muon } from 'muon-tfjs';

await tf.setBackend('wasm');
const x = tf.randomNormal([256, 32], 0, 1, 'float32', 1);
const y = tf.matMul(x, tf.randomNormal([32, 16], 0, 1, 'float32', 2));
const w = tf.variable(tf.zeros([32, 16]), true, 'w');
const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(tf.matMul(x, w), y)));

const optimizer = muon({ learningRate: 0.3, coefficients: 'polarExpress5' });
const steps = 100;
const losses: number[] = [];
for (let step = 0; step < steps; step++) {
  optimizer.learningRate = 0.3 * (1 - step / steps) + 1e-4; // linear decay, read at every step
  const cost = optimizer.minimize(loss, true, [w]) as tf.Scalar; // returnCost: true → the loss
  losses.push((await cost.data())[0] as number);
  cost.dispose();
}
console.log(`loss ${losses[0]?.toFixed(3)} → ${losses.at(-1)?.toExponential(2)}`);
