import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { matrixShape, newtonSchulz, NonFiniteStepError, toMatrix, type CoefficientPreset } from 'muon-tfjs';
import { initializeWeights, createRandom, deriveSeed, type Batch, type Task } from 'muon-tfjs-tasks';
import { type BackendTraits, createOptimizer, OPTIMIZER_STYLE, type PlaygroundOptimizer } from './createOptimizer.js';
import type { OptimizerId, PlaygroundState } from './playgroundState.js';
import { type Float64Matrix, type Spectrum, spectrumOf } from 'muon-tfjs/diagnostics';

/** One optimizer's model and its record. */
export interface Run {
  readonly id: OptimizerId;
  readonly model: tfl.LayersModel;
  readonly optimizer: PlaygroundOptimizer;
  /** Training loss of every step read back so far (the batch's mean cross-entropy before the update). */
  readonly losses: number[];
  /** Held-out loss: [step, loss] every `evaluateEvery` steps, once read back. */
  readonly heldOut: [number, number][];
  /**
   * Milliseconds of each training step (forward, backward, optimizer): the work itself on wasm,
   * where kernels run synchronously; the time to queue it on WebGL/WebGPU.
   */
  readonly stepMs: number[];
  /** Milliseconds of each `applyGradients` (exact on wasm, queued work on WebGL/WebGPU). */
  readonly optimizerMs: number[];
  /** Set when the run diverged (a non-finite loss or a refused step): the page's message; it stops stepping. */
  divergence: string | undefined;
}

/** The spectra of one layer at one step. */
export interface LayerSpectra {
  readonly step: number;
  /** Muon's Newton–Schulz input: the momentum buffer of the layer. */
  readonly momentum?: Spectrum;
  /** The Newton–Schulz output of that momentum, with the view's preset and steps. */
  readonly orthogonalized?: Spectrum;
  /** The update the other optimizers applied at this step (weights before − after), by optimizer. */
  readonly updates: Partial<Record<OptimizerId, Spectrum>>;
}

/** Which coefficients the spectra view orthogonalizes the momentum with. */
export interface SpectraView {
  readonly layer: string;
  readonly preset: CoefficientPreset;
  readonly nsSteps: number;
}

/** A tensor waiting on the device for the next read-back, and what its values are for. */
interface PendingRead {
  readonly tensor: tf.Tensor;
  readonly use: (values: Float32Array) => void;
}

/**
 * Trains one model per optimizer side by side: the same seeded initialization (weights depend
 * only on the seed, visited in model order) and the same batches (one seeded stream, each batch
 * fed to every model), so the curves differ by the optimizer alone.
 *
 * Nothing in a step reads from the device: losses, held-out losses and spectra stay there as
 * tensors until {@link SideBySideTrainer.readBack} reads them all with one asynchronous `data()`
 * (a synchronous read drains the GPU queue on WebGL and fails on WebGPU). Each run's record is
 * therefore complete up to the last read-back, and a run that diverged is known from then on.
 */
export class SideBySideTrainer {
  readonly runs: Run[];
  readonly task: Task;
  step = 0;
  #batches: Iterator<Batch>;
  readonly #batchRandom;
  readonly #evaluateEvery: number;
  #pending: PendingRead[] = [];
  /** Spectra whose reads are pending, in step order. */
  #pendingSpectra: LayerSpectra[] = [];
  /** The read-back in progress: the next one waits for it, so records grow in step order. */
  #reading: Promise<unknown> = Promise.resolve();

  constructor(task: Task, state: PlaygroundState, backend: BackendTraits, evaluateEvery = 25) {
    this.task = task;
    this.#evaluateEvery = evaluateEvery;
    this.runs = state.optimizers.map((id) => {
      const model = task.buildModel();
      initializeWeights(model, deriveSeed(state.seed, 'init'));
      return { id, model, optimizer: createOptimizer(id, state, model, backend), losses: [], heldOut: [], stepMs: [], optimizerMs: [], divergence: undefined };
    });
    this.#batchRandom = createRandom(deriveSeed(state.seed, 'batches'));
    this.#batches = task.epochBatches(this.#batchRandom)[Symbol.iterator]();
  }

