// README example: plain Muon on a weight matrix in a custom training loop, with a schedule.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// Registers every op's gradient (as the @tensorflow/tfjs umbrella package does).
import '@tensorflow/tfjs-layers';
import { muon } from 'muon-tfjs';

export async function fitLinearMap(steps = 100): Promise<{ first: number; last: number }> {
  await tf.setBackend('wasm');
  const x = tf.randomNormal([256, 32], 0, 1, 'float32', 1);
  const y = tf.matMul(x, tf.randomNormal([32, 16], 0, 1, 'float32', 2));
  const w = tf.variable(tf.zeros([32, 16]), true, 'w');
  const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(tf.matMul(x, w), y)));

  const optimizer = muon({ learningRate: 0.3, coefficients: 'polarExpress5' });
  let first = NaN;
  let last = NaN;
  for (let step = 0; step < steps; step++) {
    optimizer.learningRate = 0.3 * (1 - step / steps) + 1e-4; // linear decay, read at every step
    const cost = optimizer.minimize(loss, true, [w]) as tf.Scalar; // returnCost: true → the loss
    last = (await cost.data())[0] as number;
    if (step === 0) first = last;
    cost.dispose();
  }
  return { first, last };
}
