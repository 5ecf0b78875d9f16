import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { initializeWeights } from './initializeWeights.js';
import { buildTransformer } from './models/transformer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('initializeWeights', () => {
  it('gives a second model built in the same process the same start as the first (gains 1, not 0)', () => {
    const config = { vocabSize: 11, sequenceLength: 8, width: 16, heads: 2, layers: 1, mlpWidth: 32 };
    const [first, second] = [buildTransformer(config), buildTransformer(config)];
    initializeWeights(first, 7);
    initializeWeights(second, 7);
    // tfjs-layers suffixes the second model's variable names (`block1_ln1/gamma_1`).
    expect(second.weights.some((w) => /_\d+$/.test(w.name))).toBe(true);
    const values = (m: typeof first): number[][] => m.weights.map((w) => Array.from(w.read().dataSync()));
    expect(values(second)).toEqual(values(first));
    const gamma = second.weights.find((w) => w.name.startsWith('block1_ln1/gamma'));
    expect(Array.from(gamma?.read().dataSync() ?? [])).toEqual(new Array(16).fill(1));
    first.dispose();
    second.dispose();
  });
});
