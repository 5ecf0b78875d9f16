import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from './backend.js';
import { initializeWeights } from './initializeWeights.js';
import { buildTransformer } from './models/transformer.js';

describe('initializeWeights', () => {
  beforeAll(() => setupBackend('cpu'));

  it('gives a model built later in the process (weights renamed `gamma_1`, …) the same values as the first', () => {
    const config = { vocabSize: 5, sequenceLength: 4, width: 8, heads: 2, layers: 1, mlpWidth: 16 };
    const [first, second] = [buildTransformer(config), buildTransformer(config)];
    initializeWeights(first, 3);
    initializeWeights(second, 3);
    expect(second.weights.some((w) => /_\d+$/.test(w.name))).toBe(true);
    const gains = second.weights.filter((w) => /gamma/.test(w.name));
    expect(gains.length).toBeGreaterThan(0);
    gains.forEach((w) => expect(Array.from(w.read().dataSync()).every((x) => x === 1)).toBe(true));
    first.weights.forEach((w, i) => expect(Array.from(second.weights[i]?.read().dataSync() ?? [])).toEqual(Array.from(w.read().dataSync())));
  });
});
