import { cpus, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { gridSearch } from './protocol/gridSearch.js';
import { optimizerSpec, type OptimizerSpec } from './protocol/optimizers.js';
import { RESULTS_SCHEMA_VERSION, type BenchResults, type ModelResult, type SearchResult } from './results/results.js';
import { describeSchedule, runSchedule, type ScheduleSpec } from './protocol/runSchedule.js';
import { scoreAgainstTarget, type MeasuredOptimizer } from './results/scoreAgainstTarget.js';
import { finalLoss } from './protocol/stats.js';
import type { Task } from 'muon-tfjs-tasks';
import { trainRun, type RunRecord } from './runs/trainRun.js';

/** What the progress display is told at every step. */
export interface ProgressEvent {
  model: string;
  optimizer: string;
  /** 'tune lr=…' while searching, 'seed N' for the measured runs. */
  phase: string;
  step: number;
  steps: number;
  epoch: number;
  epochs: number;
  loss: number;
}

/** What the log is told at the end of every run: the quantities the table and the search use. */
export interface RunSummary {
  model: string;
  optimizer: string;
  phase: string;
  steps: number;
  /** {@link finalLoss} of the run's per-step losses: the table's "final train loss" for a measured run. */
  finalTrainLoss: number;
  /** The split evaluated at the end: validation for tuning runs, test for measured runs. */
  split: 'validation' | 'test';
  /** Loss on that split (a tuning run's is what the search compares). */
  evaluationLoss: number;
  diverged: boolean;
  /** Seconds of training steps. */
  trainSeconds: number;
}

/** One model to benchmark, how long to train it and on which schedule. */
export interface BenchmarkEntry {
  task: Task;
  epochs: number;
  schedule: ScheduleSpec;
}

/** How hyper-parameters are chosen (issue 12's re-tuning protocol). */
export interface TuningProtocol {
  /**
   * Tuning runs last this fraction of the measured run's steps, in [¼, 1], with the schedule
   * compressed to their length; 1 tunes at the full budget.
   */
  tuneFraction: number;
  /** At most this many points are added to a grid whose best value sits at an edge. */
  maxExtensions: number;
}

/** The default run's protocol: tuning at a quarter of the budget, up to 3 extensions per grid. */
export const DEFAULT_PROTOCOL: TuningProtocol = { tuneFraction: 0.25, maxExtensions: 3 };

/** Options of {@link runBenchmark}. */
export interface RunBenchmarkOptions {
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
  mode: 'default' | 'full';
  backend: string;
  simd: boolean | null;
  command: string;
  onRunStart?: (info: { model: string; optimizer: string; phase: string; steps: number }) => void;
  onProgress?: (event: ProgressEvent) => void;
  onRunEnd?: (summary: RunSummary) => void;
  /** Called after each model with the results so far (the CLI saves them: a stopped run keeps its finished models). */
  onModelDone?: (resultsSoFar: BenchResults) => void;
}

/** What tuning decided for one optimizer. */
interface Tuned {
  learningRate: number;
  /** The other tuned hyper-parameters' values. */
  tuned: Record<string, number>;
  searches: SearchResult[];
}

const cpuSeconds = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1e6;

const describeValues = (values: Record<string, number>): string => Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ');

/**
 * Runs the whole comparison under one protocol. For every model, each optimizer's learning rate
 * (then any other tuned hyper-parameter, one at a time) is chosen by validation loss on the
 * held-out split, from a grid that is extended past an edge choice ({@link gridSearch}); tuning
 * runs use the first seed and last `tuneFraction` of the measured run, on the same schedule
 * compressed to their length. Then every optimizer trains once per seed with its choice, on the
 * same schedule and seeds, and is evaluated on the test split (never used for tuning). AdamW is
 * tuned first because the hybrids' AdamW groups (embeddings, head, biases, gains) use its rate.
 */
export function runBenchmark(options: RunBenchmarkOptions): BenchResults {
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
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
  const models: ModelResult[] = [];
  for (const { task, epochs, schedule } of options.entries) {
    const steps = epochs * task.stepsPerEpoch;
    const tuneSteps = Math.max(1, Math.round(steps * protocol.tuneFraction));
    const progress = (optimizer: string, phase: string, total: number) => (step: number, loss: number): void => {
      options.onProgress?.({
        model: task.id, optimizer, phase, step, steps: total, loss,
        epoch: Math.min(epochs, Math.floor((step - 1) / task.stepsPerEpoch) + 1), epochs: total === steps ? epochs : 1,
      });
    };
    /** One run of `n` steps at peak rates `peak` and `auxPeak`, on the model's schedule compressed to n steps. */
    const run = (spec: OptimizerSpec, peak: number, auxPeak: number, tuned: Record<string, number>, seed: number, n: number,
      evaluateOn: 'validation' | 'test', phase: string): RunRecord => {
      options.onRunStart?.({ model: task.id, optimizer: spec.label, phase, steps: n });
      const record = trainRun({
        task, optimizer: spec, learningRate: runSchedule(peak, n, schedule), auxLearningRate: runSchedule(auxPeak, n, schedule),
        tuned, seed, steps: n, evaluateOn, onStep: progress(spec.label, phase, n),
      });
      options.onRunEnd?.({
        model: task.id, optimizer: spec.label, phase, steps: n, finalTrainLoss: finalLoss(record.losses), split: evaluateOn,
        evaluationLoss: record.evaluation.loss, diverged: record.diverged, trainSeconds: record.trainSeconds,
      });
      return record;
    };
    /**
     * The searches of one optimizer: the learning rate (unless `chosenLearningRates` gives it),
     * then each of `tunedAfter` at the values chosen so far.
     */
    const tune = (spec: OptimizerSpec, auxPeak: number): Tuned => {
      const values: Record<string, number> = Object.fromEntries((spec.tunedAfter ?? []).map((p) => [p.name, p.initial]));
      let learningRate = 0;
      const search = (parameter: string, grid: readonly number[], evaluate: (value: number) => RunRecord): SearchResult => {
        const all = parameter === 'learningRate' ? values : { learningRate, ...values };
        const fixed = Object.fromEntries(Object.entries(all).filter(([name]) => name !== parameter));
        const result = gridSearch({
          grid,
          maxExtensions: protocol.maxExtensions,
          evaluate: (value) => {
            const r = evaluate(value);
            return r.diverged ? null : r.evaluation.loss;
          },
        });
        return { parameter, ...result, fixed };
      };
      const phase = (assigned: Record<string, number>): string => `tune ${describeValues(assigned)}`;
      const given = chosen[spec.kind];
      const searches: SearchResult[] = [];
      if (given === undefined) {
        const lr = search('learningRate', spec.grid, (value) =>
          run(spec, value, auxPeak, values, firstSeed, tuneSteps, 'validation', phase({ lr: value, ...values })));
        searches.push(lr);
      }
      learningRate = given ?? (searches[0] as SearchResult).chosen;
      for (const p of spec.tunedAfter ?? []) {
        const s = search(p.name, p.grid, (value) =>
          run(spec, learningRate, auxPeak, { ...values, [p.name]: value }, firstSeed, tuneSteps, 'validation', phase({ lr: learningRate, ...values, [p.name]: value })));
        values[p.name] = s.chosen;
        searches.push(s);
      }
      return { learningRate, tuned: { ...values }, searches };
    };

    // AdamW first: its peak rate is also the hybrids' AdamW-group rate.
    const needsAuxiliary = options.optimizers.some((o) => o.usesAuxiliaryAdamW);
    const auxTuned = needsAuxiliary || options.optimizers.includes(auxiliary) ? tune(auxiliary, 0) : undefined;
    const auxPeak = auxTuned?.learningRate ?? 0;
    const tuned = new Map(options.optimizers.map((spec) => [spec.kind, spec === auxiliary && auxTuned !== undefined ? auxTuned : tune(spec, auxPeak)]));

    const records = new Map(options.optimizers.map((spec) => {
      const t = tuned.get(spec.kind) as Tuned;
      return [spec.kind, options.seeds.map((seed) => run(spec, t.learningRate, auxPeak, t.tuned, seed, steps, 'test', `seed ${seed}`))];
    }));

    const measured: MeasuredOptimizer[] = options.optimizers.map((spec) => {
      const t = tuned.get(spec.kind) as Tuned;
      return {
        kind: spec.kind,
        label: spec.label,
        hyperParameters: spec.hyperParameters,
        searches: t.searches,
        learningRate: t.learningRate,
        tuned: t.tuned,
        auxLearningRate: spec.usesAuxiliaryAdamW ? auxPeak : null,
        runs: (records.get(spec.kind) as RunRecord[]).map((r) => ({
          seed: r.seed,
          finalTrainLoss: finalLoss(r.losses),
          testLoss: r.evaluation.loss,
          testAccuracy: r.evaluation.accuracy,
          wallSeconds: r.trainSeconds,
          optimizerSeconds: r.optimizerSeconds,
          optimizerShare: r.trainSeconds > 0 ? r.optimizerSeconds / r.trainSeconds : 0,
          diverged: r.diverged,
          losses: r.losses,
          times: r.times,
        })),
      };
    });
    const model = task.buildModel();
    const parameters = model.countParams();
    model.dispose();
    models.push({
      id: task.id,
      title: task.title,
      modelSummary: task.modelSummary,
      parameters,
      data: task.data,
      batchSize: task.batchSize,
      stepsPerEpoch: task.stepsPerEpoch,
      epochs,
      steps,
      tuneSteps,
      schedule,
      scheduleDescription: describeSchedule(schedule),
      ...scoreAgainstTarget(measured),
    });
    options.onModelDone?.(collect());
  }
  return collect();

  /** The results so far (every finished model). */
  function collect(): BenchResults {
    const cpu = cpus();
    return {
      schemaVersion: RESULTS_SCHEMA_VERSION,
      tool: 'muon-tfjs bench',
      createdAt: new Date().toISOString(),
      command: options.command,
      machine: {
        cpu: cpu[0]?.model ?? 'unknown',
        cores: cpu.length,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        backend: `${options.backend} (tfjs ${tf.version_core})`,
        simd: options.simd,
      },
      config: {
        mode: options.mode,
        models: options.entries.map((e) => e.task.id),
        optimizers: [...kinds],
        seeds: [...options.seeds],
        epochs: Object.fromEntries(options.entries.map((e) => [e.task.id, e.epochs])),
        tuneFraction: protocol.tuneFraction,
        maxExtensions: protocol.maxExtensions,
        lrSelection: `lowest validation loss (held-out split) after ${protocol.tuneFraction === 1 ? 'the full' : `${protocol.tuneFraction} of the`} measured run's steps ` +
          `with the schedule compressed to that length, seed ${firstSeed}; a grid whose best value is at an edge is extended ` +
          `geometrically in that direction until the best is interior, at most ${protocol.maxExtensions} points`,
      },
      totalSeconds: (performance.now() - started) / 1000,
      totalCpuSeconds: cpuSeconds(process.cpuUsage(cpuStarted)),
      models: [...models],
    };
  }
}
