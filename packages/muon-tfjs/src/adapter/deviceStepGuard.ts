import * as tf from '@tensorflow/tfjs-core';
import { selectInt32OnWebGpu } from '../kernels/webgpuBfloat16Codec.js';
import { readOnHost } from '../math/hostReads.js';
import { type NonFiniteStepError, nonFiniteStepError } from './nonFiniteStepError.js';

/** A value a guarded step writes: `key` names it in errors (`<variable>` or `<variable>/<slot>`). */
export interface GuardedWrite {
  readonly key: string;
  readonly variable: tf.Variable;
  readonly value: tf.Tensor;
  /** A bool scalar, true where every value is finite, for a value stored encoded (a slot's `SlotEncoding`); absent: `tf.isFinite`. */
  readonly finite?: (value: tf.Tensor) => tf.Tensor;
}

/**
 * The all-or-nothing promise kept on the device, for backends where a read stalls the queue
 * (webgl, webgpu): optax's `apply_if_finite` in TF.js. A step's new values replace the old ones
 * through `tf.where(ok, new, old)`, where `ok` is decided on the device: every new value finite,
 * and no earlier step refused. That second condition is a latch (`#healthy`): once a step is
 * refused, the steps queued after it are refused too, until the host has read the flags, so that
 * nothing is ever computed from a state the host believes to be different, and the host's step
 * count (which the transformations read: bias corrections, schedules) can be rolled back exactly.
 *
 * The flags of each step are read asynchronously (`data()`, no stall). When a refusal arrives the
 * guard rolls the step count back to the last committed step, re-opens the latch, and keeps the
 * error until it is delivered once: thrown by the next `applyGradients` or rejected by
 * {@link whenChecked}, whichever comes first. Later steps are compared only within one epoch of
 * the latch, so a read that arrives after the rollback cannot refuse a step twice.
 */
export class DeviceStepGuard {
  /** True while no step since the last rollback was refused; a bool scalar on the device. */
  #healthy: tf.Variable | undefined;
  /** The step whose commit made the latch: a refusal of it (or of an earlier step) takes the latch back with it. */
  #healthyMadeAtStep = 0;
  /** The step last committed, whose hooks may follow. */
  #lastStep = 0;
  #epoch = 0;
  #pending = new Set<Promise<void>>();
  #undelivered: Error | undefined;
  /** Steps refused for their own values since the guard was made (optax's `total_notfinite`); the steps the latch refused after one are not counted. */
  #refusedSteps = 0;
  /** The latch's epoch when the last step was committed: the hooks that follow it write only within it. */
  #epochOfLastStep = 0;

  constructor(private readonly rollBackTo: (lastCommittedStep: number) => void) {}

  /** Steps refused so far, counted when their flags have been read. */
  get refusedSteps(): number {
    return this.#refusedSteps;
  }

  /** Throws the refusal read since the last delivery, once. */
  throwUndelivered(): void {
    const error = this.#undelivered;
    if (error === undefined) return;
    this.#undelivered = undefined;
    throw error;
  }

  /** Resolves once the flags of every guarded step so far have been read (and any rollback made). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /** {@link settled}, then rejects with an undelivered refusal (delivering it). */
  async whenChecked(): Promise<void> {
    await this.settled();
    this.throwUndelivered();
  }

  /**
   * Writes step `step`'s values where the device finds all of them finite and no earlier step
   * refused, else leaves every variable as it was. Takes ownership of the values (disposed).
   * `gradients` are checked too, only to say in the error whether they were the cause.
   */
  commitStep(step: number, writes: readonly GuardedWrite[], gradients: Readonly<Record<string, tf.Tensor>>): void {
    this.#epochOfLastStep = this.#epoch;
    this.#lastStep = step;
    const gradientNames = Object.keys(gradients);
    const keys = writes.map((w) => w.key);
    this.commitWhereFinite(writes, gradientNames.map((n) => gradients[n] as tf.Tensor), (flags) => {
      const badValues = keys.filter((_, i) => flags[i] !== 1);
      if (badValues.length === 0) return;
      const badGradients = gradientNames.filter((_, i) => flags[keys.length + i] !== 1);
      this.refuse(step, nonFiniteStepError(step, badValues, badGradients));
    });
  }

