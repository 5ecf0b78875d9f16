import { gridSearch, type SearchResult } from '../protocol/gridSearch.js';
import type { OptimizerSpec } from '../protocol/optimizers.js';
import { modelRun, type ModelUnderTest } from './modelRun.js';
import type { RunRecord } from './trainRun.js';

/** What tuning decided for one optimizer. */
export interface Tuned {
  learningRate: number;
  /** The other tuned hyper-parameters' values. */
  tuned: Record<string, number>;
  searches: SearchResult[];
}

/** Where an optimizer is tuned: the model, the seed and length of every tuning run, the extension cap. */
export interface TuningRuns {
  model: ModelUnderTest;
  seed: number;
  steps: number;
  maxExtensions: number;
}

const describeValues = (values: Record<string, number>): string => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ');

/** The phase a tuning run is shown as: `tune lr=… rho=…`. */
const tuningPhase = (assigned: Record<string, number>): string => `tune ${describeValues(assigned)}`;

/**
 * The search over one hyper-parameter: a {@link gridSearch} whose points are tuning runs, compared
 * by validation loss (a diverged run loses to any finite loss). `assigned` holds the values of
 * the tuned hyper-parameters during the search; all but `parameter` are recorded as `fixed`.
 */
function searchParameter(parameter: string, grid: readonly number[], assigned: Record<string, number>, maxExtensions: number,
  evaluate: (value: number) => RunRecord): SearchResult {
  const fixed = Object.fromEntries(Object.entries(assigned).filter(([name]) => name !== parameter));
  const result = gridSearch({
    grid,
    maxExtensions,
    evaluate: (value) => {
      const r = evaluate(value);
      return r.diverged ? null : r.evaluation.loss;
    },
  });
  return { parameter, ...result, fixed };
}

/**
 * The searches of one optimizer: the learning rate (unless `givenLearningRate` is set, from
 * `chosenLearningRates`), then each of its `tunedAfter` hyper-parameters in turn, at the values
 * chosen so far. `auxPeak` is the hybrids' AdamW rate every tuning run uses.
 */
export function tuneOptimizer(runs: TuningRuns, spec: OptimizerSpec, auxPeak: number, givenLearningRate: number | undefined): Tuned {
  const { model, seed, steps, maxExtensions } = runs;
  const values: Record<string, number> = Object.fromEntries((spec.tunedAfter ?? []).map((p) => [p.name, p.initial]));
  const searches: SearchResult[] = [];
  if (givenLearningRate === undefined) {
    searches.push(searchParameter('learningRate', spec.grid, values, maxExtensions, (value) =>
      modelRun(model, spec, { peak: value, auxPeak, tuned: values }, seed, steps, 'validation', tuningPhase({ lr: value, ...values }))));
  }
  const learningRate = givenLearningRate ?? (searches[0] as SearchResult).chosen;
  for (const p of spec.tunedAfter ?? []) {
    const s = searchParameter(p.name, p.grid, { learningRate, ...values }, maxExtensions, (value) =>
      modelRun(model, spec, { peak: learningRate, auxPeak, tuned: { ...values, [p.name]: value } }, seed, steps, 'validation',
        tuningPhase({ lr: learningRate, ...values, [p.name]: value })));
    values[p.name] = s.chosen;
    searches.push(s);
  }
  return { learningRate, tuned: { ...values }, searches };
}
