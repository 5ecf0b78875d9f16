import { describe, expect, it } from 'vitest';
import { fitLinearMap } from './customLoop.js';
import { trainClassifier } from './modelFit.js';
import { trainWithSophia } from './sophiaCustomLoop.js';
import { trainThreeWayHybrid } from './threeWayHybrid.js';

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

  it('a custom loop with Sophia, its Hessian estimate every 10 steps and a cosine schedule, learns the classes', async () => {
    const { first, last, unclipped } = await trainWithSophia(60);
    // Four classes: ln 4 = 1.39 at chance.
    expect(last).toBeLessThan(0.5 * first);
    expect(unclipped).toHaveLength(6 * 4); // steps 1, 11, …, 51; two kernels and two biases
    expect(unclipped.every((f) => f >= 0 && f <= 1)).toBe(true);
  });

  it('a three-way hybrid trains, saves, reloads and resumes bit-identically', async () => {
    const { routing, lossBefore, lossAfter, resumedExactly, reloadedLabels } = await trainThreeWayHybrid();
    const byLabel = (label: string) => routing.filter((r) => r.label === label).map((r) => `${r.optimizer} ${r.shape.join('x')}`);
    expect(byLabel('hidden_matrices')).toEqual(['muon 32x32', 'muon 32x32']);
    expect(byLabel('embedding_table')).toEqual(['lion 16x8']);
    expect(byLabel('everything_else')).toEqual(['adamw 32', 'adamw 32', 'adamw 32x4', 'adamw 4']);
    // Four classes: ln 4 = 1.39 at chance; the class is a function of the first token.
    expect(lossBefore).toBeGreaterThan(1.2);
    expect(lossAfter).toBeLessThan(0.2 * lossBefore);
    expect(resumedExactly).toBe(true);
    // Labels survive tfjs-layers' camel-casing of saved configs.
    expect(reloadedLabels).toEqual(['hidden_matrices', 'embedding_table', 'everything_else']);
  });
});