  /**
   * Writes the values an after-step hook staged after the last step where all are finite and
   * that step was committed; a non-finite staged value leaves the hook's changes unapplied and is
   * reported, as on cpu, by the next `applyGradients` (the step itself stays committed).
   */
  commitHook(describeFailure: (badKeys: readonly string[]) => Error, writes: readonly GuardedWrite[]): void {
    // A refusal read at once (a CPU-resident backend under finiteGuard 'device') has re-opened
    // the latch already: the hooks of the refused step must not write through it.
    if (writes.length === 0 || this.#epoch !== this.#epochOfLastStep) {
      writes.forEach(({ value }) => value.dispose());
      return;
    }
    const keys = writes.map((w) => w.key);
    this.commitWhereFinite(writes, [], (flags) => {
      const bad = keys.filter((_, i) => flags[i] !== 1);
      if (bad.length > 0) this.#undelivered ??= describeFailure(bad);
    });
  }

  dispose(): void {
    this.#healthy?.dispose();
    this.#healthy = undefined;
    this.#epoch++;
  }

  /**
   * The one write path: every `writes` value replaces its variable's where `ok` = the latch AND
   * all of them finite, computed on the device; the latch becomes `ok`. Then reads, without
   * stalling, one flag per write and per `alsoChecked` tensor, and hands them to `judge` unless
   * the latch was already closed (a follower of a refused step) or a rollback came in between.
   */
  private commitWhereFinite(writes: readonly GuardedWrite[], alsoChecked: readonly tf.Tensor[], judge: (flags: tf.TypedArray) => void): void {
    const healthy = this.healthy(this.#lastStep);
    const flags = tf.tidy(() => {
      const valueFlags = allFiniteFlags(writes.map((w) => w.value), writes.map((w) => w.finite));
      const ok = tf.logicalAnd(healthy, tf.all(valueFlags));
      for (const { variable, value } of writes) variable.assign(whereOk(ok, value, variable));
      const read = tf.concat([tf.reshape(healthy, [1]), valueFlags, allFiniteFlags(alsoChecked)]);
      healthy.assign(ok);
      return tf.cast(read, 'int32');
    });
    writes.forEach(({ value }) => value.dispose());
    const epoch = this.#epoch;
    this.track(
      readOnHost(flags, (values) => {
        // A step queued after a refused one was refused by the latch and is covered by its
        // rollback: only the first refusal counts and is reported.
        if (epoch === this.#epoch && values[0] === 1) judge(values.subarray(1));
      }),
    );
  }

  /** The latch, made open (true) by the commit of `step` where there is none. */
  private healthy(step: number): tf.Variable {
    if (this.#healthy === undefined) {
      const open = tf.scalar(true, 'bool');
      this.#healthy = tf.variable(open, false);
      open.dispose(); // the variable holds its own reference to the data
      this.#healthyMadeAtStep = step;
    }
    return this.#healthy;
  }

  private refuse(step: number, error: NonFiniteStepError): void {
    this.#refusedSteps++;
    this.#epoch++;
    // Re-opened: a latch the refused steps made goes with them (the next step makes a new one,
    // open), so a refused step leaves no tensor behind, as on the host.
    if (this.#healthyMadeAtStep >= step) {
      this.#healthy?.dispose();
      this.#healthy = undefined;
    } else {
      tf.tidy(() => this.#healthy?.assign(tf.scalar(true, 'bool')));
    }
    this.rollBackTo(step - 1);
    error.message += ` (step ${step}, refused on the device and reported once its flags were read; the steps queued after it were refused too, and the step count is back at ${step - 1})`;
    this.#undelivered = error;
  }

  private track(read: Promise<void>): void {
    const settled = read.catch((error: unknown) => {
      this.#undelivered ??= new Error(`reading a step's finiteness flags failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    this.#pending.add(settled);
    void settled.finally(() => this.#pending.delete(settled));
  }
}

/** One bool per tensor: all its entries finite (an empty tensor is finite; `tf.all` of one is false). */
function allFiniteFlags(tensors: readonly tf.Tensor[], finite: readonly (((value: tf.Tensor) => tf.Tensor) | undefined)[] = []): tf.Tensor1D {
  if (tensors.length === 0) return tf.tensor1d([], 'bool');
  return tf.stack(tensors.map((t, i) => (t.size === 0 ? tf.scalar(true, 'bool') : (finite[i]?.(t) ?? tf.all(tf.isFinite(t)))))) as tf.Tensor1D;
}

/**
 * `ok ? value : variable`. On webgpu an int32 value (a bfloat16-packed slot) goes through an exact
 * WGSL select: TF.js's `where` there reads int32 through float32 and would round its words.
 */
function whereOk(ok: tf.Tensor, value: tf.Tensor, variable: tf.Variable): tf.Tensor {
  return value.dtype === 'int32' && tf.getBackend() === 'webgpu' ? selectInt32OnWebGpu(ok, value, variable) : tf.where(ok, value, variable);
}
