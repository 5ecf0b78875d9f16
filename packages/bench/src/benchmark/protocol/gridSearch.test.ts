import { describe, expect, it } from 'vitest';
import { gridSearch } from './gridSearch.js';

/** A validation loss with its minimum at `best`: (log10(v / best))² + 1, convex in log v. */
const bowl = (best: number) => (v: number): number => Math.log10(v / best) ** 2 + 1;

/** Records the values evaluated, in order. */
function recording(f: (v: number) => number | null): { evaluate: (v: number) => number | null; tried: number[] } {
  const tried: number[] = [];
  return { tried, evaluate: (v) => (tried.push(v), f(v)) };
}

describe('gridSearch', () => {
  it('keeps an interior choice without extending', () => {
    const { evaluate, tried } = recording(bowl(0.05));
    const r = gridSearch({ grid: [0.01, 0.02, 0.05, 0.1, 0.2], evaluate, maxExtensions: 3 });
    expect(r.chosen).toBe(0.05);
    expect(r).toMatchObject({ extensions: 0, capped: false });
    expect(tried).toEqual([0.01, 0.02, 0.05, 0.1, 0.2]);
  });

  it('extends a choice at the top edge upwards, by the edge ratio, until it is interior', () => {
    // Optimum at 0.8: 0.2 → 0.4 (×2) → 0.8 → 1.6, where 0.8 becomes interior.
    const { evaluate, tried } = recording(bowl(0.8));
    const r = gridSearch({ grid: [0.01, 0.02, 0.05, 0.1, 0.2], evaluate, maxExtensions: 5 });
    expect(tried.slice(5)).toEqual([0.4, 0.8, 1.6]);
    expect(r).toMatchObject({ chosen: 0.8, extensions: 3, capped: false });
    expect(r.points.map((p) => p.value)).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6]);
    expect(r.points.map((p) => p.extension)).toEqual([false, false, false, false, false, true, true, true]);
  });

  it('extends a choice at the bottom edge downwards', () => {
    // Grid ×3 apart at its low end: 3e-4 → 1e-4 → 3.33e-5, where 1e-4 is interior.
    const { evaluate, tried } = recording(bowl(1e-4));
    const r = gridSearch({ grid: [3e-4, 1e-3, 3e-3], evaluate, maxExtensions: 3 });
    expect(tried.slice(3)).toEqual([9e-5, 2.7e-5]);
    expect(r).toMatchObject({ chosen: 9e-5, extensions: 2, capped: false });
  });

  it('stops at the cap and says so when the choice is still at an edge', () => {
    const r = gridSearch({ grid: [0.01, 0.02, 0.04], evaluate: bowl(100), maxExtensions: 2 });
    expect(r).toMatchObject({ chosen: 0.16, extensions: 2, capped: true });
    expect(r.points.map((p) => p.value)).toEqual([0.01, 0.02, 0.04, 0.08, 0.16]);
    expect(gridSearch({ grid: [0.01, 0.02, 0.04], evaluate: bowl(100), maxExtensions: 0 })).toMatchObject({ chosen: 0.04, extensions: 0, capped: true });
  });

  it('counts a diverged run as worse than any loss: a diverged top edge makes the point below interior', () => {
    const { evaluate, tried } = recording((v) => (v >= 0.2 ? null : bowl(1)(v)));
    const r = gridSearch({ grid: [0.05, 0.1, 0.2], evaluate, maxExtensions: 3 });
    expect(r).toMatchObject({ chosen: 0.1, extensions: 0, capped: false });
    expect(r.points[2]).toEqual({ value: 0.2, validationLoss: null, diverged: true, extension: false });
    expect(tried).toEqual([0.05, 0.1, 0.2]);
  });

  it('extends downwards when every run diverged, and treats a non-finite loss as divergence', () => {
    const r = gridSearch({ grid: [0.1, 0.2], evaluate: (v) => (v > 0.03 ? Number.NaN : bowl(0.01)(v)), maxExtensions: 4 });
    expect(r.points.map((p) => [p.value, p.diverged])).toEqual([[0.00625, false], [0.0125, false], [0.025, false], [0.05, true], [0.1, true], [0.2, true]]);
    expect(r).toMatchObject({ chosen: 0.0125, extensions: 4, capped: false });
  });

  it('names a bad grid or cap', () => {
    const evaluate = bowl(1);
    expect(() => gridSearch({ grid: [0.1], evaluate, maxExtensions: 1 })).toThrow('gridSearch: the grid needs at least two values, got 1');
    expect(() => gridSearch({ grid: [0.1, 0.05], evaluate, maxExtensions: 1 })).toThrow('gridSearch: the grid must increase, but grid[1] = 0.05 follows 0.1');
    expect(() => gridSearch({ grid: [0, 0.05], evaluate, maxExtensions: 1 })).toThrow('gridSearch: grid[0] must be a finite number > 0, got 0');
    expect(() => gridSearch({ grid: [0.1, 0.2], evaluate, maxExtensions: -1 })).toThrow('gridSearch: maxExtensions must be an integer ≥ 0, got -1');
  });
});
