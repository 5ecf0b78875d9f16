import { describe, expect, it } from 'vitest';
import { fitLinearMap } from './customLoop.js';
import { trainClassifier } from './modelFit.js';

// The README's examples, run as they are printed there.
describe('README examples', () => {
  it('model.fit with muonWithAdamW learns the classes', async () => {
    const losses = await trainClassifier(8);
    // Three classes: ln 3 = 1.10 at chance.
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * (losses[0] as number));
  });

  it('a custom loop with muon() fits the linear map', async () => {
    const { first, last } = await fitLinearMap(100);
    expect(last).toBeLessThan(1e-2 * first);
  });
});
