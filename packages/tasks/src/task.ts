import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Random } from './random.js';

/** Loss and accuracy of a model on one split. */
export interface Evaluation {
  /** Mean cross-entropy in nats (per image, or per predicted character). */
  loss: number;
  /** Fraction of correct predictions (classes, or next characters). */
  accuracy: number;
}

/**
 * A split's summed loss and correct predictions, still on the backend's device, and how many
 * predictions they sum over: what a caller reads back, synchronously ({@link readEvaluation}) or
 * with an asynchronous `data()` that never stalls a GPU queue. The caller disposes both scalars.
 */
export interface EvaluationTotals {
  lossSum: tf.Scalar;
  correct: tf.Scalar;
  predictions: number;
}

/** Reads totals back synchronously (free on cpu and wasm) and disposes them. */
export function readEvaluation(totals: EvaluationTotals): Evaluation {
  const lossSum = totals.lossSum.dataSync()[0] as number;
  const correct = totals.correct.dataSync()[0] as number;
  tf.dispose([totals.lossSum, totals.correct]);
  return { loss: lossSum / totals.predictions, accuracy: correct / totals.predictions };
}

/** One training batch; the caller disposes both tensors. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** Description of a task's data, for results and the report. */
export interface TaskData {
  name: string;
  source: string;
  trainExamples: number;
  validationExamples: number;
  testExamples: number;
  /** What one example is ("28×28 image", "64-character window"). */
  unit: string;
}

/**
 * A model on a data set: what the runner trains. Implementations own their data; `epochBatches`
 * draws one epoch of batches from a seeded random stream, so the order is reproducible.
 */
export interface Task {
  readonly id: string;
  readonly title: string;
  readonly data: TaskData;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  readonly modelSummary: string;
  buildModel(): tfl.LayersModel;
  epochBatches(random: Random): Iterable<Batch>;
  /** Mean cross-entropy of the model's logits on a batch (a scalar; recorded by the tape). */
  loss(model: tfl.LayersModel, batch: Batch): tf.Scalar;
  /** The split's totals, computed on the device with no read-back (see {@link EvaluationTotals}). */
  evaluationTotals(model: tfl.LayersModel, split: 'validation' | 'test'): EvaluationTotals;
  /** The split's loss and accuracy, read back at once (a stall on webgl/webgpu: use `evaluationTotals` there). */
  evaluate(model: tfl.LayersModel, split: 'validation' | 'test'): Evaluation;
}
