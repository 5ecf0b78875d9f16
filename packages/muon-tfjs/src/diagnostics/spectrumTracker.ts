import * as tf from '@tensorflow/tfjs-core';
import type { AfterStepHook } from '../adapter/afterStepHooks.js';
import type { TapListener, TapOptions } from '../adapter/tapRegistry.js';
import { readOnHost, syncReadsStall } from '../math/hostReads.js';
import { MUON_TAPS } from '../transforms/scaleByMuon.js';
import { type Float64Matrix, polarFactor } from './polarFactor.js';
import { spectrumOf, type SpectrumQuantiles } from './spectrumOf.js';

/** What a {@link SpectrumTracker} needs of an optimizer: its taps and after-step hooks (every muon-tfjs optimizer). */
export interface TrackableOptimizer {
  tap(point: string, listener: TapListener, options?: TapOptions): () => void;
  addAfterStepHook(name: string, hook: AfterStepHook): () => void;
}

/** Options of {@link spectrumTracker}. */
export interface SpectrumTrackerOptions {
  /** Track the optimizer steps whose index is a multiple of `every` (a positive integer; default 100). */
  readonly every?: number;
  /** Receives each record as one JSON line (ending in `\n`), e.g. `(line) => stream.write(line)`. */
  readonly write?: (line: string) => void;
  /**
   * Also compute the exact polar factor of the Newton–Schulz input (float64 SVD, `polarFactor`) and
   * report the output's distance to it. Expensive: about 1.3 s for one 128×512 matrix on a loaded
   * 2-core machine, against about 10 ms for a spectrum; off by default (see
   * {@link NewtonSchulzOutputStats.polarDistance} for the cheap distance always reported).
   */
  readonly exactPolar?: boolean;
  /** Keep the full singular values of the momentum, the NS input and the NS output in each record (for histograms). */
  readonly singularValues?: boolean;
  /** Keep the records in {@link SpectrumTracker.records} (default true); turn off for very long runs that only `write`. */
  readonly keepRecords?: boolean;
}

/** The spectrum of one Frobenius-normalized matrix, as `spectrumOf` reports it. */
export interface NormalizedSpectrumStats extends SpectrumQuantiles {
  /** σ₁ of M/‖M‖_F. */
  readonly max: number;
  /** σ_r of M/‖M‖_F (r = min(fanIn, fanOut)). */
  readonly min: number;
  readonly stableRank: number;
  readonly topEnergy: number;
  /** All r singular values of M/‖M‖_F, descending, when the tracker's `singularValues` option is set. */
  readonly singularValues?: number[];
}

/** The singular values of Newton–Schulz's output O itself (not normalized): ideally all 1. */
export interface NewtonSchulzOutputStats {
  readonly min: number;
  /** σ at descending index ⌈r/2⌉ − 1 (the q50 of the paper's convention). */
  readonly median: number;
  readonly max: number;
  /**
   * ‖O − polar(O)‖_F / √r = √(Σ(σᵢ(O) − 1)²/r), from O's own spectrum at no extra cost. Each
   * Newton–Schulz iteration is an odd polynomial of its input X, so in exact arithmetic O = U·p(Σ)·Vᵀ
   * keeps X's singular vectors and polar(O) = polar(X) = UVᵀ (wherever p(σ) > 0): this is then the
   * distance to the exact polar factor of the input, relative to ‖UVᵀ‖_F = √r. Float32 round-off
   * perturbs the singular vectors of nearly equal σ; `exactPolarDistance` measures without that assumption.
   */
  readonly polarDistance: number;
  /** ‖O − polar(X)‖_F / ‖polar(X)‖_F with polar(X) from a float64 SVD of the input X (only with `exactPolar`). */
  readonly exactPolarDistance?: number;
  /** All r singular values of O, descending, when the tracker's `singularValues` option is set. */
  readonly singularValues?: number[];
}

/** One JSON line of the tracker: one Muon matrix at one tracked step. */
export interface SpectrumRecord {
  /** The optimizer step (1-based), after which the record was taken. */
  readonly step: number;
  readonly variable: string;
  /** The `[fanIn, fanOut]` matrix view Muon orthogonalizes. */
  readonly shape: readonly [number, number];
  /** Spectrum of the momentum M/‖M‖_F: what arXiv 2606.04058 tracks (MUON_TAPS.momentum). */
  readonly momentum: NormalizedSpectrumStats;
  /**
   * Spectrum of what Newton–Schulz actually received, normalized: the Nesterov look-ahead
   * (1−β)g + βM when the optimizer uses `nesterov` (the default), else M itself.
   */
  readonly newtonSchulzInput: NormalizedSpectrumStats;
  /** Newton–Schulz's output O (before the shape scale and the learning rate). */
  readonly newtonSchulzOutput: NewtonSchulzOutputStats;
  /** RMS of the step's actual weight change ΔW = W_after − W_before (learning rate, shape scale and weight decay included). */
  readonly updateRms: number;
}

