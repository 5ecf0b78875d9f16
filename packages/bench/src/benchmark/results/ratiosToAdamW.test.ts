import { describe, expect, it } from 'vitest';
import type { ModelResult } from './results.js';
import { ratiosToAdamW } from './ratiosToAdamW.js';

const stat = (mean: number, n: number): { mean: number; std: number; n: number } => ({ mean, std: 0, n });
/** Only what ratiosToAdamW reads: kind, label and the target columns of each summary. */
const optimizer = (kind: string, steps: number, seconds: number, reached: number): unknown => ({
  kind, label: kind, summary: { stepsToTarget: stat(steps, reached), secondsToTarget: stat(seconds, reached), reachedTarget: reached },
});
const model = (...optimizers: unknown[]): ModelResult => ({ id: 'convnet', optimizers }) as unknown as ModelResult;

describe('ratiosToAdamW', () => {
  it('divides steps, seconds and steps × step cost by AdamW’s (hand-worked)', () => {
    const rows = ratiosToAdamW(model(optimizer('adamw', 170, 340, 2), optimizer('muon-rule', 119, 300, 3)), { 'adamw': 100, 'muon-rule': 110 });
    expect(rows[0]).toEqual({ kind: 'adamw', label: 'adamw', stepRatio: 1, timeRatio: 1, costTimeRatio: 1 });
    expect(rows[1]?.stepRatio).toBeCloseTo(0.7, 15); // 119 / 170
    expect(rows[1]?.timeRatio).toBeCloseTo(300 / 340, 15);
    expect(rows[1]?.costTimeRatio).toBeCloseTo(0.77, 15); // 119·110 / (170·100)
  });

  it('gives no ratio without a seed at the target or without a cost, and needs AdamW', () => {
    const rows = ratiosToAdamW(model(optimizer('adamw', 170, 340, 2), optimizer('never', Number.NaN, Number.NaN, 0), optimizer('uncosted', 100, 200, 3)), { adamw: 100 });
    expect(rows[1]).toMatchObject({ stepRatio: null, timeRatio: null, costTimeRatio: null });
    expect(rows[2]).toMatchObject({ stepRatio: 100 / 170, costTimeRatio: null });
    expect(() => ratiosToAdamW(model(optimizer('muon', 1, 1, 1)))).toThrow(/no AdamW among the optimizers of 'convnet' \(muon\)/);
  });
});
