/** One value of a hyper-parameter tried on the held-out split. */
export interface GridPoint {
  value: number;
  /** Validation loss at the end of the tuning run (null when the run diverged). */
  validationLoss: number | null;
  diverged: boolean;
  /** True for a point that the search added beyond the initial grid. */
  extension: boolean;
}

/** The outcome of a search over one hyper-parameter. */
export interface GridSearchResult {
  /** Every point tried, sorted by value. */
  points: GridPoint[];
  /** The value with the lowest validation loss. */
  chosen: number;
  /** Points added beyond the initial grid. */
  extensions: number;
  /** True when the cap on extensions was reached with the choice still at an edge of the grid. */
  capped: boolean;
}

/** The search over one hyper-parameter on the held-out split. */
export interface SearchResult {
  /** `learningRate` (the schedule's peak), or another tuned hyper-parameter (`rho`). */
  parameter: string;
  /** Every value tried, sorted, with its validation loss; `extension` marks those added past an edge. */
  points: GridPoint[];
  chosen: number;
  extensions: number;
  /** The extension cap was reached with the choice still at an edge: the optimum may lie beyond. */
  capped: boolean;
  /** The values of the other tuned hyper-parameters during this search. */
  fixed: Record<string, number>;
}

/** Options of {@link gridSearch}. */
export interface GridSearchOptions {
  /** The initial grid: positive values in increasing order, at least two. */
  grid: readonly number[];
  /** Trains with one value and returns its validation loss, or null when the run diverged. */
  evaluate(value: number): number | null;
  /** At most this many points are added beyond the initial grid. */
  maxExtensions: number;
}

/**
 * Grid search that does not stop at an edge. The value with the lowest validation loss is chosen;
 * when it is the smallest or the largest value tried, the optimum may lie outside the grid, so the
 * grid is extended one point at a time in that direction, geometrically (by the ratio of the two
 * values at that edge), until the choice is interior or `maxExtensions` points have been added
 * (then `capped` says so). A diverged run counts as worse than any finite loss; when every run
 * diverged the search extends downwards.
 */
export function gridSearch(options: GridSearchOptions): GridSearchResult {
  const { grid, evaluate, maxExtensions } = options;
  if (grid.length < 2) throw new Error(`gridSearch: the grid needs at least two values, got ${grid.length}`);
  grid.forEach((v, i) => {
    if (!(Number.isFinite(v) && v > 0)) throw new Error(`gridSearch: grid[${i}] must be a finite number > 0, got ${v}`);
    if (i > 0 && v <= (grid[i - 1] as number)) throw new Error(`gridSearch: the grid must increase, but grid[${i}] = ${v} follows ${grid[i - 1]}`);
  });
  if (!(Number.isInteger(maxExtensions) && maxExtensions >= 0)) throw new Error(`gridSearch: maxExtensions must be an integer ≥ 0, got ${maxExtensions}`);

  const points: GridPoint[] = [];
  const tryValue = (value: number, extension: boolean): void => {
    const loss = evaluate(value);
    const finite = loss !== null && Number.isFinite(loss);
    points.push({ value, validationLoss: finite ? loss : null, diverged: !finite, extension });
    points.sort((a, b) => a.value - b.value);
  };
  const best = (): GridPoint => points.reduce((a, b) => (lossOf(b) < lossOf(a) ? b : a));
  for (const value of grid) tryValue(value, false);

  let extensions = 0;
  for (;;) {
    const choice = best();
    const edge = edgeOf(points, choice);
    if (edge === null) return { points, chosen: choice.value, extensions, capped: false };
    if (extensions >= maxExtensions) return { points, chosen: choice.value, extensions, capped: true };
    tryValue(extendedValue(points, edge), true);
    extensions++;
  }
}

const lossOf = (p: GridPoint): number => p.validationLoss ?? Number.POSITIVE_INFINITY;

/** Which edge the choice sits on ('low' also when every run diverged), or null when interior. */
function edgeOf(points: readonly GridPoint[], choice: GridPoint): 'low' | 'high' | null {
  if (points.every((p) => p.validationLoss === null)) return 'low';
  if (choice === points[0]) return 'low';
  if (choice === points[points.length - 1]) return 'high';
  return null;
}

/**
 * The next value beyond an edge: the edge value times the ratio between it and its neighbour,
 * rounded to 3 significant digits (0.2 · 2 is 0.4 in the report, not 0.4000000000000001).
 */
function extendedValue(points: readonly GridPoint[], edge: 'low' | 'high'): number {
  const [outer, inner] = edge === 'low'
    ? [points[0] as GridPoint, points[1] as GridPoint]
    : [points[points.length - 1] as GridPoint, points[points.length - 2] as GridPoint];
  return Number((outer.value * (outer.value / inner.value)).toPrecision(3));
}
