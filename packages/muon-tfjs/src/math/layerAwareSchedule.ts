import { chooseSchedule } from './chooseSchedule.js';
import { foldNormalization } from './coefficients.js';
import { descendingQuantile, gramSingularValues } from './gramSingularValues.js';
import { type NewtonSchulzSchedule, resolveNewtonSchulz } from './newtonSchulzSchedule.js';

/**
 * Grid points per decade of the layer-aware lower bound ℓ. `chooseSchedule`'s step count changes
 * about once per half decade of σ (2 steps down to σ ≈ 0.056, 3 to 0.01, 4 to 0.0032, 5 to 5.6e-4,
 * 6 to 1.8e-4, 7 to 3.2e-5), so a quarter decade resolves every change while keeping the number of
 * distinct schedules, and so of kernel calls per step, small.
 */
export const LOWER_BOUND_GRID_PER_DECADE = 4;

/**
 * The smallest ℓ on the grid, where `chooseSchedule` needs 8 steps (its longest candidates): a
 * layer whose quantile is lower (or 0: a rank-deficient momentum, as at the first steps of a layer
 * wider than the batch) gets at most the schedule for ℓ = 1e-5, and usually less: see
 * {@link lowerBoundFloor}.
 */
export const LOWER_BOUND_GRID_FLOOR = 1e-5;

/** The most Newton–Schulz steps a layer-aware schedule may take: `chooseSchedule`'s longest candidates. */
export const MAX_LAYER_AWARE_STEPS = 8;

/**
 * The smallest grid point whose schedule takes at most `maxSteps` iterations: measured quantiles
 * are clamped to it, so no layer runs more than `maxSteps` (Muon's `nsAutoMaxSteps`). 5 gives
 * 5.6e-4 (polarExpress for ℓ = 5.6e-4 × 5, which lifts [5.6e-4, 1] into [0.70, 1.30] where the
 * fixed `jordan` × 5 lifts only [1e-2, 1]); 2 gives 0.056.
 */
export function lowerBoundFloor(maxSteps: number, eps: number): number {
  if (!Number.isInteger(maxSteps) || maxSteps < 2 || maxSteps > MAX_LAYER_AWARE_STEPS) {
    throw new Error(`lowerBoundFloor: maxSteps must be an integer in [2, ${MAX_LAYER_AWARE_STEPS}], got ${maxSteps}`);
  }
  let floor = 1;
  for (let j = 1; gridPoint(j) >= LOWER_BOUND_GRID_FLOOR; j++) {
    // Steps never decrease as ℓ falls (layerAwareSchedule.test.ts), so the first miss ends the walk.
    if (layerAwareSchedule(gridPoint(j), eps).steps > maxSteps) break;
    floor = gridPoint(j);
  }
  return floor;
}

/**
 * The largest grid point 10^(−j/4) (j = 0, 1, …) not above `sigma`, and at least
 * {@link LOWER_BOUND_GRID_FLOOR}. Rounding down keeps the choice safe: a schedule that lifts every
 * σ in [ℓ, 1] lifts every σ in [sigma, 1] ⊂ [ℓ, 1].
 */
export function snapLowerBound(sigma: number): number {
  if (!(sigma >= 0 && sigma <= 1)) {
    throw new Error(`snapLowerBound: sigma (a normalized singular value) must be in [0, 1], got ${sigma}`);
  }
  const floorIndex = Math.round(-Math.log10(LOWER_BOUND_GRID_FLOOR) * LOWER_BOUND_GRID_PER_DECADE);
  if (sigma <= LOWER_BOUND_GRID_FLOOR) return gridPoint(floorIndex);
  // 1e-9 absorbs the round-off of log10 at exact grid points (10^(−1/2) must snap to itself).
  const index = Math.ceil(-Math.log10(sigma) * LOWER_BOUND_GRID_PER_DECADE - 1e-9);
  return gridPoint(Math.min(index, floorIndex));
}

/**
 * The lower bound a slot holds: 0 (not measured yet) or the grid point its float32 values round
 * to. Anything else (a hand-edited or foreign checkpoint) is refused, naming the value.
 */
export function storedLowerBound(values: ArrayLike<number>): number {
  const value = values[0] as number;
  if (value === 0) return 0;
  const point = gridPoint(Math.round(-Math.log10(value) * LOWER_BOUND_GRID_PER_DECADE));
  // float32 keeps 24 bits: a stored grid point is within 6e-8 of it, relative.
  if (!(Math.abs(value / point - 1) < 1e-6) || point < LOWER_BOUND_GRID_FLOOR || point > 1) {
    throw new Error(`the Newton–Schulz lower bound slot holds ${value}, which is neither 0 nor a grid point 10^(−j/${LOWER_BOUND_GRID_PER_DECADE}) in [${LOWER_BOUND_GRID_FLOOR}, 1]`);
  }
  return point;
}

function gridPoint(index: number): number {
  return Number((10 ** (-index / LOWER_BOUND_GRID_PER_DECADE)).toPrecision(12));
}

const schedules = new Map<string, NewtonSchulzSchedule>();

/**
 * The resolved schedule Muon runs, under `nsSteps: 'auto'`, on a layer whose lower bound (snapped
 * quantile) is `lowerBound`: `chooseSchedule({ sigma: lowerBound })` with its normalization folded
 * into the first triple, resolved with `eps`. Memoized: every layer on the same grid point shares
 * one frozen schedule object, which kernels key their plans and flattened coefficients by, and
 * which the optimizer groups matrices by (one kernel call per distinct schedule).
 */
export function layerAwareSchedule(lowerBound: number, eps: number): NewtonSchulzSchedule {
  if (snapLowerBound(lowerBound) !== lowerBound) {
    throw new Error(`layerAwareSchedule: lowerBound must be a grid point (snapLowerBound), got ${lowerBound}`);
  }
  const key = `${lowerBound}/${eps}`;
  let schedule = schedules.get(key);
  if (schedule === undefined) {
    const choice = chooseSchedule({ sigma: lowerBound });
    schedule = resolveNewtonSchulz({ coefficients: foldNormalization(choice.schedule), eps });
    schedules.set(key, schedule);
  }
  return schedule;
}

/**
 * The snapped lower bound of a Newton–Schulz input: the descending-rank quantile `percent` of the
 * singular values of X/‖X‖_F (`gramSingularValues`, exact in float64), rounded down onto the grid
 * and clamped to `floor` ({@link lowerBoundFloor}). The zero matrix (no gradient yet) has no
 * spectrum; it gets the floor, like a rank-deficient one.
 * Cost: k²·max(m, n)/2 + (2/3)k³ multiply-adds of JavaScript, k = min(m, n).
 */
export function measuredLowerBound(values: ArrayLike<number>, rows: number, cols: number, percent: number, floor = LOWER_BOUND_GRID_FLOOR): number {
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) sumSquares += (values[i] as number) ** 2;
  if (!(sumSquares > 0) || !Number.isFinite(sumSquares)) return snapLowerBound(floor);
  const scale = 1 / Math.sqrt(sumSquares);
  const normalized = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) normalized[i] = (values[i] as number) * scale;
  return snapLowerBound(Math.max(floor, Math.min(1, descendingQuantile(gramSingularValues(normalized, rows, cols), percent))));
}
