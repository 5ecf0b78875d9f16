import * as tf from '@tensorflow/tfjs-core';
import type { Scheduled } from 'muon-tfjs';
import { initializeWeights, createRandom, deriveSeed, type Evaluation, type Task } from 'muon-tfjs-tasks';
import type { OptimizerSpec } from '../protocol/optimizers.js';

/** What one training run measured. */
export interface RunRecord {
  seed: number;
  learningRate: Scheduled;
  /** Training loss of every step (the batch's mean cross-entropy, before the update). */
  losses: number[];
  /**
   * Seconds spent in training steps up to the end of every step (cumulative `trainSeconds`: the
   * batch's upload, forward, backward and optimizer step; batch assembly and evaluation excluded).
   */
  times: number[];
  /** Seconds spent in `optimizer.applyGradients` (the optimizer step), summed over steps. */
  optimizerSeconds: number;
  /** Seconds spent in training steps (batch, forward, backward, optimizer), summed. */
  trainSeconds: number;
  /** True when the loss became NaN/Inf; training stopped there. */
  diverged: boolean;
  evaluation: Evaluation;
}

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  task: Task;
  optimizer: OptimizerSpec;
  /** The optimizer's learning rate: a number or a schedule over this run's steps. */
  learningRate: Scheduled;
  /** The AdamW group's rate in a hybrid. */
  auxLearningRate: Scheduled;
  /** Values of the spec's other tuned hyper-parameters (Sophia's ρ). */
  tuned?: Readonly<Record<string, number>>;
  seed: number;
  /** Stop after this many steps (epochs × steps per epoch for a full run). */
  steps: number;
  /** Split evaluated at the end. */
  evaluateOn: 'validation' | 'test';
  onStep?: (step: number, loss: number) => void;
}

/**
 * Trains one freshly initialized model with one optimizer and returns per-step losses and
 * times. The initial weights depend only on the seed (the same for every optimizer), the batch
 * order only on the seed, so two runs with the same seed and backend give the same numbers.
 *
 * The loop is the one `model.fit` runs, written out so that the optimizer step can be timed
 * on its own: loss and gradients by `tf.variableGrads`, then `optimizer.applyGradients`.
 * On wasm every kernel runs synchronously, so the timings measure the work, not its queueing.
 */
export function trainRun(options: TrainRunOptions): RunRecord {
  const { task, optimizer: spec, learningRate, seed, steps } = options;
  const model = task.buildModel();
  initializeWeights(model, deriveSeed(seed, 'init'));
  const optimizer = spec.create(learningRate, { model, auxLearningRate: options.auxLearningRate, ...(options.tuned && { tuned: options.tuned }) });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const order = createRandom(deriveSeed(seed, 'batches'));
  const losses: number[] = [];
  const times: number[] = [];
  let optimizerSeconds = 0;
  let trainSeconds = 0;
  let diverged = false;
  try {
    training: while (losses.length < steps) {
      for (const batch of task.epochBatches(order)) {
        const t0 = performance.now();
        const { value, grads } = tf.variableGrads(() => task.loss(model, batch), variables);
        const loss = value.dataSync()[0] as number;
        value.dispose();
        if (!Number.isFinite(loss)) {
          tf.dispose([grads, batch.x, batch.y]);
          diverged = true;
          break training;
        }
        const t1 = performance.now();
        optimizer.applyGradients(grads);
        spec.afterStep?.({ optimizer, model, batch });
        const t2 = performance.now();
        tf.dispose([grads, batch.x, batch.y]);
        optimizerSeconds += (t2 - t1) / 1000;
        trainSeconds += (t2 - t0) / 1000;
        losses.push(loss);
        times.push(trainSeconds);
        options.onStep?.(losses.length, loss);
        if (losses.length >= steps) break training;
      }
    }
    const evaluation = diverged ? { loss: Number.POSITIVE_INFINITY, accuracy: 0 } : task.evaluate(model, options.evaluateOn);
    return { seed, learningRate, losses, times, optimizerSeconds, trainSeconds, diverged, evaluation };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
