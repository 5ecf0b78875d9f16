import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { layerSpectrum } from './layerSpectrum.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The float64 reference: singular values of the [fanIn, fanOut] view by ml-matrix's SVD, normalized. */
function svdReference(values: Float32Array, fanIn: number, fanOut: number): number[] {
  const m = new Matrix(fanIn, fanOut);
  for (let i = 0; i < fanIn; i++) for (let j = 0; j < fanOut; j++) m.set(i, j, values[i * fanOut + j] as number);
  const sigma = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true }).diagonal;
  const norm = Math.sqrt(sigma.reduce((s, x) => s + x * x, 0));
  return sigma.map((x) => x / norm).sort((a, b) => b - a);
}

describe('layerSpectrum', () => {
  // Square, tall, wide and a conv kernel (viewed as [3·3·4, 8] = [36, 8]).
  it.each([
    [[16, 16]],
    [[40, 12]],
    [[12, 40]],
    [[3, 3, 4, 8]],
  ])('matches a float64 SVD on a seeded %j tensor', (shape) => {
    const t = tf.randomNormal(shape, 0, 1, 'float32', 7);
    const fanOut = shape[shape.length - 1] as number;
    const fanIn = t.size / fanOut;
    const expected = svdReference(t.dataSync() as Float32Array, fanIn, fanOut);
    const s = layerSpectrum(t);
    expect(s.singularValues.length).toBe(Math.min(fanIn, fanOut));
    // Through the Gram matrix an absolute error of about ε_64·σ₁²/σ (≈ 1e-14 here, with σ ≥ 0.01 for
    // these well-conditioned Gaussian matrices): 1e-10 leaves a wide margin, and catches any mix-up.
    s.singularValues.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 10));
    const r = expected.length;
    expect(s.quantiles.q10).toBe(s.singularValues[Math.ceil(0.1 * r) - 1]);
    expect(s.quantiles.q90).toBe(s.singularValues[Math.ceil(0.9 * r) - 1]);
    expect(s.stableRank).toBeCloseTo(1 / (expected[0] as number) ** 2, 8);
    expect(s.topEnergy * s.stableRank).toBeCloseTo(1, 12);
    t.dispose();
  });

  it('gives equal singular values for an orthogonal matrix and one for a rank-one matrix (hand-derived)', () => {
    // I₄/‖I₄‖_F has four singular values 1/2; u vᵀ has one, 1, after normalization.
    const eye = layerSpectrum(tf.eye(4));
    eye.singularValues.forEach((v) => expect(v).toBeCloseTo(0.5, 12));
    expect(eye.stableRank).toBeCloseTo(4, 10);
    const rankOne = layerSpectrum(tf.outerProduct(tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 5])));
    expect(rankOne.singularValues[0]).toBeCloseTo(1, 12);
    expect(rankOne.singularValues[1]).toBeCloseTo(0, 6);
    expect(rankOne.topEnergy).toBeCloseTo(1, 12);
  });

  it('refuses a vector, naming its shape', () => {
    expect(() => layerSpectrum(tf.zeros([5]))).toThrow(/\[5\]/);
  });
});
