import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { CharCorpus } from './data/charCorpus.js';
import type { Random } from './random.js';
import { type Batch, type Evaluation, type EvaluationTotals, readEvaluation, type Task, type TaskData } from './task.js';

/** Options of {@link CharLanguageModelTask}. */
export interface CharLanguageModelTaskOptions {
  id: string;
  title: string;
  modelSummary: string;
  corpus: CharCorpus;
  sequenceLength: number;
  batchSize: number;
  /** A text "epoch" is this many steps of randomly placed windows from the training split. */
  stepsPerEpoch: number;
  /** Evaluate on at most this many non-overlapping windows of a held-out split. */
  evaluationWindows: number;
  buildModel(): tfl.LayersModel;
}

/** Next-character prediction with windows of a character corpus (mean cross-entropy per character). */
export class CharLanguageModelTask implements Task {
  readonly id: string;
  readonly title: string;
  readonly data: TaskData;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  readonly modelSummary: string;
  private readonly options: CharLanguageModelTaskOptions;

  constructor(options: CharLanguageModelTaskOptions) {
    this.options = options;
    this.id = options.id;
    this.title = options.title;
    this.modelSummary = options.modelSummary;
    this.batchSize = options.batchSize;
    this.stepsPerEpoch = options.stepsPerEpoch;
    const c = options.corpus;
    const windows = (n: number): number => Math.min(options.evaluationWindows, Math.floor((n - 1) / options.sequenceLength));
    this.data = {
      name: c.name,
      source: c.source,
      trainExamples: options.stepsPerEpoch * options.batchSize,
      validationExamples: windows(c.validation.length),
      testExamples: windows(c.test.length),
      unit: `${options.sequenceLength}-character window (train: ${c.train.length} characters, vocabulary ${c.vocab.length})`,
    };
  }

  buildModel(): tfl.LayersModel {
    return this.options.buildModel();
  }

  *epochBatches(random: Random): Iterable<Batch> {
    const { corpus, sequenceLength: t, batchSize } = this.options;
    const maxStart = corpus.train.length - t - 1;
    for (let s = 0; s < this.stepsPerEpoch; s++) {
      const starts = Array.from({ length: batchSize }, () => random.int(maxStart + 1));
      yield this.windows(corpus.train, starts);
    }
  }

  loss(model: tfl.LayersModel, batch: Batch): tf.Scalar {
    return tf.tidy(() => this.crossEntropy(model.apply(batch.x, { training: true }) as tf.Tensor3D, batch.y, true) as tf.Scalar);
  }

  evaluationTotals(model: tfl.LayersModel, split: 'validation' | 'test'): EvaluationTotals {
    const { corpus, sequenceLength: t } = this.options;
    const text = corpus[split];
    const count = split === 'validation' ? this.data.validationExamples : this.data.testExamples;
    let lossSum = tf.scalar(0);
    let correct = tf.scalar(0);
    const chunk = 64;
    for (let start = 0; start < count; start += chunk) {
      const starts = Array.from({ length: Math.min(chunk, count - start) }, (_, i) => (start + i) * t);
      const batch = this.windows(text, starts);
      const [nextLossSum, nextCorrect] = tf.tidy(() => {
        const logits = model.apply(batch.x, { training: false }) as tf.Tensor3D;
        const losses = this.crossEntropy(logits, batch.y, false);
        const hits = tf.equal(tf.argMax(tf.reshape(logits, [-1, corpus.vocab.length]), 1), tf.reshape(batch.y, [-1]));
        return [tf.add(lossSum, tf.sum(losses)), tf.add(correct, tf.sum(tf.cast(hits, 'float32')))] as tf.Scalar[];
      });
      tf.dispose([lossSum, correct, batch.x, batch.y]);
      lossSum = nextLossSum as tf.Scalar;
      correct = nextCorrect as tf.Scalar;
    }
    return { lossSum, correct, predictions: count * t };
  }

  evaluate(model: tfl.LayersModel, split: 'validation' | 'test'): Evaluation {
    return readEvaluation(this.evaluationTotals(model, split));
  }

  /** Windows of length t+1 starting at `starts`: inputs are the first t, targets the last t. */
  private windows(text: Uint8Array, starts: readonly number[]): Batch {
    const t = this.options.sequenceLength;
    const x = new Int32Array(starts.length * t);
    const y = new Int32Array(starts.length * t);
    starts.forEach((start, row) => {
      for (let i = 0; i < t; i++) {
        x[row * t + i] = text[start + i] as number;
        y[row * t + i] = text[start + i + 1] as number;
      }
    });
    return { x: tf.tensor2d(x, [starts.length, t], 'int32'), y: tf.tensor2d(y, [starts.length, t], 'int32') };
  }

  private crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor, mean: boolean): tf.Tensor {
    const v = this.options.corpus.vocab.length;
    const flat = tf.reshape(logits, [-1, v]);
    const labels = tf.oneHot(tf.reshape(targets, [-1]), v);
    return tf.losses.softmaxCrossEntropy(labels, flat, undefined, undefined, mean ? tf.Reduction.MEAN : tf.Reduction.NONE);
  }
}
