import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Random } from './random.js';

/** Loss and accuracy of a model on one split. */
export interface Evaluation {
  /** Mean cross-entropy in nats (per image, or per predicted character). */
  loss: number;
  /** Fraction of correct predictions (classes, or next characters). */
  accuracy: number;
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
  evaluate(model: tfl.LayersModel, split: 'validation' | 'test'): Evaluation;
}
