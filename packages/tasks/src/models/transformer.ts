import * as tfl from '@tensorflow/tfjs-layers';
import { CausalSelfAttention } from 'muon-tfjs/layers';
import { LayerNorm } from '../layers/layerNorm.js';
import { OneHotEmbedding } from '../layers/oneHotEmbedding.js';
import { PositionEmbedding } from '../layers/positionEmbedding.js';

/** Sizes of {@link buildTransformer}. */
export interface TransformerConfig {
  vocabSize: number;
  sequenceLength: number;
  width: number;
  heads: number;
  layers: number;
  /** Width of the feed-forward hidden layer (usually 4 × width). */
  mlpWidth: number;
}

/** The default character model: width 128, 4 heads, 2 blocks, context 64 (≈ 0.42 M parameters). */
export const TRANSFORMER_DEFAULT: Omit<TransformerConfig, 'vocabSize'> = {
  sequenceLength: 64,
  width: 128,
  heads: 4,
  layers: 2,
  mlpWidth: 512,
};

/**
 * A small decoder-only (GPT-style, pre-LayerNorm) transformer returning next-token logits
 * `[batch, time, vocab]` for token ids `[batch, time]`.
 *
 * Per block: x + attn(LN(x)), then x + W2·gelu(W1·LN(x)). Attention layers are named
 * `block<i>_attention`; find them with `model.getLayer(...)` to read per-head logits
 * ({@link CausalSelfAttention.attentionLogits}) or to apply QK-clip (`qkClipTarget()`).
 * Token and position embeddings, LayerNorm gains/biases and the `lm_head` go to AdamW in the
 * hybrid; attention and feed-forward kernels are Muon's matrices.
 */
export function buildTransformer(config: TransformerConfig): tfl.LayersModel {
  const { vocabSize, sequenceLength, width, heads, layers, mlpWidth } = config;
  const ids = tfl.input({ shape: [sequenceLength], name: 'tokens' });
  let x = new OneHotEmbedding({ inputDim: vocabSize, outputDim: width, name: 'token_embedding' }).apply(ids) as tfl.SymbolicTensor;
  x = new PositionEmbedding({ sequenceLength, width, name: 'position_embedding' }).apply(x) as tfl.SymbolicTensor;
  for (let i = 1; i <= layers; i++) {
    const n1 = new LayerNorm({ name: `block${i}_ln1` }).apply(x) as tfl.SymbolicTensor;
    const attended = new CausalSelfAttention({ numHeads: heads, name: `block${i}_attention` }).apply(n1) as tfl.SymbolicTensor;
    x = tfl.layers.add({ name: `block${i}_residual1` }).apply([x, attended]) as tfl.SymbolicTensor;
    const n2 = new LayerNorm({ name: `block${i}_ln2` }).apply(x) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: mlpWidth, activation: 'gelu', name: `block${i}_mlp_in` }).apply(n2) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: width, name: `block${i}_mlp_out` }).apply(hidden) as tfl.SymbolicTensor;
    x = tfl.layers.add({ name: `block${i}_residual2` }).apply([x, out]) as tfl.SymbolicTensor;
  }
  x = new LayerNorm({ name: 'final_ln' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: vocabSize, name: 'lm_head' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: ids, outputs: logits, name: 'transformer' });
}
