/**
 * muon-tfjs-tasks: the models, tasks and data sets that the benchmark (`muon-tfjs-bench`) and the
 * playground (`muon-tfjs-playground`) both train. This entry runs in browsers: it holds the task
 * contract, the two task kinds, the models and their layers, the seeded random stream and the
 * weight initialization, and the in-memory data shapes. Loading data from disk is Node-only and
 * lives in `muon-tfjs-tasks/datasets`; the benchmark's tasks by id in `muon-tfjs-tasks/catalog`.
 */
export { readEvaluation, type Batch, type Evaluation, type EvaluationTotals, type Task, type TaskData } from './task.js';
export { ImageClassificationTask, splitIndices, type ImageClassificationTaskOptions, type ImageSplits } from './imageClassificationTask.js';
export { CharLanguageModelTask, type CharLanguageModelTaskOptions } from './charLanguageModelTask.js';
export { buildMlp, MLP_DEFAULT, MLP_WIDE, type MlpConfig } from './models/mlp.js';
export { buildConvNet, CONVNET_DEFAULT, type ConvNetConfig } from './models/convNet.js';
export { buildTransformer, TRANSFORMER_DEFAULT, type TransformerConfig } from './models/transformer.js';
export { buildLstm, LSTM_DEFAULT, type LstmConfig } from './models/lstm.js';
export { LayerNorm } from './layers/layerNorm.js';
export { OneHotEmbedding, type OneHotEmbeddingArgs } from './layers/oneHotEmbedding.js';
export { PositionEmbedding, type PositionEmbeddingArgs } from './layers/positionEmbedding.js';
export { createRandom, deriveSeed, permutation, type Random } from './random.js';
export { initializeWeights } from './initializeWeights.js';
export { checkImageDataset, type ImageDataset } from './data/imageDataset.js';
export { charCorpusFromText, encodeCharacters, type CharCorpus } from './data/charCorpus.js';
