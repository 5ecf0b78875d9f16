/**
 * muon-tfjs/layers: tfjs-layers layers that go with the optimizers. A separate entry point
 * because it needs `@tensorflow/tfjs-layers` (an optional peer dependency): the main entry works
 * without it, for custom training loops over plain tfjs-core variables.
 */
export { CausalSelfAttention, type CausalSelfAttentionArgs } from './layers/CausalSelfAttention.js';
