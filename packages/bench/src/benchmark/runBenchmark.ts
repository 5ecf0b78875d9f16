import { cpus, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { optimizerSpec, type OptimizerKind, type OptimizerSpec } from './optimizers.js';
import { RESULTS_SCHEMA_VERSION, type BenchResults, type GridPoint, type ModelResult, type OptimizerResult, type RunResult } from './results.js';
import { finalLoss, stat, stepsToTarget } from './stats.js';
import type { Task } from './task.js';
import { trainRun, type RunRecord } from './trainRun.js';

/** What the progress display is told at every step. */
export interface ProgressEvent {
  model: string;
  optimizer: string;
  /** 'grid lr=…' while searching the lr, 'seed N' for the measured runs. */
  phase: string;
  step: number;
  steps: number;
  epoch: number;
  epochs: number;
  loss: number;
}

/** One model to benchmark and how long to train it. */
export interface BenchmarkEntry {
  task: Task;
  epochs: number;
}

/** Options of {@link runBenchmark}. */
export interface RunBenchmarkOptions {
  entries: readonly BenchmarkEntry[];
  optimizers: readonly OptimizerKind[];
  seeds: readonly number[];
  /** Each grid point trains for this fraction of the measured run's steps (at least 1 step). */
  gridFraction: number;
  mode: 'default' | 'full';
  backend: string;
  simd: boolean | null;
  command: string;
  /** Override an optimizer's spec (tests use tiny grids). */
  specFor?: (kind: OptimizerKind) => OptimizerSpec;
  onRunStart?: (info: { model: string; optimizer: string; phase: string; steps: number }) => void;
  onProgress?: (event: ProgressEvent) => void;
  onRunEnd?: () => void;
}

/**
 * Runs the whole comparison: for every model, every optimizer picks its learning rate from its
 * grid by validation loss after a short run (seed = the first seed), then trains once per seed
 * with that lr and is evaluated on the test split. AdamW is tuned first because the Muon hybrid
 * uses AdamW's chosen lr for its AdamW group (embeddings, head, biases, gains).
 */
export function runBenchmark(options: RunBenchmarkOptions): BenchResults {
  const started = performance.now();
  const specFor = options.specFor ?? optimizerSpec;
  const firstSeed = options.seeds[0];
  if (firstSeed === undefined) throw new Error('runBenchmark: at least one seed is needed');
  const models: ModelResult[] = [];
  for (const { task, epochs } of options.entries) {
    const steps = epochs * task.stepsPerEpoch;
    const gridSteps = Math.max(1, Math.round(steps * options.gridFraction));
    const progress = (optimizer: string, phase: string, total: number) => (step: number, loss: number): void => {
      options.onProgress?.({
        model: task.id, optimizer, phase, step, steps: total, loss,
        epoch: Math.min(epochs, Math.floor((step - 1) / task.stepsPerEpoch) + 1), epochs: total === steps ? epochs : 1,
      });
    };
    const run = (spec: OptimizerSpec, learningRate: number, auxLearningRate: number, seed: number, n: number,
      evaluateOn: 'validation' | 'test', phase: string): RunRecord => {
      options.onRunStart?.({ model: task.id, optimizer: spec.label, phase, steps: n });
      try {
        return trainRun({ task, optimizer: spec, learningRate, auxLearningRate, seed, steps: n, evaluateOn, onStep: progress(spec.label, phase, n) });
      } finally {
        options.onRunEnd?.();
      }
    };
    const tune = (spec: OptimizerSpec, aux: number): { best: number; grid: GridPoint[] } => {
      const grid = spec.grid.map((lr): GridPoint => {
        const r = run(spec, lr, aux, firstSeed, gridSteps, 'validation', `grid lr=${lr}`);
        const loss = r.evaluation.loss;
        return { learningRate: lr, validationLoss: Number.isFinite(loss) && !r.diverged ? loss : null, diverged: r.diverged };
      });
      const ok = grid.filter((g) => g.validationLoss !== null);
      const best = ok.length === 0
        ? (spec.grid[0] as number)
        : ok.reduce((a, b) => ((b.validationLoss as number) < (a.validationLoss as number) ? b : a)).learningRate;
      return { best, grid };
    };

    // AdamW first: its lr is also the Muon hybrid's AdamW-group lr.
    const order = [...options.optimizers].sort((a, b) => Number(b === 'adamw') - Number(a === 'adamw'));
    let adamwLr: number | undefined;
    const tuned = new Map<OptimizerKind, { best: number; grid: GridPoint[] }>();
    for (const kind of order) {
      const spec = specFor(kind);
      if (spec.usesAuxiliaryAdamW && adamwLr === undefined) adamwLr = tune(specFor('adamw'), 0).best;
      const t = tune(spec, adamwLr ?? 0);
      if (kind === 'adamw') adamwLr = t.best;
      tuned.set(kind, t);
    }

    const records = new Map<OptimizerKind, RunRecord[]>();
    for (const kind of options.optimizers) {
      const spec = specFor(kind);
      const lr = (tuned.get(kind) as { best: number }).best;
      records.set(kind, options.seeds.map((seed) => run(spec, lr, adamwLr ?? 0, seed, steps, 'test', `seed ${seed}`)));
    }

    // Target loss for "steps to target": AdamW's mean final training loss (the published claim
    // is that Muon reaches AdamW's loss in fewer steps); without AdamW, the worst final loss.
    const finals = new Map([...records].map(([k, rs]) => [k, stat(rs.map((r) => finalLoss(r.losses))).mean]));
    const adamwFinal = finals.get('adamw');
    const targetLoss = adamwFinal !== undefined && Number.isFinite(adamwFinal)
      ? adamwFinal
      : Math.max(...[...finals.values()].filter((v) => Number.isFinite(v)));
    const targetRule = adamwFinal !== undefined ? "AdamW's mean final training loss" : 'the highest mean final training loss';

    const sgdWall = records.has('sgd') ? stat((records.get('sgd') as RunRecord[]).map((r) => r.trainSeconds)).mean : undefined;
    const optimizerResults: OptimizerResult[] = options.optimizers.map((kind) => {
      const spec = specFor(kind);
      const rs = records.get(kind) as RunRecord[];
      const runs: RunResult[] = rs.map((r) => ({
        seed: r.seed,
        finalTrainLoss: finalLoss(r.losses),
        testLoss: r.evaluation.loss,
        testAccuracy: r.evaluation.accuracy,
        stepsToTarget: stepsToTarget(r.losses, targetLoss),
        wallSeconds: r.trainSeconds,
        optimizerSeconds: r.optimizerSeconds,
        optimizerShare: r.trainSeconds > 0 ? r.optimizerSeconds / r.trainSeconds : 0,
        diverged: r.diverged,
        losses: r.losses,
        times: r.times,
      }));
      const wall = stat(runs.map((r) => r.wallSeconds));
      const reached = runs.filter((r) => r.stepsToTarget !== null);
      const t = tuned.get(kind) as { best: number; grid: GridPoint[] };
      return {
        kind,
        label: spec.label,
        hyperParameters: spec.hyperParameters,
        grid: t.grid,
        learningRate: t.best,
        auxLearningRate: specFor(kind).usesAuxiliaryAdamW ? (adamwLr ?? null) : null,
        runs,
        summary: {
          finalTrainLoss: stat(runs.map((r) => r.finalTrainLoss)),
          testLoss: stat(runs.map((r) => r.testLoss)),
          testAccuracy: stat(runs.map((r) => r.testAccuracy)),
          stepsToTarget: stat(reached.map((r) => r.stepsToTarget as number)),
          reachedTarget: reached.length,
          wallSeconds: wall,
          optimizerShare: stat(runs.map((r) => r.optimizerShare)),
          relativeTime: sgdWall === undefined || sgdWall <= 0 ? null : wall.mean / sgdWall,
        },
      };
    });
    const muon = optimizerResults.find((o) => o.kind === 'muon')?.summary;
    const adamw = optimizerResults.find((o) => o.kind === 'adamw')?.summary;
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
      gridSteps,
      targetLoss,
      targetRule,
      muonToAdamwStepRatio: muon !== undefined && adamw !== undefined && muon.reachedTarget > 0 && adamw.reachedTarget > 0
        ? muon.stepsToTarget.mean / adamw.stepsToTarget.mean
        : null,
      optimizers: optimizerResults,
    });
  }
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
      optimizers: [...options.optimizers],
      seeds: [...options.seeds],
      epochs: Object.fromEntries(options.entries.map((e) => [e.task.id, e.epochs])),
      gridFraction: options.gridFraction,
      lrSelection: `lowest validation loss after ${options.gridFraction} of the measured run's steps, seed ${firstSeed}`,
    },
    totalSeconds: (performance.now() - started) / 1000,
    models,
  };
}
