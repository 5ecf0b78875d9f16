import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../benchmark/runs/backend.js';
import { formatQkClipSummary, qkClipPlots, runQkClipDemo, type QkClipDemoResult } from './qkClipDemo.js';
import { createTask, type TaskScale } from 'muon-tfjs-tasks/catalog';

/** A one-block width-32 transformer, a few steps. */
const TINY: TaskScale = {
  textStepsPerEpoch: 6,
  textEvaluationWindows: 8,
  transformer: { sequenceLength: 16, width: 32, heads: 2, layers: 1, mlpWidth: 64 },
  textBatchSize: 4,
};

describe('the QK-clip demonstration on a tiny transformer (cpu)', () => {
  let result: QkClipDemoResult;

  beforeAll(async () => {
    await setupBackend('cpu');
    // τ well below the logits a high Muon lr reaches within a few steps, so that the clip acts.
    result = runQkClipDemo({ task: createTask('transformer', TINY), threshold: 2, steps: 6, learningRate: 0.2, auxLearningRate: 3e-3, seed: 1 });
  });

  it('runs both from the same start: the first step (before any update) sees the same logits and loss', () => {
    const [without, clipped] = result.runs;
    expect(without.maxLogits).toHaveLength(6);
    expect(clipped.maxLogits).toHaveLength(6);
    expect(clipped.maxLogits[0]).toBe(without.maxLogits[0]);
    expect(clipped.losses[0]).toBe(without.losses[0]);
  });

  it('clips only in the QK-clip run, and keeps its logits nearer τ', () => {
    const [without, clipped] = result.runs;
    expect(without.clippedSteps).toBe(0);
    expect(Math.max(...without.maxLogits)).toBeGreaterThan(result.threshold);
    expect(clipped.clippedSteps).toBeGreaterThan(0);
    expect(Math.max(...clipped.maxLogits.slice(1))).toBeLessThan(Math.max(...without.maxLogits.slice(1)));
  });

  it('writes a summary and two plots', async () => {
    expect(formatQkClipSummary(result)).toMatch(/\| Muon, QK-clip τ=2 \|/);
    const plots = await qkClipPlots(result);
    expect(plots.maxLogit).toMatch(/^<svg/);
    expect(plots.loss).toMatch(/τ=2/);
  });
});
