import { describe, expect, it } from 'vitest';
import { resolveCoefficients } from './coefficients.js';
import { DEFAULT_NS_EPS, defaultGramRestarts, resolveNewtonSchulz, scheduleDeviation } from './newtonSchulzSchedule.js';

describe('resolveNewtonSchulz', () => {
  it('resolves every setting once into a deeply frozen schedule', () => {
    const schedule = resolveNewtonSchulz({ coefficients: 'polarExpress5' });
    const coefficients = resolveCoefficients('polarExpress5');
    expect(schedule.iterations).toEqual(coefficients.iterations);
    expect(schedule.normalizationScale).toBe(1.02);
    expect(schedule.steps).toBe(5);
    expect(schedule.eps).toBe(DEFAULT_NS_EPS);
    expect(schedule.restartAfter).toEqual([3]);
    expect(schedule.precision).toBe('float32');
    expect(resolveNewtonSchulz({ precision: 'bfloat16' }).precision).toBe('bfloat16');
    expect(schedule.normalization).toBe('frobenius');
    // The normalization comes with the coefficients: Turbo-Muon's are tuned for AOL-rescaled input.
    expect(resolveNewtonSchulz({ coefficients: 'turboMuon' })).toEqual(expect.objectContaining({ normalization: 'aol', steps: 4, normalizationScale: 1 }));
    expect(schedule.deviation).toBe(scheduleDeviation(coefficients));
    for (const part of [schedule, schedule.iterations, schedule.iterations[0], schedule.restartAfter]) expect(Object.isFrozen(part)).toBe(true);
  });

  it('keeps the effective restart points only, in order', () => {
    // A restart after the last iteration never happens; duplicates change nothing.
    expect(resolveNewtonSchulz({ restartAfter: [6, 2, 2, 5] }).restartAfter).toEqual([2]);
    expect(resolveNewtonSchulz({ coefficients: 'polarExpress8' }).restartAfter).toEqual([3, 6]);
    expect(resolveNewtonSchulz({ restartAfter: [] }).restartAfter).toEqual([]);
  });

  it('rejects bad options with the value at fault', () => {
    expect(() => resolveNewtonSchulz({ eps: -1 })).toThrow(/eps must be .* got -1/);
    expect(() => resolveNewtonSchulz({ eps: Number.NaN })).toThrow(/eps must be .* got NaN/);
    expect(() => resolveNewtonSchulz({ restartAfter: [0] })).toThrow(/\[0\]/);
    expect(() => resolveNewtonSchulz({ coefficients: 'cesista5', steps: 3 })).toThrow(/nsSteps=3/);
    expect(() => resolveNewtonSchulz({ precision: 'half' as 'float32' })).toThrow(/precision must be 'float32', 'bfloat16' or 'float16'; got "half"/);
    expect(resolveNewtonSchulz({ precision: 'float16' }).precision).toBe('float16');
  });
});

describe('scheduleDeviation', () => {
  it('measures the presets’ own worst-case errors over σ ∈ [1e-2, 1]', () => {
    // Worst cases over σ ∈ [1e-2, 1] as in shared/reference/muon-anchors.md §b.6.
    expect(scheduleDeviation(resolveCoefficients('jordan'))).toBeCloseTo(0.318, 2);
    expect(scheduleDeviation(resolveCoefficients('you6'))).toBeCloseTo(0.0044, 3);
    expect(scheduleDeviation(resolveCoefficients('polarExpress8'))).toBeLessThan(1e-12);
  });
});

describe('defaultGramRestarts', () => {
  it('restarts after every third iteration, never after the last', () => {
    expect(defaultGramRestarts(1)).toEqual([]);
    expect(defaultGramRestarts(3)).toEqual([]);
    expect(defaultGramRestarts(5)).toEqual([3]);
    expect(defaultGramRestarts(6)).toEqual([3]);
    expect(defaultGramRestarts(8)).toEqual([3, 6]);
  });
});
