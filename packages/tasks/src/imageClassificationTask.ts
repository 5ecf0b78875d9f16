import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset } from './data/imageDataset.js';
import { createRandom, permutation, type Random } from './random.js';
import { type Batch, type Evaluation, type EvaluationTotals, readEvaluation, type Task, type TaskData } from './task.js';

/** Example indices of a data set for each split. */
export interface ImageSplits {
  train: Uint32Array;
  validation: Uint32Array;
  test: Uint32Array;
}

/**
 * Splits one data set by a seeded permutation into test, validation and train parts (in that
 * order of the permutation). The split seed is fixed by the benchmark, not by the run seed, so
 * every run sees the same held-out and test examples.
 */
export function splitIndices(count: number, validation: number, test: number, seed: number): ImageSplits {
  if (validation + test >= count) throw new Error(`cannot hold out ${validation} + ${test} of ${count} examples`);
  const p = permutation(count, createRandom(seed));
  return { test: p.slice(0, test), validation: p.slice(test, test + validation), train: p.slice(test + validation) };
}

/** Options of {@link ImageClassificationTask}. */
export interface ImageClassificationTaskOptions {
  id: string;
  title: string;
  modelSummary: string;
  /** The data set the indices refer to; `testSet`, when given, holds the test examples instead. */
  dataset: ImageDataset;
  splits: ImageSplits;
  testSet?: ImageDataset;
  batchSize: number;
  /** Flat `[N, H·W·C]` inputs (MLP) or images `[N, H, W, C]` (ConvNet). */
  inputLayout: 'flat' | 'image';
  buildModel(): tfl.LayersModel;
  /** Use only this many training examples per epoch (a prefix of the seeded order). */
  maxTrainExamples?: number;
}

/** Classification with softmax cross-entropy on an in-memory image data set. */
export class ImageClassificationTask implements Task {
  readonly id: string;
  readonly title: string;
  readonly data: TaskData;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  readonly modelSummary: string;
  private readonly options: ImageClassificationTaskOptions;
  private readonly trainPool: Uint32Array;

  constructor(options: ImageClassificationTaskOptions) {
    this.options = options;
    this.id = options.id;
    this.title = options.title;
    this.modelSummary = options.modelSummary;
    this.batchSize = options.batchSize;
    this.trainPool = options.maxTrainExamples === undefined
      ? options.splits.train
      : options.splits.train.slice(0, options.maxTrainExamples);
    this.stepsPerEpoch = Math.floor(this.trainPool.length / options.batchSize);
    if (this.stepsPerEpoch < 1) throw new Error(`${options.id}: fewer training examples than one batch`);
    const d = options.dataset;
    this.data = {
      name: d.name,
      source: d.source,
      trainExamples: this.trainPool.length,
      validationExamples: options.splits.validation.length,
      testExamples: options.testSet?.count ?? options.splits.test.length,
      unit: `${d.height}×${d.width} image`,
    };
  }

  buildModel(): tfl.LayersModel {
    return this.options.buildModel();
  }

  *epochBatches(random: Random): Iterable<Batch> {
    const order = permutation(this.trainPool.length, random);
    for (let s = 0; s < this.stepsPerEpoch; s++) {
      const indices = order.subarray(s * this.batchSize, (s + 1) * this.batchSize);
      yield this.gather(this.options.dataset, Array.from(indices, (i) => this.trainPool[i] as number));
    }
  }

  loss(model: tfl.LayersModel, batch: Batch): tf.Scalar {
    return tf.tidy(() => {
      const logits = model.apply(batch.x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(batch.y, logits);
    });
  }

  evaluationTotals(model: tfl.LayersModel, split: 'validation' | 'test'): EvaluationTotals {
    const useTestSet = split === 'test' && this.options.testSet !== undefined;
    const dataset = useTestSet ? (this.options.testSet as ImageDataset) : this.options.dataset;
    const indices = useTestSet ? Array.from({ length: dataset.count }, (_, i) => i) : Array.from(this.options.splits[split]);
    let lossSum = tf.scalar(0);
    let correct = tf.scalar(0);
    const chunk = 1000;
    for (let start = 0; start < indices.length; start += chunk) {
      const batch = this.gather(dataset, indices.slice(start, start + chunk));
      const [nextLossSum, nextCorrect] = tf.tidy(() => {
        const logits = model.apply(batch.x, { training: false }) as tf.Tensor2D;
        const losses = tf.losses.softmaxCrossEntropy(batch.y, logits, undefined, undefined, tf.Reduction.NONE);
        const hits = tf.equal(tf.argMax(logits, 1), tf.argMax(batch.y, 1));
        return [tf.add(lossSum, tf.sum(losses)), tf.add(correct, tf.sum(tf.cast(hits, 'float32')))] as tf.Scalar[];
      });
      tf.dispose([lossSum, correct, batch.x, batch.y]);
      lossSum = nextLossSum as tf.Scalar;
      correct = nextCorrect as tf.Scalar;
    }
    return { lossSum, correct, predictions: indices.length };
  }

  evaluate(model: tfl.LayersModel, split: 'validation' | 'test'): Evaluation {
    return readEvaluation(this.evaluationTotals(model, split));
  }

  private gather(d: ImageDataset, indices: readonly number[]): Batch {
    const pixels = d.height * d.width * d.channels;
    const x = new Float32Array(indices.length * pixels);
    const y = new Float32Array(indices.length * d.classes);
    indices.forEach((index, row) => {
      x.set(d.images.subarray(index * pixels, (index + 1) * pixels), row * pixels);
      y[row * d.classes + (d.labels[index] as number)] = 1;
    });
    const shape = this.options.inputLayout === 'flat'
      ? [indices.length, pixels]
      : [indices.length, d.height, d.width, d.channels];
    return { x: tf.tensor(x, shape), y: tf.tensor2d(y, [indices.length, d.classes]) };
  }
}
