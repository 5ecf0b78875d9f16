// Muon on a mixture of experts held as one weight [E, in, out]: a matrixViews rule makes each
// expert's [in, out] matrix its own orthogonalization (without it, muon() refuses a rank-3 weight).
import * as tf from '@tensorflow/tfjs';
import { muon } from 'muon-tfjs';

const experts = 4;
const x = tf.randomNormal([experts, 256, 32], 0, 1, 'float32', 1); // the tokens routed to each expert
const y = tf.matMul(x, tf.randomNormal([experts, 32, 16], 0, 1, 'float32', 2));
const w = tf.variable(tf.zeros([experts, 32, 16]), true, 'moe/experts');
const loss = (): tf.Scalar => tf.mean(tf.square(tf.sub(tf.matMul(x, w), y)));

const optimizer = muon({
  learningRate: 0.3,
  coefficients: 'polarExpress5',
  matrixViews: [{ name: 'moe/experts', reductionAxes: [1], outputAxes: [2] }], // E matrices [in, out]
});
const steps = 100;
const losses: number[] = [];
for (let step = 0; step < steps; step++) {
  optimizer.learningRate = 0.3 * (1 - step / steps) + 1e-4;
  const cost = optimizer.minimize(loss, true, [w]) as tf.Scalar;
  losses.push((await cost.data())[0] as number);
  cost.dispose();
}
console.log(`loss ${losses[0]?.toFixed(3)} → ${losses.at(-1)?.toExponential(2)}`);
