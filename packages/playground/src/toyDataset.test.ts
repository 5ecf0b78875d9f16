import { describe, expect, it } from 'vitest';
import { toyDataset, toyToPlane } from './toyDataset.js';

describe('toyDataset', () => {
  it('is seeded and balanced', () => {
    for (const kind of ['spirals', 'circles', 'xor'] as const) {
      const a = toyDataset(kind, 400, 3);
      expect(a.images).toEqual(toyDataset(kind, 400, 3).images);
      const ones = a.labels.reduce((s, l) => s + l, 0);
      // Spirals and circles alternate labels exactly; XOR quadrants are drawn uniformly (±5 σ of a binomial).
      expect(Math.abs(ones - 200)).toBeLessThanOrEqual(kind === 'xor' ? 50 : 0);
    }
  });

  it('puts the circles classes at the radii it promises (up to the noise)', () => {
    const d = toyDataset('circles', 400, 1);
    for (let i = 0; i < d.count; i++) {
      const r = Math.hypot(toyToPlane(d.images[2 * i] as number), toyToPlane(d.images[2 * i + 1] as number));
      // Noise σ = 0.04 per axis: 5 σ · √2 ≈ 0.29 covers every point of 400.
      if (d.labels[i] === 0) expect(r).toBeLessThan(0.4 + 0.29);
      else expect(r).toBeGreaterThan(0.6 - 0.29);
    }
  });
});
