import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { muonWithAdamW } from '../adapter/MuonWithAdamWOptimizer.js';

/** What {@link trainSmallClassifier} leaves: the final weights, each step's loss, and the synchronous reads counted. */
export interface SmallClassifierRun {
  readonly weights: number[][];
  readonly losses: number[];
  /** The backend's `readSync` calls (where `dataSync`, `arraySync` and `bufferSync` land) in steps 3..N. */
  readonly syncReadsAfterStep2: number;
}

/**
 * The GPU suites' reference run (webgpu in Node, webgl in Chromium): a seeded 8-16-16-3 MLP
 * trained `steps` steps by `muonWithAdamW` on the current backend with `minimize`, counting the
 * backend's synchronous reads from step 3 on, read back asynchronously at the end.
 */
export async function trainSmallClassifier(steps: number): Promise<SmallClassifierRun> {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [8], units: 16, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
      tfl.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
      tfl.layers.dense({ units: 3, kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
  const xs = tf.randomNormal([32, 8], 0, 1, 'float32', 11);
  const ys = tf.oneHot(tf.argMax(tf.matMul(xs, tf.randomNormal([8, 3], 0, 1, 'float32', 12)), 1), 3);
  const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 3e-3 } });
  const backend = tf.backend();
  const readSync = backend.readSync;
  let counting = false;
  let reads = 0;
  backend.readSync = function (this: tf.KernelBackend, ...args: Parameters<tf.KernelBackend['readSync']>) {
    if (counting) reads += 1;
    return readSync.apply(this, args);
  };
  const losses: tf.Scalar[] = [];
  try {
    for (let step = 1; step <= steps; step++) {
      counting = step >= 3;
      losses.push(optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs) as tf.Tensor) as tf.Scalar, true) as tf.Scalar);
    }
    counting = false;
    await optimizer.whenChecked();
  } finally {
    backend.readSync = readSync;
  }
  const read = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data());
  const result = { weights: await Promise.all(model.getWeights().map(read)), losses: await Promise.all(losses.map(async (l) => (await read(l))[0] as number)), syncReadsAfterStep2: reads };
  tf.dispose([xs, ys, ...losses]);
  optimizer.dispose();
  model.dispose();
  return result;
}
