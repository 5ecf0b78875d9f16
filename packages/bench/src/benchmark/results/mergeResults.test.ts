import { describe, expect, it } from 'vitest';
import { mergeResults } from './mergeResults.js';
import type { BenchResults, OptimizerResult } from './results.js';
import { scoreAgainstTarget, type MeasuredOptimizer } from './scoreAgainstTarget.js';

/** A measured optimizer with one seed: per-step losses, 0.5 s per step, chosen lr `lr`. */
function optimizer(kind: string, losses: number[], lr: number, auxLearningRate: number | null = null): MeasuredOptimizer {
  const times = losses.map((_, i) => 0.5 * (i + 1));
  const finalTrainLoss = losses.at(-1) as number; // runs of < 20 steps: smoothing window 1
  return {
    kind, label: kind, hyperParameters: {}, learningRate: lr, tuned: {}, auxLearningRate,
    searches: [{ parameter: 'learningRate', points: [{ value: lr, validationLoss: 1, diverged: false, extension: false }], chosen: lr, extensions: 0, capped: false, fixed: {} }],
    runs: [{ seed: 1, finalTrainLoss, testLoss: 1, testAccuracy: 0.5, wallSeconds: times.at(-1) as number, optimizerSeconds: 0.1, optimizerShare: 0.1, diverged: false, losses, times }],
  };
}

/** One part of a split run: the transformer with these optimizers. */
function part(command: string, optimizers: MeasuredOptimizer[]): BenchResults {
  return {
    schemaVersion: 2, tool: 'muon-tfjs bench', createdAt: '2026-12-01T09:00:00Z', command,
    machine: { cpu: 'x', cores: 2, memoryGiB: 8, node: 'v20', platform: 'linux-x64', backend: 'wasm (tfjs 4.22.0)', simd: true },
    config: { mode: 'default', models: ['transformer'], optimizers: optimizers.map((o) => o.kind), seeds: [1], epochs: { transformer: 1 }, tuneFraction: 0.25, maxExtensions: 3, lrSelection: 'x' },
    totalSeconds: 100, totalCpuSeconds: 40,
    models: [{
      id: 'transformer', title: 'T', modelSummary: 's', parameters: 1, batchSize: 1, stepsPerEpoch: 4, epochs: 1, steps: 4, tuneSteps: 1,
      data: { name: 'd', source: 's', trainExamples: 1, validationExamples: 1, testExamples: 1, unit: 'u' },
      schedule: { shape: 'linearDecay', warmupFraction: 0 }, scheduleDescription: 'x',
      ...scoreAgainstTarget(optimizers),
    }],
  };
}

const ADAMW = [3, 2, 1.5, 1.2];
const MUON = [3, 1.8, 1.1, 0.9];
const LION = [3, 2.5, 2, 1.9];

describe('scoreAgainstTarget', () => {
  it("takes AdamW's final loss as the target and counts steps and seconds to it (hand-worked)", () => {
    const s = scoreAgainstTarget([optimizer('muon', MUON, 0.02, 3e-3), optimizer('adamw', ADAMW, 3e-3), optimizer('lion', LION, 1e-3)]);
    expect(s.targetLoss).toBe(1.2);
    expect(s.targetRule).toBe("AdamW's mean final training loss");
    const [muon, adamw, lion] = s.optimizers as [OptimizerResult, OptimizerResult, OptimizerResult];
    // Muon: 1.1 ≤ 1.2 at step 3 (1.5 s); AdamW at its last step 4 (2 s); Lion never.
    expect(muon.runs[0]).toMatchObject({ stepsToTarget: 3, secondsToTarget: 1.5 });
    expect(adamw.runs[0]).toMatchObject({ stepsToTarget: 4, secondsToTarget: 2 });
    expect(lion.runs[0]).toMatchObject({ stepsToTarget: null, secondsToTarget: null });
    expect(lion.summary.reachedTarget).toBe(0);
    expect(s.muonToAdamwStepRatio).toBe(0.75);
    expect(s.muonToAdamwTimeRatio).toBe(0.75);
  });

  it('without AdamW, takes the highest final loss', () => {
    expect(scoreAgainstTarget([optimizer('muon', MUON, 0.02), optimizer('lion', LION, 1e-3)])).toMatchObject({ targetLoss: 1.9, targetRule: 'the highest mean final training loss', muonToAdamwStepRatio: null });
  });
});

describe('mergeResults', () => {
  it('joins parts split by optimizer and recomputes the target from AdamW', () => {
    const a = part('bench --optimizers adamw,lion', [optimizer('adamw', ADAMW, 3e-3), optimizer('lion', LION, 1e-3)]);
    const b = part('bench --optimizers muon --adamw-lr 0.003', [optimizer('muon', MUON, 0.02, 3e-3)]);
    const merged = mergeResults([a, b], 'bench --merge a,b');
    const model = merged.models[0];
    expect(model?.optimizers.map((o) => o.kind)).toEqual(['adamw', 'lion', 'muon']);
    // Part b alone scored Muon against its own final loss; merged, against AdamW's 1.2.
    expect(b.models[0]?.targetLoss).toBe(0.9);
    expect(model?.targetLoss).toBe(1.2);
    expect(model?.muonToAdamwStepRatio).toBe(0.75);
    expect(merged.config.optimizers).toEqual(['adamw', 'lion', 'muon']);
    expect(merged).toMatchObject({ command: 'bench --merge a,b', totalSeconds: 200, totalCpuSeconds: 80 });
    expect(merged.parts?.map((p) => p.command)).toEqual([a.command, b.command]);
  });

  it('keeps one copy of an optimizer run in several parts, and refuses copies that differ', () => {
    const a = part('a', [optimizer('adamw', ADAMW, 3e-3)]);
    const b = part('b', [optimizer('adamw', ADAMW, 3e-3), optimizer('lion', LION, 1e-3)]);
    expect(mergeResults([a, b], 'm').models[0]?.optimizers.map((o) => o.kind)).toEqual(['adamw', 'lion']);
    const c = part('c', [optimizer('adamw', [3, 2, 1.5, 1.3], 3e-3)]);
    expect(() => mergeResults([a, c], 'm')).toThrow("mergeResults: 'adamw' on 'transformer', seed 1: part 2's losses differ from an earlier part's (not the same run)");
  });

  it("refuses parts with other seeds or protocol, or a hybrid trained at another AdamW rate than AdamW's choice", () => {
    const a = part('a', [optimizer('adamw', ADAMW, 3e-3)]);
    const other = part('b', [optimizer('lion', LION, 1e-3)]);
    expect(() => mergeResults([a, { ...other, config: { ...other.config, seeds: [1, 2] } }], 'm')).toThrow(/part 2 \(b\) differs from part 1 \(a\) in seeds/);
    expect(() => mergeResults([a, { ...other, config: { ...other.config, tuneFraction: 0.5 } }], 'm')).toThrow(/in protocol/);
    expect(() => mergeResults([a, part('b', [optimizer('muon', MUON, 0.02, 1e-2)])], 'm'))
      .toThrow("mergeResults: 'muon' on 'transformer' trained its AdamW group at 0.01, but AdamW's search chose 0.003");
    expect(() => mergeResults([], 'm')).toThrow('mergeResults: no results to merge');
  });
});
