import { describe, expect, it } from 'vitest';
import { stat } from '../protocol/stats.js';
import type { ModelResult, OptimizerResult } from '../results/results.js';
import { verdictSentence } from './verdict.js';

/** Per-seed values of one optimizer, made by hand; `steps` null: that seed never reached the target. */
interface Seeds {
  steps: (number | null)[];
  seconds?: (number | null)[];
  testLoss?: number[];
  testAccuracy?: number[];
  finalTrainLoss?: number[];
}

/** An optimizer's result with the summary the scoring would compute from these seeds. */
function optimizer(kind: 'muon' | 'adamw', seeds: Seeds): OptimizerResult {
  const n = seeds.steps.length;
  const fill = (values: number[] | undefined, value: number): number[] => values ?? Array<number>(n).fill(value);
  const seconds = seeds.seconds ?? seeds.steps.map((s) => (s === null ? null : s * 0.05));
  const testLoss = fill(seeds.testLoss, 0.3);
  const testAccuracy = fill(seeds.testAccuracy, 0.9);
  const finalTrainLoss = fill(seeds.finalTrainLoss, 0.2);
  const reached = seeds.steps.flatMap((s) => (s === null ? [] : [s]));
  return {
    kind, label: kind === 'muon' ? 'Muon (+AdamW)' : 'AdamW', hyperParameters: {}, searches: [], learningRate: 0.01, tuned: {}, auxLearningRate: null,
    runs: seeds.steps.map((s, i) => ({
      seed: i + 1, finalTrainLoss: finalTrainLoss[i] as number, testLoss: testLoss[i] as number, testAccuracy: testAccuracy[i] as number,
      stepsToTarget: s, secondsToTarget: seconds[i] ?? null, wallSeconds: 10, optimizerSeconds: 1, optimizerShare: 0.1, diverged: false, losses: [], times: [],
    })),
    summary: {
      finalTrainLoss: stat(finalTrainLoss), testLoss: stat(testLoss), testAccuracy: stat(testAccuracy),
      stepsToTarget: stat(reached), secondsToTarget: stat(seconds.flatMap((s) => (s === null ? [] : [s]))), reachedTarget: reached.length,
      wallSeconds: stat(Array<number>(n).fill(10)), optimizerShare: stat(Array<number>(n).fill(0.1)),
    },
  };
}

function model(muon: Seeds, adamw: Seeds): ModelResult {
  return {
    id: 'mlp', title: 'MLP on MNIST', modelSummary: 'MLP', parameters: 1, data: { name: 'MNIST', source: 'hand-made', trainExamples: 1, validationExamples: 1, testExamples: 1, unit: 'image' },
    batchSize: 128, stepsPerEpoch: 54, epochs: 3, steps: 162, tuneSteps: 41, schedule: { shape: 'linearDecay', warmupFraction: 0 }, scheduleDescription: 'linear decay',
    targetLoss: 0.2, targetRule: "AdamW's mean final training loss", muonToAdamwStepRatio: null, muonToAdamwTimeRatio: null,
    optimizers: [optimizer('muon', muon), optimizer('adamw', adamw)],
  };
}

