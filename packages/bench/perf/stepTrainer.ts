import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Scheduled } from 'muon-tfjs';
import { initializeWeights, createRandom, deriveSeed, type Batch, type Task } from 'muon-tfjs-tasks';
import type { OptimizerContext, OptimizerSpec } from '../src/benchmark/protocol/optimizers.js';

/** The seed of every step-cost measurement: weights and batch order, the same for all optimizers. */
export const STEP_COST_SEED = 1;

/**
 * One optimizer training its own copy of a task's model on the task's seeded batch stream, one
 * step at a time, with the loop of `trainRun` (`tf.variableGrads` of the task loss plus the loss
 * read-back, then `optimizer.applyGradients`). Timing scripts step several of these in turns, so
 * a change in machine load hits every optimizer alike.
 */
export class StepTrainer {
  readonly optimizer: tf.Optimizer;
  /** Times of `applyGradients` (plus the spec's after-step work) of the recorded steps, ms. */
  readonly optimizerMs: number[] = [];
  /** Times of the whole recorded steps (forward, backward, optimizer), ms. */
  readonly trainMs: number[] = [];
  /** CPU time of the recorded optimizer steps (all the process's threads), ms: on a shared machine, the work a step does, whatever the wait. */
  readonly optimizerCpuMs: number[] = [];
  /** The optimizer's 1-based step index of each recorded step. */
  readonly steps: number[] = [];
  readonly model: tfl.LayersModel;
  private readonly variables: tf.Variable[];
  private readonly random = createRandom(deriveSeed(STEP_COST_SEED, 'batches'));
  private batches: Iterator<Batch>;

  constructor(
    private readonly task: Task,
    readonly spec: OptimizerSpec,
    learningRate: Scheduled,
    auxLearningRate: Scheduled,
    kernels: Pick<OptimizerContext, 'orthogonalize' | 'fused'> = {},
  ) {
    this.model = task.buildModel();
    initializeWeights(this.model, deriveSeed(STEP_COST_SEED, 'init'));
    this.optimizer = spec.create(learningRate, { model: this.model, auxLearningRate, ...kernels });
    this.variables = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.batches = task.epochBatches(this.random)[Symbol.iterator]();
  }

  /**
   * One training step; records its times when `record`. `inspect` sees the step's gradients (by
   * variable name) before the optimizer does: its time counts in the training step's, not the
   * optimizer step's (for scripts that measure something else).
   */
  step(record: boolean, inspect?: (grads: tf.NamedTensorMap) => void): void {
    let next = this.batches.next();
    if (next.done === true) {
      this.batches = this.task.epochBatches(this.random)[Symbol.iterator]();
      next = this.batches.next();
    }
    const batch = next.value as Batch;
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => this.task.loss(this.model, batch), this.variables);
    const loss = value.dataSync()[0] as number;
    value.dispose();
    if (!Number.isFinite(loss)) {
      tf.dispose([grads, batch.x, batch.y]);
      throw new Error(`${this.task.id}, ${this.spec.label}: the loss became ${loss}`);
    }
    inspect?.(grads);
    const cpu = process.cpuUsage();
    const t1 = performance.now();
    this.optimizer.applyGradients(grads);
    this.spec.afterStep?.({ optimizer: this.optimizer, model: this.model, batch });
    const t2 = performance.now();
    const used = process.cpuUsage(cpu);
    tf.dispose([grads, batch.x, batch.y]);
    if (record) {
      this.optimizerMs.push(t2 - t1);
      this.trainMs.push(t2 - t0);
      this.optimizerCpuMs.push((used.user + used.system) / 1e3);
      this.steps.push(this.optimizer.iterations);
    }
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}
