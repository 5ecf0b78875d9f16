import { describe, expect, it } from 'vitest';
import { checkScheduled, constant, cosine, linear, linearDecay, linearWarmup, momentumWarmup, piecewise, scheduleValue, warmupStableDecay } from './schedule.js';

/** Values are sums and products of a few doubles and one cosine: exact to a few ulps. */
const EXACT = 1e-12;

describe('schedules, worked by hand (t = completed steps)', () => {
  it.each([
    // a number is its own value at every step
    ['a number', 0.3, [[0, 0.3], [1e6, 0.3]]],
    ['constant', constant(2), [[0, 2], [99, 2]]],
    // 0.85 + 0.1·min(1, t/300): modded-nanogpt's momentum warm-up
    ['momentumWarmup', momentumWarmup(), [[0, 0.85], [150, 0.9], [300, 0.95], [1000, 0.95]]],
    ['linear down', linear({ from: 1, to: 0.5, steps: 4 }), [[0, 1], [1, 0.875], [4, 0.5], [5, 0.5]]],
    // peak·min(1, (t+1)/4): the first step already moves
    ['linearWarmup', linearWarmup({ peak: 1, warmupSteps: 4 }), [[0, 0.25], [1, 0.5], [3, 1], [10, 1]]],
    // warm-up (t+1)/2 over t = 0, 1; cosine over the 8 steps 2..10: ½(1 + cos(π(t−2)/8))
    //   t = 4: ½(1 + cos(π/4)) = ½ + √2/4;  t = 6: ½(1 + cos(π/2)) = ½;  t = 10: 0
    ['cosine + warm-up', cosine({ peak: 1, steps: 10, warmupSteps: 2 }), [[0, 0.5], [1, 1], [2, 1], [4, 0.5 + Math.SQRT2 / 4], [6, 0.5], [10, 0], [11, 0]]],
    // 0.1·(1 − t/100), reaching 0 at t = 100 and staying there
    ['linearDecay to 0', linearDecay({ peak: 0.1, steps: 100 }), [[0, 0.1], [50, 0.05], [99, 0.001], [100, 0], [200, 0]]],
    // warm-up over 10, peak until t = 80, then 0.1 + 0.9·(1 − (t − 80)/20)
    ['warmupStableDecay', warmupStableDecay({ peak: 1, steps: 100, warmupSteps: 10, decaySteps: 20, final: 0.1 }), [[0, 0.1], [9, 1], [50, 1], [80, 1], [90, 0.55], [100, 0.1]]],
    // 3 for t < 500 (the first 500 steps), 5 from t = 500 on
    ['piecewise', piecewise({ boundaries: [500], values: [3, 5] }), [[0, 3], [499, 3], [500, 5], [10_000, 5]]],
    // two boundaries: [0, 2) → 1, [2, 5) → 2, [5, ∞) → 4
    ['piecewise, two boundaries', piecewise({ boundaries: [2, 5], values: [1, 2, 4] }), [[0, 1], [1, 1], [2, 2], [4, 2], [5, 4]]],
  ] as const)('%s', (_, schedule, points) => {
    for (const [t, expected] of points) {
      expect(Math.abs(scheduleValue(schedule, t) - expected), `t = ${t}`).toBeLessThan(EXACT);
    }
  });

  it('is plain data: JSON round-trips it to an equal schedule with the same values', () => {
    const s = warmupStableDecay({ peak: 0.02, steps: 50, warmupSteps: 5, decaySteps: 10 });
    const copy = JSON.parse(JSON.stringify(s)) as unknown;
    expect(checkScheduled(copy, 'lr', 'test', (x) => x >= 0, '≥ 0')).toEqual(s);
    expect(Object.isFrozen(s)).toBe(true);
  });
});

describe('schedules refuse what they cannot mean, naming the field', () => {
  const nonNegative = (x: number) => Number.isFinite(x) && x >= 0;
  it.each([
    [() => linearDecay({ peak: 0.1, steps: 10.5 }), /steps must be an integer ≥ 1, got 10.5/],
    [() => warmupStableDecay({ peak: 1, steps: 10, warmupSteps: 5, decaySteps: 6 }), /warmupSteps \(5\) \+ decaySteps \(6\) exceed steps \(10\)/],
    [() => linearWarmup({ peak: Number.NaN, warmupSteps: 3 }), /peak must be a finite number, got NaN/],
    [() => checkScheduled({ kind: 'exponential', rate: 0.9 }, 'learningRate', 'adamw', nonNegative, '≥ 0'), /adamw: learningRate must be a number or a schedule/],
    [() => checkScheduled({ kind: 'constant', value: 1, extra: 2 }, 'learningRate', 'adamw', nonNegative, '≥ 0'), /unknown field 'extra'/],
    [() => checkScheduled(linearDecay({ peak: 0.1, steps: 5, final: -0.1 }), 'learningRate', 'adamw', nonNegative, '≥ 0'), /takes the value -0.1, but learningRate must be ≥ 0/],
    [() => checkScheduled(momentumWarmup({ to: 1 }), 'momentum', 'muon', (x) => x >= 0 && x < 1, 'in [0, 1)'), /takes the value 1, but momentum must be in \[0, 1\)/],
    [() => piecewise({ boundaries: [5, 5], values: [1, 2, 3] }), /boundaries must be increasing integers ≥ 1, got \[5,5\]/],
    [() => piecewise({ boundaries: [0], values: [1, 2] }), /boundaries must be increasing integers ≥ 1, got \[0\]/],
    [() => piecewise({ boundaries: [3], values: [1] }), /values must have one entry more than boundaries \(1\), got 1/],
    [() => checkScheduled(piecewise({ boundaries: [3], values: [0.5, 1.5] }), 'momentum', 'muon', (x) => x >= 0 && x < 1, 'in [0, 1)'), /takes the value 1.5, but momentum must be in \[0, 1\)/],
  ])('%#', (make, message) => {
    expect(make).toThrow(message);
  });
});
