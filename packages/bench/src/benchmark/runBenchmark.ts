import { loadavg } from 'node:os';
import { optimizerSpec, type OptimizerSpec } from './protocol/optimizers.js';
import { tuningSteps, type BenchMode, type BenchmarkEntry, type TuningProtocol } from './protocol/tuningProtocol.js';
import { measuredRuns, type ModelUnderTest, type RunObserver } from './runs/modelRun.js';
import { describeKernels } from './runs/backend.js';
import { tuneOptimizer, type Tuned, type TuningRuns } from './runs/tuneOptimizer.js';
import { collectResults, type BenchRun } from './results/collectResults.js';
import { measuredOptimizer } from './results/measuredOptimizer.js';
import { modelResult } from './results/modelResult.js';
import type { BenchResults, ModelResult } from './results/results.js';

/** Options of {@link runBenchmark}. */
export interface RunBenchmarkOptions extends RunObserver {
  entries: readonly BenchmarkEntry[];
  /** The compared optimizers, or variants of one (each with its own `kind` and `label`). */
  optimizers: readonly OptimizerSpec[];
  seeds: readonly number[];
  protocol: TuningProtocol;
  /**
   * The AdamW whose chosen peak rate the hybrids' AdamW groups use: the compared spec of kind
   * `adamw` when there is one, else this (default: the benchmark's AdamW), tuned first.
   */
  auxiliary?: OptimizerSpec;
  /**
   * Peak learning rates by kind that an earlier search chose (another part of a run split over
   * processes, or a stopped run's log; `--chosen-lr`): those optimizers skip their learning-rate
   * search (their `searches` then hold only what is still tuned, Sophia's ρ), and `adamw`'s is the
   * hybrids' AdamW rate.
   */
  chosenLearningRates?: Readonly<Record<string, number>>;
  mode: BenchMode;
  backend: string;
  simd: boolean | null;
  command: string;
  /** Called after each model with the results so far (the CLI saves them: a stopped run keeps its finished models). */
  onModelDone?: (resultsSoFar: BenchResults) => void;
}

/** The options' decisions that hold for every model: the tuning seed, the AdamW the hybrids use, the rates already chosen. */
interface BenchmarkSetup {
  firstSeed: number;
  auxiliary: OptimizerSpec;
  chosen: Readonly<Record<string, number>>;
}

/** Checks the options before anything trains, and resolves the auxiliary AdamW. */
function checkOptions(options: RunBenchmarkOptions): BenchmarkSetup {
  const { protocol } = options;
  if (!(protocol.tuneFraction >= 0.25 && protocol.tuneFraction <= 1)) {
    throw new Error(`runBenchmark: tuneFraction must be in [0.25, 1] (the protocol tunes on at least a quarter of the budget), got ${protocol.tuneFraction}`);
  }
  const firstSeed = options.seeds[0];
  if (firstSeed === undefined) throw new Error('runBenchmark: at least one seed is needed');
  const kinds = options.optimizers.map((o) => o.kind);
  const duplicate = kinds.find((k, i) => kinds.indexOf(k) !== i);
  if (duplicate !== undefined) throw new Error(`runBenchmark: optimizer kind '${duplicate}' appears twice; give each variant its own kind`);
  const auxiliary = options.optimizers.find((o) => o.kind === 'adamw') ?? options.auxiliary ?? optimizerSpec('adamw');
  const chosen = options.chosenLearningRates ?? {};
  for (const [kind, lr] of Object.entries(chosen)) {
    if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`runBenchmark: the chosen learning rate of '${kind}' must be a finite number > 0, got ${lr}`);
    if (kind !== auxiliary.kind && !kinds.includes(kind)) throw new Error(`runBenchmark: a learning rate is given for '${kind}', which is not compared (${kinds.join(', ')})`);
  }
  return { firstSeed, auxiliary, chosen };
}

/**
 * The protocol on one model: AdamW tuned first (its peak rate is also the hybrids' AdamW-group
 * rate), then every other optimizer; then each trains once per seed with its choice, and the
 * runs are scored against the target.
 */
function benchmarkModel(entry: BenchmarkEntry, options: RunBenchmarkOptions, setup: BenchmarkSetup): ModelResult {
  const steps = entry.epochs * entry.task.stepsPerEpoch;
  const tuneSteps = tuningSteps(steps, options.protocol);
  const model: ModelUnderTest = { ...entry, steps, observer: options };
  const tuning: TuningRuns = { model, seed: setup.firstSeed, steps: tuneSteps, maxExtensions: options.protocol.maxExtensions };
  const { auxiliary, chosen } = setup;

  const needsAuxiliary = options.optimizers.some((o) => o.usesAuxiliaryAdamW);
  const auxTuned = needsAuxiliary || options.optimizers.includes(auxiliary) ? tuneOptimizer(tuning, auxiliary, 0, chosen[auxiliary.kind]) : undefined;
  const auxPeak = auxTuned?.learningRate ?? 0;
  const tuned = new Map(options.optimizers.map((spec) =>
    [spec.kind, spec === auxiliary && auxTuned !== undefined ? auxTuned : tuneOptimizer(tuning, spec, auxPeak, chosen[spec.kind])]));

  const settingOf = (spec: OptimizerSpec): Tuned => tuned.get(spec.kind) as Tuned;
  const records = new Map(options.optimizers.map((spec) => {
    const t = settingOf(spec);
    return [spec.kind, measuredRuns(model, spec, { peak: t.learningRate, auxPeak, tuned: t.tuned }, options.seeds)];
  }));
  const measured = options.optimizers.map((spec) => measuredOptimizer(spec, settingOf(spec), auxPeak, records.get(spec.kind) ?? []));
  return modelResult(entry, steps, tuneSteps, measured);
}

/**
 * Runs the whole comparison under one protocol. For every model, each optimizer's learning rate
 * (then any other tuned hyper-parameter, one at a time) is chosen by validation loss on the
 * held-out split, from a grid that is extended past an edge choice (`gridSearch`); tuning
 * runs use the first seed and last `tuneFraction` of the measured run, on the same schedule
 * compressed to their length. Then every optimizer trains once per seed with its choice, on the
 * same schedule and seeds, and is evaluated on the test split (never used for tuning). AdamW is
 * tuned first because the hybrids' AdamW groups (embeddings, head, biases, gains) use its rate.
 *
 * The stages: the protocol (`protocol/`) says what is compared and how it is tuned; the runs
 * (`runs/`) train; the results (`results/`) score and record them; the report (`report/`) draws them.
 */
export function runBenchmark(options: RunBenchmarkOptions): BenchResults {
  const run: BenchRun = {
    command: options.command, mode: options.mode, backend: options.backend, simd: options.simd, kernels: describeKernels(options.simd),
    entries: options.entries, optimizers: options.optimizers.map((o) => o.kind), seeds: options.seeds, protocol: options.protocol,
    started: performance.now(), cpuStarted: process.cpuUsage(), loadStarted: loadavg(),
  };
  const setup = checkOptions(options);
  const models: ModelResult[] = [];
  for (const entry of options.entries) {
    models.push(benchmarkModel(entry, options, setup));
    options.onModelDone?.(collectResults(run, models));
  }
  return collectResults(run, models);
}
