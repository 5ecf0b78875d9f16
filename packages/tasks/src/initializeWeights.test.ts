import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { initializeWeights } from './initializeWeights.js';
import { buildTransformer } from './models/transformer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('initializeWeights', () => {
  it('gives every copy of a model the same weights, LayerNorm gains 1, whatever tfjs-layers renames', () => {
    const config = { vocabSize: 5, sequenceLength: 4, width: 8, heads: 2, layers: 1, mlpWidth: 16 };
    const [a, b] = [buildTransformer(config), buildTransformer(config)];
    initializeWeights(a, 3);
    initializeWeights(b, 3);
    // The second copy's variables carry suffixes (`gamma_1`); its values must not.
    expect(b.weights.some((w) => w.name !== w.originalName)).toBe(true);
    const values = (m: typeof a): number[][] => m.getWeights().map((w) => Array.from(w.dataSync()));
    expect(values(b)).toEqual(values(a));
    const gains = b.weights.filter((w) => /gamma$/.test(w.originalName));
    expect(gains.length).toBe(3);
    for (const g of gains) expect(Array.from(g.read().dataSync())).toEqual(new Array<number>(8).fill(1));
    a.dispose();
    b.dispose();
  });
});