/**
 * A spectrum tracker: attached to an optimizer, it records Muon's spectra every `every` steps.
 * It is also a tfjs-layers `model.fit` callback (a `CustomCallbackArgs` object: `onTrainBegin`
 * starts it, `onTrainEnd` stops it).
 */
export interface SpectrumTracker {
  /** Subscribes to the optimizer's taps and after-step hooks (idempotent). */
  start(): void;
  /** Unsubscribes (idempotent); values held for an unfinished step are freed. */
  stop(): void;
  /** The records so far (unless `keepRecords: false`). */
  readonly records: readonly SpectrumRecord[];
  /** Seconds the tracker spent (reading tensors back, spectra, ΔW), the whole of its cost. */
  readonly seconds: number;
  /** The steps tracked so far (recorded; on webgl/webgpu, once their values have arrived). */
  readonly trackedSteps: number;
  /**
   * Resolves once every step tracked so far is recorded and written: at once on cpu and wasm, where
   * records are made during the step; on webgl and webgpu once their asynchronous reads arrive.
   * Rejects with the first error a delayed record met (a failed read, or `write` throwing).
   */
  whenRecorded(): Promise<void>;
  /** `model.fit` callback: starts the tracker. */
  onTrainBegin(): Promise<void>;
  /** `model.fit` callback: stops the tracker. */
  onTrainEnd(): Promise<void>;
}

/** The tap values of one matrix at a tracked step, kept (the taps' own are valid only during the call) until the step is committed. */
interface Captured {
  momentum?: tf.Tensor;
  newtonSchulzInput?: tf.Tensor;
  newtonSchulzOutput?: tf.Tensor;
  /** The weight before the step, to measure ΔW. */
  before?: tf.Tensor;
}

/** A captured matrix's values on the host, once read. */
interface Arrived {
  readonly variable: string;
  readonly momentum: Float64Matrix;
  readonly newtonSchulzInput: Float64Matrix;
  readonly newtonSchulzOutput: Float64Matrix;
  readonly updateRms: number;
}

let trackerCount = 0;

/** A `[fanIn, fanOut]` matrix from its float32 values (exact in float64). */
function toMatrix(value: tf.Tensor, values: ArrayLike<number>): Float64Matrix {
  const [rows, cols] = value.shape as [number, number];
  return { rows, cols, data: Float64Array.from(values) };
}

const isZero = (m: Float64Matrix): boolean => m.data.every((x) => x === 0);

function normalizedStats(matrix: Float64Matrix, keep: boolean): NormalizedSpectrumStats {
  const s = spectrumOf(matrix);
  const sigma = s.singularValues;
  return {
    ...s.quantiles,
    max: sigma[0] as number,
    min: sigma[sigma.length - 1] as number,
    stableRank: s.stableRank,
    topEnergy: s.topEnergy,
    ...(keep && { singularValues: Array.from(sigma) }),
  };
}

function outputStats(output: Float64Matrix, input: Float64Matrix | undefined, keep: boolean): NewtonSchulzOutputStats {
  let sumSquares = 0;
  for (const x of output.data) sumSquares += x * x;
  const r = Math.min(output.rows, output.cols);
  // spectrumOf refuses the zero matrix; a zero output (zero gradient) has every σ = 0.
  const sigma = sumSquares === 0 ? new Float64Array(r) : spectrumOf(output).singularValues.map((s) => s * Math.sqrt(sumSquares));
  let deviation = 0;
  for (const s of sigma) deviation += (s - 1) ** 2;
  let exactPolarDistance: number | undefined;
  if (input !== undefined) {
    const polar = polarFactor(input);
    let difference = 0;
    for (let i = 0; i < polar.data.length; i++) difference += ((output.data[i] as number) - (polar.data[i] as number)) ** 2;
    exactPolarDistance = Math.sqrt(difference / r); // ‖UVᵀ‖²_F = r
  }
  return {
    min: sigma[r - 1] as number,
    median: sigma[Math.ceil(r / 2) - 1] as number,
    max: sigma[0] as number,
    polarDistance: Math.sqrt(deviation / r),
    ...(exactPolarDistance !== undefined && { exactPolarDistance }),
    ...(keep && { singularValues: Array.from(sigma) }),
  };
}

