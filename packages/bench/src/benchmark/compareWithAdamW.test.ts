import { describe, expect, it } from 'vitest';
import { compareWithAdamW } from './compareWithAdamW.js';
import type { BenchResults } from './results.js';

/** A run of 10 steps (smoothing window 1: the final loss is the last one) taking `secondsPerStep` each. */
const run = (seed: number, losses: number[], secondsPerStep: number): Record<string, unknown> => ({
  seed, losses, times: losses.map((_, i) => (i + 1) * secondsPerStep), testAccuracy: 0.8, optimizerShare: 0.1,
});

const optimizer = (kind: string, runs: Record<string, unknown>[]): Record<string, unknown> => ({
  kind, label: kind, learningRate: 0.1, auxLearningRate: null, searches: [{ parameter: 'learningRate', capped: kind === 'capped' }], runs,
});

/** Only the fields compareWithAdamW reads: one model of 10 steps, seeds 1 and 2, tuned at ¼. */
const results = (optimizers: Record<string, unknown>[], steps = 10): BenchResults => ({
  config: { seeds: [1, 2], tuneFraction: 0.25 },
  models: [{ id: 'convnet', steps, optimizers }],
}) as unknown as BenchResults;

// AdamW ends both seeds at 0.38: the target. Seed 1 first gets below it at step 9, seed 2 at step 8
// (values at the target itself are avoided: the running-sum smoothing may round them above it).
const ADAMW = optimizer('adamw', [
  run(1, [1, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.37, 0.38], 1),
  run(2, [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.36, 0.38, 0.38], 1),
]);
// The variant gets below 0.38 at steps 4 and 5, at 2 s a step.
const VARIANT = optimizer('muon-rule', [
  run(1, [1, 0.6, 0.5, 0.37, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3], 2),
  run(2, [1, 0.7, 0.5, 0.4, 0.37, 0.3, 0.3, 0.3, 0.3, 0.3], 2),
]);

describe('compareWithAdamW', () => {
  it("measures every optimizer of every results file to AdamW's mean final loss (hand-worked)", () => {
    const table = compareWithAdamW([results([ADAMW]), results([VARIANT])], 'convnet', { 'adamw': 100, 'muon-rule': 120 });
    expect(table.targetLoss).toBeCloseTo(0.38, 15);
    const [adamw, variant] = table.rows;
    expect(adamw).toMatchObject({ kind: 'adamw', reached: 2, seeds: 2, stepRatio: 1, timeRatio: 1, costTimeRatio: 1 });
    expect(adamw?.stepsToTarget.mean).toBe(8.5);
    expect(variant).toMatchObject({ kind: 'muon-rule', reached: 2 });
    expect(variant?.stepsToTarget.mean).toBe(4.5);
    expect(variant?.secondsToTarget.mean).toBe(9); // steps 4 and 5 at 2 s
    expect(variant?.stepRatio).toBeCloseTo(4.5 / 8.5, 15);
    expect(variant?.timeRatio).toBeCloseTo(9 / 8.5, 15);
    expect(variant?.costTimeRatio).toBeCloseTo((4.5 * 120) / (8.5 * 100), 15);
    expect(variant?.finalTrainLoss.mean).toBeCloseTo(0.3, 15);
  });

  it('takes the ratios over the seeds that reached the target, none without such a seed, and flags a capped search', () => {
    // Seed 1 never gets below 0.38; seed 2 does at step 2: the mean over reaching seeds is 2.
    const partly = optimizer('capped', [run(1, Array(10).fill(0.5), 1), run(2, [1, 0.3, ...Array(8).fill(0.3)], 1)]);
    const never = optimizer('never', [run(1, Array(10).fill(0.5), 1), run(2, Array(10).fill(0.5), 1)]);
    const [, row, none] = compareWithAdamW([results([ADAMW, partly, never])], 'convnet').rows;
    expect(row).toMatchObject({ reached: 1, seeds: 2, capped: true });
    expect(row?.stepRatio).toBeCloseTo(2 / 8.5, 15);
    expect(none).toMatchObject({ reached: 0, stepRatio: null, timeRatio: null, costTimeRatio: null, capped: false });
  });

  it('refuses results that are not like for like, or without exactly one AdamW', () => {
    expect(() => compareWithAdamW([results([ADAMW]), results([VARIANT], 20)], 'convnet')).toThrow(/results 1 ran 20 steps, seeds \[1, 2\], tuning fraction 0.25; results 0 ran 10/);
    expect(() => compareWithAdamW([results([ADAMW]), results([ADAMW])], 'convnet')).toThrow(/expected AdamW in exactly one of the results, found it in 2/);
    expect(() => compareWithAdamW([results([VARIANT])], 'mlp')).toThrow(/results 0 have no model 'mlp' \(they have convnet\)/);
  });
});
