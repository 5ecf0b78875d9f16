import { describe, expect, it } from 'vitest';
import { finalLoss, movingAverage, smoothingWindow, stepsToTarget } from './stats.js';

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