describe('the verdict sentence: "fewer steps" only beyond seed noise, and where Muon loses', () => {
  it('says fewer steps when the t-test puts the gap beyond seed noise (p < 0.05), with the numbers', () => {
    // Means 100 and 150, both std 2 (n = 3): t = −50/(2·√(2/3)) ≈ −30.6, far beyond noise.
    const sentence = verdictSentence(model({ steps: [98, 100, 102] }, { steps: [148, 150, 152] })) as string;
    expect(sentence).toMatch(/^MLP on MNIST \(162 steps, 3 seeds\): Muon reached AdamW's final training loss \(0\.2000\) in fewer steps than AdamW \(100 ± 2 vs 150 ± 2 steps, 0\.67×; beyond seed noise: p < 0\.001, two-sample t-test/);
    // Nothing is worse for Muon here: every other column is equal.
    expect(sentence).toContain('it is behind AdamW in none of seconds to that loss, test loss, test accuracy and final training loss.');
    expect(sentence.match(/\. /g)).toBeNull();
  });

  it('does not say fewer steps when the gap is within seed noise', () => {
    // Means 115 and 120, stds 15 and 20: t ≈ −0.35, p ≈ 0.75.
    const sentence = verdictSentence(model({ steps: [100, 115, 130] }, { steps: [100, 120, 140] })) as string;
    expect(sentence).not.toContain('fewer steps');
    expect(sentence).toMatch(/Muon and AdamW reached AdamW's final training loss \(0\.2000\) in the same steps within seed noise \(115 ± 15 vs 120 ± 20 steps, 0\.96×; p = 0\.7\d/);
  });

  it('says more steps when Muon needs more beyond noise', () => {
    expect(verdictSentence(model({ steps: [150, 152, 154] }, { steps: [100, 101, 102] }))).toContain('Muon needed more steps than AdamW');
  });

  it('calls no difference on one seed: there is no spread to compare the gap with', () => {
    const sentence = verdictSentence(model({ steps: [60] }, { steps: [150] })) as string;
    expect(sentence).toContain('(162 steps, 1 seed)');
    expect(sentence).toContain('but one seed gives no noise estimate, so no difference is called (run --seeds 3)');
    expect(sentence).not.toContain('fewer steps');
    expect(sentence).not.toContain('±');
  });

  it('does not say fewer steps when a seed of Muon never reached the target', () => {
    const sentence = verdictSentence(model({ steps: [98, 100, null] }, { steps: [148, 150, 152] })) as string;
    expect(sentence).not.toContain('fewer steps');
    expect(sentence).toContain('but in only 2 of its 3 seeds');
    expect(verdictSentence(model({ steps: [97, null, null] }, { steps: [60, 70, 83] }))).toContain(
      "Muon reached AdamW's final training loss (0.2000) in 97 vs 71 ± 12 steps, 1.37×, but only 1 of Muon's and 3 of AdamW's 3 seeds reached it, too few for a noise estimate, so no difference is called;");
    expect(verdictSentence(model({ steps: [null, null, null] }, { steps: [148, 150, 152] }))).toContain("Muon did not reach AdamW's final training loss (0.2000) within the 162 steps in any of its 3 seeds");
  });

  it('names where Muon loses: beyond noise, and within noise, each with its numbers', () => {
    const sentence = verdictSentence(model(
      // Fewer steps, but each costs more (seconds), a higher test loss beyond noise and a test accuracy lower within noise.
      { steps: [98, 100, 102], seconds: [9.8, 10, 10.2], testLoss: [0.40, 0.41, 0.42], testAccuracy: [0.89, 0.90, 0.91] },
      { steps: [148, 150, 152], seconds: [7.4, 7.5, 7.6], testLoss: [0.30, 0.31, 0.32], testAccuracy: [0.90, 0.905, 0.91] },
    )) as string;
    expect(sentence).toContain('in fewer steps than AdamW');
    expect(sentence).toContain('; it loses to AdamW beyond seed noise in seconds to that loss (10.0 ± 0.2 s vs 7.5 ± 0.1 s, p < 0.001) and test loss (0.4100 ± 0.0100 vs 0.3100 ± 0.0100, p < 0.001), ' +
      'and it is behind within seed noise in test accuracy (90.00 ± 1.00 % vs 90.50 ± 0.50 %, p = 0.48).');
    // Timed while the load was above the cores: the seconds say so.
    expect(verdictSentence(model({ steps: [98, 100, 102], seconds: [9.8, 10, 10.2] }, { steps: [148, 150, 152], seconds: [7.4, 7.5, 7.6] }), true))
      .toContain('it loses to AdamW beyond seed noise in seconds to that loss (10.0 ± 0.2 s vs 7.5 ± 0.1 s, p < 0.001, timed on a busy machine).');
    expect(verdictSentence(model({ steps: [null], testLoss: [0.5], finalTrainLoss: [0.4] }, { steps: [150] }))).toBe(
      "MLP on MNIST (162 steps, 1 seed): Muon did not reach AdamW's final training loss (0.2000) within the 162 steps of its one seed; " +
      'it is behind AdamW, with no noise estimate, in test loss (0.5000 vs 0.3000) and final training loss (0.4000 vs 0.2000).');
  });

  it('is null without both Muon and AdamW', () => {
    const m = model({ steps: [1, 2] }, { steps: [1, 2] });
    expect(verdictSentence({ ...m, optimizers: m.optimizers.filter((o) => o.kind === 'muon') })).toBeNull();
  });
});
