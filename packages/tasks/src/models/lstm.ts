import * as tfl from '@tensorflow/tfjs-layers';
import { OneHotEmbedding } from '../layers/oneHotEmbedding.js';

/** Sizes of {@link buildLstm}. */
export interface LstmConfig {
  vocabSize: number;
  sequenceLength: number;
  /** Width of the character embedding. */
  embedding: number;
  /** LSTM units. */
  units: number;
}

/** The default character LSTM: embedding 64, 128 units, context 32 (0.11 M parameters with Moby Dick's 83-character vocabulary: 5,312 + 32,768 + 65,536 + 512 + 10,707). */
export const LSTM_DEFAULT: Omit<LstmConfig, 'vocabSize'> = { sequenceLength: 32, embedding: 64, units: 128 };

/**
 * A one-layer character LSTM returning next-token logits `[batch, time, vocab]` for token ids
 * `[batch, time]`: a model of the kind nobody tuned Muon for, where the hybrid's routing and its
 * AdamW half decide the result (issue 25 item 3: with the AdamW half at 3e-4 the hybrid lost to
 * AdamW on such a model). The hybrid routes the embedding, the head, the biases and the LSTM's
 * kernels as `describeRouting()` reports (the recurrent kernel is a hidden matrix; the input
 * kernel reads the embedding).
 */
export function buildLstm(config: LstmConfig): tfl.LayersModel {
  const { vocabSize, sequenceLength, embedding, units } = config;
  const ids = tfl.input({ shape: [sequenceLength], name: 'tokens' });
  const x = new OneHotEmbedding({ inputDim: vocabSize, outputDim: embedding, name: 'token_embedding' }).apply(ids) as tfl.SymbolicTensor;
  // Glorot, not tfjs's default orthogonal recurrent initializer, which fails on tfjs 4.22's QR
  // ("rMat.flatten is not a function"); the tools re-initialize every weight from their seed anyway.
  const h = tfl.layers.lstm({ units, returnSequences: true, recurrentInitializer: 'glorotUniform', name: 'lstm' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: vocabSize, name: 'lm_head' }).apply(h) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: logits, name: 'char_lstm' });
}