/**
 * Tracks Muon's spectra while training, through the optimizer's taps (free on the steps it does
 * not track): every `every` steps, for each matrix Muon orthogonalizes, the descending-rank
 * quantiles of the momentum M/‖M‖_F (as arXiv 2606.04058 measures them) and of the Newton–Schulz
 * input (the Nesterov look-ahead when `nesterov`), the singular values of the Newton–Schulz output
 * with its distance to the polar factor, and the RMS of the actual weight change. One JSON line
 * per matrix and tracked step goes to `write`.
 *
 * Cost, all of it on tracked steps only: per matrix `[m, n]` with k = min(m, n), three read-backs
 * and three Gram spectra of k²·max(m, n) + (2/3)k³ float64 multiply-adds each (`spectrumOf`), one
 * weight copy and a subtraction; {@link SpectrumTracker.seconds} reports the time spent. With
 * `exactPolar`, add one float64 SVD per matrix (seconds each beyond 128 on a side).
 *
 * On cpu and wasm the values are read during the tracked step and its records are written before
 * the step returns. On webgl and webgpu nothing is read synchronously: the tap values are kept on
 * the device and read with `data()` after the step, and the records follow when they arrive, in
 * step order (`whenRecorded()` waits for them); the GPU queue never drains for the tracker.
 *
 * @example
 * ```ts
 * import { spectrumTracker } from 'muon-tfjs/diagnostics';
 * const tracker = spectrumTracker(optimizer, { every: 100, write: (line) => log.write(line) });
 * await model.fit(xs, ys, { epochs: 5, callbacks: [tracker] }); // starts and stops it
 * // or, in a custom loop: tracker.start(); ...optimizer.minimize(...)...; tracker.stop();
 * ```
 */
