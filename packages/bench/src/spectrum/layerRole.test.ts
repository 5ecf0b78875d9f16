import { describe, expect, it } from 'vitest';
import { blockPositions, layerRole } from './layerRole.js';

describe('layerRole', () => {
  it('names the transformer matrices and nothing else', () => {
    expect(layerRole('block3_attention/query')).toEqual({ type: 'Q', block: 3 });
    expect(layerRole('block1_attention/output')).toEqual({ type: 'O', block: 1 });
    expect(layerRole('block12_mlp_in/kernel')).toEqual({ type: 'MLP-up', block: 12 });
    expect(layerRole('block2_mlp_out/kernel')).toEqual({ type: 'MLP-down', block: 2 });
    // tfjs-layers suffixes the variable names of a second model built with the same layer names.
    expect(layerRole('block2_attention/value_3')).toEqual({ type: 'V', block: 2 });
    for (const other of ['block2_mlp_out/bias', 'lm_head/kernel', 'token_embedding/embeddings', 'block1_ln1/gamma']) {
      expect(layerRole(other)).toBeUndefined();
    }
  });

  it('places blocks: first, middle (depth ≥ 3 only), final', () => {
    expect(blockPositions(1, 1)).toEqual(['first', 'final']);
    expect([1, 2].map((b) => blockPositions(b, 2))).toEqual([['first'], ['final']]);
    expect([1, 2, 3, 4].map((b) => blockPositions(b, 4))).toEqual([['first'], ['middle'], [], ['final']]);
  });
});
