// README example: SophiaG in a custom loop, its Gauss–Newton–Bartlett Hessian estimate every
// k = 10 steps, and a warm-up + cosine learning-rate schedule read at the optimizer's step index.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import { SOPHIA_TAPS, cosine, provideHessianEstimate, sophia } from 'muon-tfjs';

export async function trainWithSophia(steps = 60): Promise<{ first: number; last: number; unclipped: number[] }> {
  await tf.setBackend('wasm');
  const xs = tf.randomNormal([256, 20], 0, 1, 'float32', 1);
  const labels = tf.argMax(tf.matMul(xs, tf.randomNormal([20, 4], 0, 1, 'float32', 2)), 1);
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [20], units: 32, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
      tfl.layers.dense({ units: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }) }), // logits
    ],
  });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const loss = (): tf.Scalar => tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 4), model.predict(xs) as tf.Tensor) as tf.Scalar;

  // ρ = 1 at this scale (the reference's 0.05 is for GPT-2): tune it so that 10–50 % of the
  // entries are unclipped, which the tap reports.
  const optimizer = sophia({ learningRate: cosine({ peak: 0.01, steps, warmupSteps: 5 }), rho: 1, weightDecay: 0.1 });
  const unclipped: number[] = [];
  optimizer.tap(SOPHIA_TAPS.unclippedFraction, ({ value }) => unclipped.push(value.dataSync()[0] as number), { every: 10 });
  let first = NaN;
  let last = NaN;
  for (let step = 0; step < steps; step++) {
    const cost = optimizer.minimize(loss, true, variables) as tf.Scalar;
    last = (await cost.data())[0] as number;
    if (step === 0) first = last;
    cost.dispose();
    // After every 10th step: labels sampled from the model's own logits, B·ĝ⊙ĝ, for the next step.
    if (optimizer.iterations % 10 === 0) provideHessianEstimate(optimizer, model, xs, { outputs: 'logits', seed: step });
  }
  return { first, last, unclipped };
}
