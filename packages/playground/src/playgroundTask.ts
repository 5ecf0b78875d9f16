import type * as tfl from '@tensorflow/tfjs-layers';
import { CharLanguageModelTask, type CharCorpus, type ImageDataset, ImageClassificationTask, splitIndices, buildConvNet, buildMlp, buildTransformer, type Task } from 'muon-tfjs-tasks';
import type { PlaygroundState, TaskId } from './playgroundState.js';
import { toyDataset } from './toyDataset.js';

/** A benchmark task sized for the browser, with what the page needs to show it. */
export interface PlaygroundTask {
  readonly id: TaskId;
  readonly task: Task;
  /** The weight (original name, `layer/kernel`) whose spectra are shown unless the URL picks another. */
  readonly defaultLayer: string;
  /** The toy problem's points, for the decision-boundary view; absent for the other tasks. */
  readonly toy?: ImageDataset;
}

/** The data the page fetched for the task (only what the task needs). */
export interface TaskData {
  readonly mnist?: ImageDataset;
  readonly corpus?: CharCorpus;
}

/** The split seed is fixed, as in the benchmark: every run holds out the same examples. */
const SPLIT_SEED = 1234;

function need<T>(value: T | undefined, what: string, task: TaskId): T {
  if (value === undefined) throw new Error(`task '${task}' needs the ${what} data; it was not loaded`);
  return value;
}

/**
 * Builds the playground's version of a task: the benchmark's models and training tasks, smaller
 * than the benchmark's so that three optimizers step together at interactive speed on 2 cores
 * (sizes measured with `npm run bench:playground`). The MNIST MLP keeps the benchmark's batch of
 * 128: Muon's extra cost per step is fixed by the matrix sizes, so a batch of 64 made it 3.2× an
 * AdamW step, against the goal of 2×.
 */
export function createPlaygroundTask(state: PlaygroundState, data: TaskData): PlaygroundTask {
  const { task } = state;
  if (task === 'toy') {
    const toy = toyDataset(state.dataset, 1200, state.seed);
    const model = (): tfl.LayersModel => buildMlp({ inputSize: 2, hidden: [32, 32], classes: 2 });
    return {
      id: task,
      toy,
      defaultLayer: 'hidden2/kernel',
      task: new ImageClassificationTask({
        id: 'toy', title: `2-D ${state.dataset}`, modelSummary: 'MLP 2-32-32-2, ReLU',
        dataset: toy, splits: splitIndices(toy.count, 200, 200, SPLIT_SEED), batchSize: 32, inputLayout: 'flat', buildModel: model,
      }),
    };
  }
  if (task === 'mlp' || task === 'convnet') {
    const mnist = need(data.mnist, 'MNIST', task);
    const splits = splitIndices(mnist.count, 500, 500, SPLIT_SEED);
    return task === 'mlp'
      ? {
        id: task,
        defaultLayer: 'hidden2/kernel',
        task: new ImageClassificationTask({
          id: 'mlp', title: 'MNIST MLP', modelSummary: 'MLP 784-128-64-10, ReLU', dataset: mnist, splits, batchSize: 128, inputLayout: 'flat',
          buildModel: () => buildMlp({ inputSize: 784, hidden: [128, 64], classes: 10 }),
        }),
      }
      : {
        id: task,
        defaultLayer: 'conv2/kernel',
        task: new ImageClassificationTask({
          id: 'convnet', title: 'MNIST ConvNet', modelSummary: 'conv 8 → pool → conv 16 → pool → dense 32 → 10', dataset: mnist, splits, batchSize: 32, inputLayout: 'image',
          buildModel: () => buildConvNet({ height: 28, width: 28, channels: 1, filters: [8, 16], dense: 32, classes: 10 }),
        }),
      };
  }
  const corpus = need(data.corpus, 'Moby Dick', task);
  const sequenceLength = 32;
  return {
    id: task,
    defaultLayer: 'block1_mlp_in/kernel',
    task: new CharLanguageModelTask({
      id: 'transformer', title: 'Moby Dick characters', modelSummary: 'transformer, 2 blocks × 64, 4 heads, context 32',
      corpus, sequenceLength, batchSize: 16, stepsPerEpoch: 1000, evaluationWindows: 64,
      buildModel: () => buildTransformer({ vocabSize: corpus.vocab.length, sequenceLength, width: 64, heads: 4, layers: 2, mlpWidth: 256 }),
    }),
  };
}