export function spectrumTracker(optimizer: TrackableOptimizer, options: SpectrumTrackerOptions = {}): SpectrumTracker {
  const every = options.every ?? 100;
  if (!Number.isInteger(every) || every < 1) {
    throw new Error(`spectrumTracker: options.every must be a positive integer, got ${String(every)}`);
  }
  if (options.write !== undefined && typeof options.write !== 'function') {
    throw new Error(`spectrumTracker: options.write must be a function, got ${typeof options.write}`);
  }
  const keep = options.singularValues ?? false;
  const exactPolar = options.exactPolar ?? false;
  const keepRecords = options.keepRecords ?? true;
  const hookName = `spectrumTracker#${++trackerCount}`;
  const records: SpectrumRecord[] = [];
  const pending = new Map<string, Captured>();
  let unsubscribe: (() => void)[] = [];
  let seconds = 0;
  let trackedSteps = 0;
  // The records of stalling backends, chained so that they are delivered in step order.
  let recorded: Promise<void> = Promise.resolve();
  let delayedFailure: Error | undefined;

  const timed = <T>(f: () => T): T => {
    const start = performance.now();
    try {
      return f();
    } finally {
      seconds += (performance.now() - start) / 1000;
    }
  };
  const disposeCaptured = (p: Captured): void => {
    tf.dispose([p.momentum, p.newtonSchulzInput, p.newtonSchulzOutput, p.before].filter((t): t is tf.Tensor => t !== undefined));
  };
  const clearPending = (): void => {
    pending.forEach(disposeCaptured);
    pending.clear();
  };
  let pendingStep = 0;
  const entry = (step: number, variable: string): Captured => {
    // Values of a step that aborted before its hook ran are dropped, not mixed into this one.
    if (step !== pendingStep) {
      clearPending();
      pendingStep = step;
    }
    let p = pending.get(variable);
    if (p === undefined) {
      p = {};
      pending.set(variable, p);
    }
    return p;
  };
  const capture = (key: 'momentum' | 'newtonSchulzInput' | 'newtonSchulzOutput'): TapListener => ({ step, variable, value }) => timed(() => {
    const p = entry(step, variable);
    p[key]?.dispose();
    p[key] = tf.keep(value.clone());
    if (key === 'newtonSchulzOutput') {
      // The weights are not yet written when Newton–Schulz runs: keep them to measure ΔW after the step.
      const weight = tf.engine().registeredVariables[variable];
      if (weight !== undefined) p.before = tf.keep(weight.clone());
    }
  });

  // A matrix that is still all zeros (no gradient has reached it) has no normalized spectrum: its
  // record is skipped for that step rather than filled with made-up numbers or aborting the step.
  const recordOf = (step: number, { variable, momentum, newtonSchulzInput, newtonSchulzOutput, updateRms }: Arrived): SpectrumRecord | undefined => {
    if (isZero(momentum) || isZero(newtonSchulzInput)) return undefined;
    return {
      step,
      variable,
      shape: [newtonSchulzInput.rows, newtonSchulzInput.cols],
      momentum: normalizedStats(momentum, keep),
      newtonSchulzInput: normalizedStats(newtonSchulzInput, keep),
      newtonSchulzOutput: outputStats(newtonSchulzOutput, exactPolar ? newtonSchulzInput : undefined, keep),
      updateRms,
    };
  };
  const deliver = (step: number, arrived: readonly Arrived[]): void => timed(() => {
    for (const values of arrived) {
      const record = recordOf(step, values);
      if (record === undefined) continue;
      if (keepRecords) records.push(record);
      options.write?.(`${JSON.stringify(record)}\n`);
    }
    trackedSteps++;
  });

  const afterStep: AfterStepHook = ({ step, variables }) => {
    if (pending.size === 0) return;
    const reads: Promise<Arrived>[] = [];
    const arrivedNow: Arrived[] = [];
    timed(() => {
      try {
        for (const [variable, p] of pending) {
          const { momentum, newtonSchulzInput, newtonSchulzOutput, before } = p;
          const after = variables[variable];
          if (momentum === undefined || newtonSchulzInput === undefined || newtonSchulzOutput === undefined || before === undefined || after === undefined) {
            continue; // a variable the step skipped: nothing complete to report
          }
          const rms = tf.keep(tf.tidy(() => tf.sqrt(tf.mean(tf.square(tf.sub(after, before))))));
          // readOnHost hands the values over at once on cpu and wasm (the record is then made
          // during the step, as there) and after an asynchronous read elsewhere; it disposes each.
          const values: { -readonly [K in keyof Arrived]?: Arrived[K] } = { variable };
          const parts = [
            readOnHost(momentum, (v) => (values.momentum = toMatrix(momentum, v))),
            readOnHost(newtonSchulzInput, (v) => (values.newtonSchulzInput = toMatrix(newtonSchulzInput, v))),
            readOnHost(newtonSchulzOutput, (v) => (values.newtonSchulzOutput = toMatrix(newtonSchulzOutput, v))),
            readOnHost(rms, (v) => (values.updateRms = v[0] as number)),
          ];
          before.dispose();
          pending.delete(variable);
          // Complete once the four reads have handed their values over.
          if (!syncReadsStall()) arrivedNow.push(values as Arrived);
          else reads.push(Promise.all(parts).then(() => values as Arrived));
        }
      } finally {
        clearPending();
      }
    });
    if (!syncReadsStall()) {
      deliver(step, arrivedNow);
      return;
    }
    const delivered = Promise.all([Promise.all(reads), recorded]).then(([arrived]) => deliver(step, arrived));
    recorded = delivered.catch((error: unknown) => {
      delayedFailure ??= error instanceof Error ? error : new Error(String(error));
    });
  };

  const tracker: SpectrumTracker = {
    start() {
      if (unsubscribe.length > 0) return;
      const tapOptions = { every };
      unsubscribe = [
        optimizer.tap(MUON_TAPS.momentum, capture('momentum'), tapOptions),
        optimizer.tap(MUON_TAPS.newtonSchulzInput, capture('newtonSchulzInput'), tapOptions),
        optimizer.tap(MUON_TAPS.newtonSchulzOutput, capture('newtonSchulzOutput'), tapOptions),
        optimizer.addAfterStepHook(hookName, afterStep),
      ];
    },
    stop() {
      unsubscribe.forEach((u) => u());
      unsubscribe = [];
      clearPending();
    },
    get records() {
      return records;
    },
    get seconds() {
      return seconds;
    },
    get trackedSteps() {
      return trackedSteps;
    },
    async whenRecorded() {
      await recorded;
      if (delayedFailure !== undefined) throw delayedFailure;
    },
    onTrainBegin: async () => tracker.start(),
    onTrainEnd: async () => tracker.stop(),
  };
  return tracker;
}
