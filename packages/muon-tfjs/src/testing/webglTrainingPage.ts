/**
 * The browser half of adapter/webglTraining.test.ts (WebGL exists only in a browser): bundled and
 * run in headless Chromium on SwiftShader. `globalThis.runWebglTraining` trains one small
 * tfjs-layers model with `muonWithAdamW` on webgl, counting the backend's synchronous reads in
 * steps 3..N, trains it again on cpu for reference, and has AdamW refuse a NaN step on webgl.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { adamw } from '../adapter/optimizers.js';
import { trainSmallClassifier } from './smallClassifierRun.js';

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

async function use(backend: 'webgl' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
}

async function runWebglTraining(): Promise<WebglTrainingResult> {
  // Full float32 textures: the comparison with cpu is of float32 round-off, not of half floats.
  tf.env().set('WEBGL_FORCE_F16_TEXTURES', false);
  await use('webgl');
  const webgl = await trainSmallClassifier(TRAINING_STEPS);
  const backend = tf.getBackend();
  const refusal = await refuseNaNStep();
  await use('cpu');
  const cpu = await trainSmallClassifier(TRAINING_STEPS);
  return { backend, syncReadsAfterStep2: webgl.syncReadsAfterStep2, losses: webgl.losses, webglWeights: webgl.weights, cpuWeights: cpu.weights, refusal };
}

(globalThis as unknown as { runWebglTraining: typeof runWebglTraining }).runWebglTraining = runWebglTraining;
