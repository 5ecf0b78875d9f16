import { scheduleValue } from 'muon-tfjs';
import { describe, expect, it } from 'vitest';
import { describeSchedule, runSchedule } from './runSchedule.js';

describe('runSchedule', () => {
  it('decays linearly from the peak to 0 at the run\'s last step (hand-worked values)', () => {
    const lr = runSchedule(0.1, 4, { shape: 'linearDecay', warmupFraction: 0 });
    // Step after t completed steps: 0.1·(1 − t/4).
    [0.1, 0.075, 0.05, 0.025, 0].forEach((expected, t) => expect(scheduleValue(lr, t)).toBeCloseTo(expected, 15));
  });

  it('compresses warm-up and decay to a tuning run\'s length: the same shape over fewer steps', () => {
    const spec = { shape: 'linearDecay', warmupFraction: 0.1 } as const;
    const full = runSchedule(1, 200, spec);
    const quarter = runSchedule(1, 50, spec);
    expect(full).toMatchObject({ steps: 200, warmupSteps: 20, decaySteps: 180 });
    expect(quarter).toMatchObject({ steps: 50, warmupSteps: 5, decaySteps: 45 });
    // At the same fraction of each run the rate is the same: warm-up ends, halfway down, zero.
    for (const fraction of [0.1, 0.55, 1]) {
      expect(scheduleValue(quarter, fraction * 50)).toBeCloseTo(scheduleValue(full, fraction * 200), 12);
    }
    expect(scheduleValue(quarter, 50)).toBe(0);
    expect(scheduleValue(quarter, 0)).toBeCloseTo(1 / 5, 12);
  });

  it('keeps at least one step of decay after a warm-up, and a constant schedule constant', () => {
    expect(runSchedule(1, 1, { shape: 'linearDecay', warmupFraction: 0.9 })).toMatchObject({ steps: 1, warmupSteps: 0 });
    expect(runSchedule(0.3, 10, { shape: 'constant', warmupFraction: 0 })).toBe(0.3);
    expect(runSchedule(0.3, 10, { shape: 'constant', warmupFraction: 0.2 })).toEqual({ kind: 'linearWarmup', peak: 0.3, warmupSteps: 2 });
  });

  it('names bad input, and describes itself', () => {
    expect(() => runSchedule(1, 0, { shape: 'linearDecay', warmupFraction: 0 })).toThrow('runSchedule: steps must be an integer ≥ 1, got 0');
    expect(() => runSchedule(1, 5, { shape: 'linearDecay', warmupFraction: 1 })).toThrow('runSchedule: warmupFraction must be in [0, 1), got 1');
    expect(describeSchedule({ shape: 'linearDecay', warmupFraction: 0.1 })).toBe('linear warm-up over 10 % of the steps, then linear decay to 0 at the last step');
  });
});
