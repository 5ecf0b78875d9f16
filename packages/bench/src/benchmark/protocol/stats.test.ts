import { describe, expect, it } from 'vitest';
import { finalLoss, movingAverage, smoothingWindow, stat, stepsToTarget, studentTCentralProbability, twoSampleTTest } from './stats.js';

describe('loss statistics', () => {
  it('smooths over a trailing window, shorter at the start (hand-worked)', () => {
    expect(movingAverage([4, 2, 6, 0], 2)).toEqual([4, 3, 4, 3]);
    expect(smoothingWindow(4)).toBe(1);
    expect(smoothingWindow(95)).toBe(9);
    expect(smoothingWindow(1000)).toBe(20);
  });

  it('ends the smoothed curve exactly at the final loss, so a run reaches a target equal to its own final loss', () => {
    // A running sum gives 1.2000000000000002 at the last step of this one (window 1).
    const losses = [3, 2, 1.5, 1.2];
    expect(finalLoss(losses)).toBe(1.2);
    expect(stepsToTarget(losses, finalLoss(losses))).toBe(4);
    const long = Array.from({ length: 200 }, (_, i) => 2 / (1 + 0.1 * i) + 0.01 * Math.sin(i));
    expect(movingAverage(long, smoothingWindow(200)).at(-1)).toBe(finalLoss(long));
    expect(stepsToTarget(long, finalLoss(long))).not.toBeNull();
  });
});

describe('Student\'s t', () => {
  it('gives P(|T| ≤ t) = 0.95 at the published two-sided 5 % critical values (t table, 3 decimals)', () => {
    // Critical values t(0.975, ν) of any statistics table; rounded to 3 decimals, hence 1e-4.
    const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [7, 2.365], [10, 2.228], [20, 2.086], [30, 2.042]];
    for (const [df, t] of table) expect(studentTCentralProbability(t, df), `ν = ${df}`).toBeCloseTo(0.95, 4);
    // t(0.995, ν): the 1 % level.
    expect(studentTCentralProbability(4.604, 4)).toBeCloseTo(0.99, 4);
    expect(studentTCentralProbability(3.169, 10)).toBeCloseTo(0.99, 4);
  });

  it('matches the closed forms for ν = 1 (Cauchy) and ν = 2, and is symmetric in t', () => {
    // ν = 1: P(|T| ≤ t) = 2·atan(t)/π, so 1/2 at t = 1. ν = 2: t/√(2 + t²), so 1/√2 at t = √2.
    expect(studentTCentralProbability(1, 1)).toBeCloseTo(0.5, 15);
    expect(studentTCentralProbability(Math.SQRT2, 2)).toBeCloseTo(Math.SQRT1_2, 15);
    expect(studentTCentralProbability(-2.5, 6)).toBe(studentTCentralProbability(2.5, 6));
    expect(studentTCentralProbability(0, 9)).toBe(0);
    expect(() => studentTCentralProbability(1, 2.5)).toThrow('studentTCentralProbability: df must be an integer ≥ 1, got 2.5');
  });

  it('tests two samples as R\'s t.test(c(1, 2, 3), c(4, 5, 6), var.equal = TRUE) does: t = -3.6742, df = 4, p = 0.02131', () => {
    const { t, df, p } = twoSampleTTest(stat([1, 2, 3]), stat([4, 5, 6]));
    expect(t).toBeCloseTo(-3.6742, 4);
    expect(df).toBe(4);
    expect(p).toBeCloseTo(0.02131, 5);
    // Unequal sizes and spreads: pooled s² = (Σ(x − x̄)² + Σ(y − ȳ)²)/(n + m − 2) = (8 + 24)/5, means 12 and 13.
    const a = [10, 12, 14];
    const b = [11, 11, 13, 17];
    const pooled = ((4 + 0 + 4) + (4 + 4 + 0 + 16)) / 5;
    const expected = (12 - 13) / Math.sqrt(pooled * (1 / 3 + 1 / 4));
    expect(twoSampleTTest(stat(a), stat(b)).t).toBeCloseTo(expected, 12);
  });

  it('calls equal constant samples the same, different ones apart, and refuses a sample without a spread', () => {
    expect(twoSampleTTest(stat([5, 5]), stat([5, 5, 5]))).toEqual({ t: 0, df: 3, p: 1 });
    expect(twoSampleTTest(stat([4, 4]), stat([5, 5]))).toEqual({ t: Number.NEGATIVE_INFINITY, df: 2, p: 0 });
    expect(() => twoSampleTTest(stat([1]), stat([2, 3]))).toThrow('twoSampleTTest: each sample needs at least 2 values for a spread, got n = 1 and 2');
  });
});
