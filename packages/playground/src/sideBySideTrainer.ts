import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { newtonSchulz, toMatrix, type CoefficientPreset } from 'muon-tfjs';
import { initializeWeights } from 'muon-tfjs-bench/benchmark/initializeWeights';
import { createRandom, deriveSeed } from 'muon-tfjs-bench/benchmark/random';
import type { Batch, Task } from 'muon-tfjs-bench/benchmark/task';
import { type BackendTraits, createOptimizer, type PlaygroundOptimizer } from './createOptimizer.js';
import type { OptimizerId, PlaygroundState } from './playgroundState.js';
import { type Spectrum, spectrumOf } from 'muon-tfjs/diagnostics';

/** One optimizer's model and its record. */
export interface Run {
  readonly id: OptimizerId;
  readonly model: tfl.LayersModel;
  readonly optimizer: PlaygroundOptimizer;
  /** Training loss of every step (the batch's mean cross-entropy before the update). */
  readonly losses: number[];
  /** Held-out loss: [step, loss] every `evaluateEvery` steps. */
  readonly heldOut: [number, number][];
  /** Milliseconds of each whole training step (forward, backward, optimizer, loss read-back). */
  readonly stepMs: number[];
  /** Milliseconds of each `applyGradients` (exact on wasm, where kernels run synchronously). */
  readonly optimizerMs: number[];
  /** True once the loss became NaN or infinite; the run stops stepping. */
  diverged: boolean;
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

/**
 * Trains one model per optimizer side by side: the same seeded initialization (weights depend
 * only on the seed, visited in model order) and the same batches (one seeded stream, each batch
 * fed to every model), so the curves differ by the optimizer alone.
 */
export class SideBySideTrainer {
  readonly runs: Run[];
  readonly task: Task;
  step = 0;
  #batches: Iterator<Batch>;
  readonly #batchRandom;
  readonly #evaluateEvery: number;

  constructor(task: Task, state: PlaygroundState, backend: BackendTraits, evaluateEvery = 25) {
    this.task = task;
    this.#evaluateEvery = evaluateEvery;
    this.runs = state.optimizers.map((id) => {
      const model = task.buildModel();
      initializeWeights(model, deriveSeed(state.seed, 'init'));
      return { id, model, optimizer: createOptimizer(id, state, model, backend), losses: [], heldOut: [], stepMs: [], optimizerMs: [], diverged: false };
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

  #nextBatch(): Batch {
    let next = this.#batches.next();
    if (next.done === true) {
      this.#batches = this.task.epochBatches(this.#batchRandom)[Symbol.iterator]();
      next = this.#batches.next();
    }
    return next.value as Batch;
  }

  /**
   * One step of every optimizer on the same batch; with `spectra`, also the spectra of that layer
   * (read back to the CPU: call it every few steps only).
   */
  async trainStep(state: PlaygroundState, spectra?: SpectraView): Promise<LayerSpectra | undefined> {
    const batch = this.#nextBatch();
    const updates: Partial<Record<OptimizerId, Spectrum>> = {};
    let momentum: Spectrum | undefined;
    let orthogonalized: Spectrum | undefined;
    try {
      for (const run of this.runs) {
        if (run.diverged) continue;
        const start = performance.now();
        const variables = run.model.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => this.task.loss(run.model, batch), variables);
        run.optimizer.setStep(state, this.step);
        const watched = spectra === undefined ? undefined : this.weight(run, spectra.layer);
        const before = watched !== undefined && run.id !== 'muon' ? tf.clone(watched) : undefined;
        const optimizerStart = performance.now();
        try {
          run.optimizer.optimizer.applyGradients(grads);
        } finally {
          tf.dispose(grads);
        }
        const optimizerMs = performance.now() - optimizerStart;
        const loss = (await value.data())[0] as number;
        value.dispose();
        run.stepMs.push(performance.now() - start);
        run.optimizerMs.push(optimizerMs);
        run.losses.push(loss);
        if (!Number.isFinite(loss)) run.diverged = true;
        if (before !== undefined && watched !== undefined) {
          const update = tf.sub(before, watched);
          const spectrum = spectrumUnlessZero(update);
          if (spectrum !== undefined) updates[run.id] = spectrum;
          tf.dispose([update, before]);
        }
        if (run.id === 'muon' && spectra !== undefined) ({ momentum, orthogonalized } = this.muonSpectra(spectra));
      }
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    this.step += 1;
    if (this.step % this.#evaluateEvery === 0) this.evaluate();
    if (spectra === undefined) return undefined;
    return { step: this.step, updates, ...(momentum && { momentum }), ...(orthogonalized && { orthogonalized }) };
  }

  /**
   * The spectra of Muon's Newton–Schulz input (the layer's momentum) and of its output with the
   * view's coefficients, now; empty before Muon's first step or without a Muon run. The output is
   * recomputed from the momentum, so a new preset or step count shows at once, without a step.
   */
  muonSpectra(view: SpectraView): { momentum?: Spectrum; orthogonalized?: Spectrum } {
    const run = this.runs.find((r) => r.id === 'muon');
    const variable = run === undefined ? undefined : this.weight(run, view.layer);
    const slot = variable === undefined ? undefined : run?.optimizer.optimizer.getSlot(variable.name, 'momentum');
    if (slot === undefined) return {};
    const output = tf.tidy(() => newtonSchulz(toMatrix(slot), { coefficients: view.preset, steps: view.nsSteps }));
    try {
      const momentumSpectrum = spectrumUnlessZero(slot);
      const outputSpectrum = spectrumUnlessZero(output);
      return { ...(momentumSpectrum && { momentum: momentumSpectrum }), ...(outputSpectrum && { orthogonalized: outputSpectrum }) };
    } finally {
      output.dispose();
    }
  }

  /** Records every run's held-out loss at the current step. */
  evaluate(): void {
    for (const run of this.runs) {
      if (!run.diverged) run.heldOut.push([this.step, this.task.evaluate(run.model, 'validation').loss]);
    }
  }

  dispose(): void {
    for (const run of this.runs) {
      run.optimizer.optimizer.dispose();
      run.model.dispose();
    }
  }
}

/**
 * The spectrum of a matrix, or undefined for an all-zero one (a step at learning rate 0 at the end
 * of a decay schedule), whose normalized spectrum does not exist: `spectrumOf` refuses it.
 */
function spectrumUnlessZero(matrix: tf.Tensor): Spectrum | undefined {
  const norm = tf.tidy(() => tf.max(tf.abs(matrix)));
  const zero = norm.dataSync()[0] === 0;
  norm.dispose();
  return zero ? undefined : spectrumOf(matrix);
}