  /** The weight named `layer/kernel` of a run's model (names of later model copies carry suffixes). */
  weight(run: Run, originalName: string): tf.Variable | undefined {
    return run.model.trainableWeights.find((w) => w.originalName === originalName)?.read() as tf.Variable | undefined;
  }

  /** Original names of the weights the Muon group orthogonalizes (every matrix, when no Muon run). */
  matrixWeights(): string[] {
    const run = this.runs[0];
    if (run === undefined) return [];
    return run.model.trainableWeights.filter((w) => w.shape.length >= 2).map((w) => w.originalName)
      .filter((name) => {
        const muon = this.runs.find((r) => r.id === 'muon');
        if (muon === undefined) return true;
        const variable = this.weight(muon, name);
        const routed = 'describeRouting' in muon.optimizer.optimizer ? muon.optimizer.optimizer.describeRouting() : [];
        return routed.some((row) => row.variable === variable?.name && row.optimizer === 'muon');
      });
  }

  /** Whether some run still trains (not every one has diverged). */
  get training(): boolean {
    return this.runs.some((run) => run.divergence === undefined);
  }

  #nextBatch(): Batch {
    let next = this.#batches.next();
    if (next.done === true) {
      this.#batches = this.task.epochBatches(this.#batchRandom)[Symbol.iterator]();
      next = this.#batches.next();
    }
    return next.value as Batch;
  }

  #enqueue(tensor: tf.Tensor, use: (values: Float32Array) => void): void {
    this.#pending.push({ tensor, use });
  }

  /**
   * One step of every run that has not diverged, on the same batch. With `spectra`, the spectra
   * of that layer at this step are queued too; {@link readBack} returns them.
   */
  trainStep(state: PlaygroundState, spectra?: SpectraView): void {
    const batch = this.#nextBatch();
    const recorded: LayerSpectra | undefined = spectra === undefined ? undefined : { step: this.step + 1, updates: {} };
    try {
      for (const run of this.runs) {
        if (run.divergence !== undefined) continue;
        const start = performance.now();
        const variables = run.model.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => this.task.loss(run.model, batch), variables);
        this.#enqueue(value, ([loss]) => {
          run.losses.push(loss as number);
          if (!Number.isFinite(loss)) diverge(run);
        });
        run.optimizer.setStep(state, this.step);
        const watched = spectra === undefined ? undefined : this.weight(run, spectra.layer);
        const before = watched !== undefined && run.id !== 'muon' ? tf.clone(watched) : undefined;
        const optimizerStart = performance.now();
        try {
          run.optimizer.optimizer.applyGradients(grads);
        } catch (error) {
          tf.dispose(before);
          // A refused step (NaN or ±Inf: on cpu and wasm this step's, on WebGL/WebGPU an earlier
          // one's, decided on the device) is this run's divergence; any other error is a bug.
          if (!(error instanceof NonFiniteStepError)) throw error;
          diverge(run);
          continue;
        } finally {
          tf.dispose(grads);
        }
        const optimizerMs = performance.now() - optimizerStart;
        run.stepMs.push(performance.now() - start);
        run.optimizerMs.push(optimizerMs);
        if (recorded !== undefined && before !== undefined && watched !== undefined) {
          const update = tf.sub(before, watched);
          before.dispose();
          this.#enqueueSpectrum(update, (spectrum) => { recorded.updates[run.id] = spectrum; });
        }
        if (recorded !== undefined && run.id === 'muon' && spectra !== undefined) this.#enqueueMuonSpectra(spectra, recorded);
      }
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    this.step += 1;
    if (recorded !== undefined) this.#pendingSpectra.push(recorded);
    if (this.step % this.#evaluateEvery === 0) this.evaluate();
  }

  /** Queues the spectrum of `matrix` (given up by the caller) for the next read-back. */
  #enqueueSpectrum(matrix: tf.Tensor, use: (spectrum: Spectrum) => void): void {
    const { fanIn: rows, fanOut: cols } = matrixShape(matrix.shape);
    this.#enqueue(matrix, (values) => {
      const spectrum = spectrumIfDefined({ rows, cols, data: Float64Array.from(values) });
      if (spectrum !== undefined) use(spectrum);
    });
  }

  /**
   * Queues the spectra of Muon's Newton–Schulz input (the layer's momentum, now) and of its output
   * with the view's coefficients; nothing before Muon's first step or without a Muon run. The
   * output is recomputed from the momentum, so a new preset or step count shows without a step.
   */
  #enqueueMuonSpectra(view: SpectraView, into: { momentum?: Spectrum; orthogonalized?: Spectrum }): void {
    const run = this.runs.find((r) => r.id === 'muon');
    const variable = run === undefined ? undefined : this.weight(run, view.layer);
    const slot = variable === undefined ? undefined : run?.optimizer.optimizer.getSlot(variable.name, 'momentum');
    if (slot === undefined) return;
    this.#enqueueSpectrum(tf.clone(slot), (spectrum) => { into.momentum = spectrum; });
    this.#enqueueSpectrum(tf.tidy(() => newtonSchulz(toMatrix(slot), { coefficients: view.preset, steps: view.nsSteps })), (spectrum) => { into.orthogonalized = spectrum; });
  }

  /** The spectra of Muon's momentum for `view` and of its Newton–Schulz output, now (read back with everything pending). */
  async muonSpectra(view: SpectraView): Promise<{ momentum?: Spectrum; orthogonalized?: Spectrum }> {
    const spectra: { momentum?: Spectrum; orthogonalized?: Spectrum } = {};
    this.#enqueueMuonSpectra(view, spectra);
    await this.readBack();
    return spectra;
  }

  /** Queues every run's held-out loss at the current step (computed on the device; read back later). */
  evaluate(): void {
    const step = this.step;
    for (const run of this.runs) {
      if (run.divergence !== undefined) continue;
      const { lossSum, correct, predictions } = this.task.evaluationTotals(run.model, 'validation');
      correct.dispose();
      this.#enqueue(lossSum, ([sum]) => { run.heldOut.push([step, (sum as number) / predictions]); });
    }
  }

  /**
   * Reads everything the steps queued with one asynchronous `data()`, and records it: losses,
   * held-out losses, divergence. Returns the spectra completed by this read, in step order. Calls
   * made while one is in progress run after it.
   */
  readBack(): Promise<LayerSpectra[]> {
    const reads = this.#pending;
    const spectra = this.#pendingSpectra;
    this.#pending = [];
    this.#pendingSpectra = [];
    const done = this.#reading.then(async () => {
      if (reads.length === 0) return spectra;
      const all = tf.tidy(() => tf.concat(reads.map(({ tensor }) => tf.reshape(tensor, [-1]))));
      tf.dispose(reads.map(({ tensor }) => tensor));
      let values: Float32Array;
      try {
        values = (await all.data()) as Float32Array;
      } finally {
        all.dispose();
      }
      let offset = 0;
      for (const { tensor, use } of reads) {
        use(values.subarray(offset, offset + tensor.size));
        offset += tensor.size;
      }
      return spectra;
    });
    this.#reading = done.catch(() => undefined);
    return done;
  }

  /** Frees the models, optimizers and whatever still waits to be read. */
  dispose(): void {
    tf.dispose(this.#pending.map(({ tensor }) => tensor));
    this.#pending = [];
    for (const run of this.runs) {
      run.optimizer.optimizer.dispose();
      run.model.dispose();
    }
  }
}

/** Marks a run diverged with the advice the page shows (the first cause only). */
function diverge(run: Run): void {
  run.divergence ??= `${OPTIMIZER_STYLE[run.id].label} diverged: lower its learning rate`;
}


/**
 * The spectrum of a matrix read back to the host, or undefined where none exists: the all-zero
 * matrix (a step at learning rate 0 at the end of a decay schedule), whose normalized spectrum
 * `spectrumOf` refuses, and a matrix with NaN or ±Inf (a diverged run's).
 */
function spectrumIfDefined(matrix: Float64Matrix): Spectrum | undefined {
  const values = matrix.data;
  if (!values.every(Number.isFinite) || values.every((x) => x === 0)) return undefined;
  return spectrumOf(matrix);
}
