/**
 * The browser half of adapter/webglTraining.test.ts (WebGL exists only in a browser): bundled and
 * run in headless Chromium on SwiftShader. `globalThis.runWebglTraining` trains one small
 * tfjs-layers model with `muonWithAdamW` on webgl, counting the backend's synchronous reads in
 * steps 3..N, trains it again on cpu for reference, and has AdamW refuse a NaN step on webgl.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import * as tfl from '@tensorflow/tfjs-layers';
import { adamw } from '../adapter/AdamWOptimizer.js';
import { muonWithAdamW } from '../adapter/MuonWithAdamWOptimizer.js';

export const TRAINING_STEPS = 8;

export interface WebglTrainingResult {
  readonly backend: string;
  /** Synchronous reads (`readSync`) on webgl in steps 3..TRAINING_STEPS. */
  readonly syncReadsAfterStep2: number;
  readonly losses: number[];
  readonly webglWeights: number[][];
  readonly cpuWeights: number[][];
  readonly refusal: { readonly name: string; readonly message: string; readonly step: number; readonly weightsUnchanged: boolean; readonly iterations: number };
}

const read = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data());

async function train(backend: 'webgl' | 'cpu'): Promise<{ weights: number[][]; losses: number[]; reads: number }> {
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
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
  const kernelBackend = tf.backend();
  const readSync = kernelBackend.readSync;
  let counting = false;
  let reads = 0;
  kernelBackend.readSync = function (this: tf.KernelBackend, ...args: Parameters<tf.KernelBackend['readSync']>) {
    if (counting) reads += 1;
    return readSync.apply(this, args);
  };
  const losses: tf.Scalar[] = [];
  try {
    for (let step = 1; step <= TRAINING_STEPS; step++) {
      counting = step >= 3;
      losses.push(optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs) as tf.Tensor) as tf.Scalar, true) as tf.Scalar);
    }
    counting = false;
    await optimizer.whenChecked();
  } finally {
    kernelBackend.readSync = readSync;
  }
  const result = { weights: await Promise.all(model.getWeights().map(read)), losses: await Promise.all(losses.map(async (l) => (await read(l))[0] as number)), reads };
  tf.dispose([xs, ys, ...losses]);
  optimizer.dispose();
  model.dispose();
  return result;
}

async function refuseNaNStep(): Promise<WebglTrainingResult['refusal']> {
  await tf.setBackend('webgl');
  const w = tf.variable(tf.ones([3, 2]), true, 'webgl_refused');
  const optimizer = adamw({ learningRate: 0.1 });
  optimizer.applyGradients({ [w.name]: tf.fill([3, 2], Number.NaN) });
  try {
    await optimizer.whenChecked();
    throw new Error('the NaN step was accepted');
  } catch (error) {
    const refused = error as Error & { step?: number };
    const weightsUnchanged = (await read(w)).every((x) => x === 1);
    const refusal = { name: refused.name, message: refused.message, step: refused.step ?? -1, weightsUnchanged, iterations: optimizer.iterations };
    optimizer.dispose();
    w.dispose();
    return refusal;
  }
}

async function runWebglTraining(): Promise<WebglTrainingResult> {
  // Full float32 textures: the comparison with cpu is of float32 round-off, not of half floats.
  tf.env().set('WEBGL_FORCE_F16_TEXTURES', false);
  const webgl = await train('webgl');
  const backend = tf.getBackend();
  const refusal = await refuseNaNStep();
  const cpu = await train('cpu');
  return { backend, syncReadsAfterStep2: webgl.reads, losses: webgl.losses, webglWeights: webgl.weights, cpuWeights: cpu.weights, refusal };
}

(globalThis as unknown as { runWebglTraining: typeof runWebglTraining }).runWebglTraining = runWebglTraining;
