import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor, NamedTensorMap } from '@tensorflow/tfjs-core/dist/tensor_types.js';
import type { FusedStep } from '../transforms/fusedStep.js';
import type { GradientTransformation, SlotEncoding, SlotMap, StepContext, TensorMap } from '../transforms/gradientTransformation.js';
import { type AfterStepHook, AfterStepHooks } from './afterStepHooks.js';
import { backendFloatPrecision } from '../kernels/backendFloatPrecision.js';
import { assertStabilizersRepresentable } from './backendFloats.js';
import { DeviceStepGuard, type GuardedWrite } from './deviceStepGuard.js';
import { nonFiniteKeys } from './finiteness.js';
import { nonFiniteStepError } from './nonFiniteStepError.js';
import { syncReadsStall } from '../math/hostReads.js';
import { RestoredState, SLOT_SEPARATOR, parseCheckpoint } from './restoredState.js';
import { StepInputs } from './stepInputs.js';
import { type TapListener, type TapOptions, TapRegistry } from './tapRegistry.js';

/** The state of one variable: its slots, the shape it was created for, and the step that created it. */
interface VariableState {
  readonly shape: readonly number[];
  readonly slots: Map<string, tf.Variable>;
  /** The step whose first sight of the variable created this state. */
  readonly createdAtStep: number;
  /** The checkpoint entry its slots were restored from, if any (see `setWeights`). */
  readonly restoredFrom?: string;
}

/** What one step computed for one variable, before anything is written. */
interface ComputedUpdate {
  readonly name: string;
  readonly value: tf.Tensor;
  readonly slots: readonly { readonly slot: string; readonly variable: tf.Variable; readonly tensor: tf.Tensor }[];
  /** Present when a fused step computed it and checked its finiteness: the adapter does not check again. */
  readonly checked?: { readonly gradientFinite: boolean; readonly nonFiniteKeys: readonly string[] };
}

/**
 * A fused execution of part of the transformation (see {@link FusedStep}): the variables it
 * claims (those of one group), and the step, or why the group has none.
 */
export interface FusedExecution {
  /** The group it executes (`muon` for MuonOptimizer, a hybrid's group label). */
  readonly label: string;
  readonly step: FusedStep | string;
  claims(name: string, shape: readonly number[]): boolean;
}

/** How the steps of one group run; a row of {@link TransformOptimizer.describeExecution}. */
export interface ExecutionRow {
  readonly label: string;
  /** What the next step will run, taps aside: the fused step, or the composed transformation. */
  readonly strategy: 'fused' | 'composed';
  readonly reason: string;
  /** What the last committed step that updated this group ran; `none` before one. */
  readonly lastStep: 'fused' | 'composed' | 'none';
}

/**
 * The TF.js adapter: a real `tf.Optimizer` that runs a {@link GradientTransformation}.
 *
 * - State lives in non-trainable `tf.Variable`s keyed by the name of the variable they belong to,
 *   never by position, and is created on the first step that sees a variable.
 * - A step is all-or-nothing. Gradients are checked (known variable, shape, dtype; a variable
 *   without a gradient is skipped, as tfjs's own optimizers do); every new value, weights and
 *   state, is computed in one `tidy` and checked (finite) before anything is written; state created
 *   for the step is discarded if it fails. An error names the variable and changes nothing.
 * - `getWeights()` returns `iter` then `<variable>/<slot>` for every slot; `setWeights()` checks a
 *   checkpoint whole before replacing the state, and binds each entry to the variable of the first
 *   step that pairs with it by position, to the live variable of the same name or, only where that
 *   cannot take another live variable's state, to its renamed copy (see `RestoredState`).
 * - A subclass may execute part of the transformation fused ({@link createFusedExecutions}, e.g.
 *   Muon's whole step in the native addon): same values, same checks (the fused step reports the
 *   finiteness it found while computing), same commit; {@link describeExecution} says which ran.
 * - Around the transformation: taps ({@link tap}) observe named points of a step, free when
 *   unheard; extra per-step inputs ({@link provideStepInputs}) reach the transformations of the
 *   next step; after-step hooks ({@link addAfterStepHook}) run once the weights are committed.
 */
export abstract class TransformOptimizer extends tf.Optimizer {
  /**
   * `x instanceof MuonOptimizer` (or any class of this library) by the prototype chain. tf.Optimizer
   * defines `Symbol.hasInstance` as a duck type (any object with `minimize`, `computeGradients` and
   * `applyGradients`, so that optimizers from another copy of tfjs-core pass), and subclasses
   * inherit static members: without this, `adamw() instanceof MuonOptimizer` and
   * `tf.train.adam() instanceof HybridOptimizer` were true. `x instanceof tf.Optimizer` keeps its
   * duck type, which tfjs-layers relies on.
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, instance);
  }

  #transformation: GradientTransformation | undefined;
  #fusedExecutions: readonly FusedExecution[] | undefined;
  /** What the last committed step ran, per group label; and what the step being computed runs. */
  readonly #lastExecution = new Map<string, 'fused' | 'composed'>();
  #pendingExecution = new Map<string, 'fused' | 'composed'>();
  /** Live state: variable name → its slots. */
  readonly #state = new Map<string, VariableState>();
  /** Names of the optimizer's own state variables, which no gradient may target. */
  readonly #stateVariableNames = new Set<string>();
  /** State and step inputs from `setWeights()` not yet bound to a live variable. */
  readonly #restored = new RestoredState();
  readonly #taps = new TapRegistry();
  readonly #hooks = new AfterStepHooks();
  readonly #inputs = new StepInputs();
  #disposed = false;
  /** The backend whose float precision the stabilizers were last checked against. */
  #checkedBackend: string | undefined;

  /**
   * Refuse a step that would write NaN or ±Inf (default true): such a step changes no weight, no
   * state and no step count, and raises a {@link NonFiniteStepError} naming the values at fault.
   * Where it is decided is {@link finiteGuard}'s choice.
   */
  checkFinite = true;

  /**
   * Where {@link checkFinite} is decided. `'host'`: one small synchronous read per step, and the
   * step's own `applyGradients` throws (free on cpu and wasm). `'device'`: no read in the step;
   * the new values replace the old through `tf.where` on a flag computed on the device (optax's
   * `apply_if_finite`), a refused step also refuses the steps queued after it, and its error is
   * thrown by a later `applyGradients` (once its flags, read asynchronously, arrive) or by
   * {@link whenChecked}. `'auto'` (default): `'host'` on backends whose tensors live in CPU
   * memory (cpu, wasm, tensorflow), `'device'` elsewhere (webgl, webgpu), where a synchronous
   * read drains the GPU queue or, on webgpu in Node, fails.
   */
  finiteGuard: 'auto' | 'host' | 'device' = 'auto';

  readonly #guard = new DeviceStepGuard((lastCommittedStep) => this.rollBackTo(lastCommittedStep));

  /** Builds the transformation this optimizer runs; called once, on first use. */
  protected abstract createTransformation(): GradientTransformation;

  /** The transformation, built on first use (subclass fields are initialized by then). */
  protected get transformation(): GradientTransformation {
    this.#transformation ??= this.createTransformation();
    return this.#transformation;
  }

  /**
   * The fused executions of parts of the transformation (none by default), built once, on first
   * use: where one claims a variable and can run, it computes that variable's step instead of the
   * transformation; the checks and the commit stay the adapter's.
   */
  protected createFusedExecutions(): readonly FusedExecution[] {
    return [];
  }

  private get fusedExecutions(): readonly FusedExecution[] {
    this.#fusedExecutions ??= this.createFusedExecutions();
    return this.#fusedExecutions;
  }

  /**
   * Whether each group's steps run fused (e.g. Muon's whole step in the native kernel) or composed,
   * why, and what the last step ran. A step on which a listener hears one of the group's tap
   * points runs composed.
   */
  describeExecution(): ExecutionRow[] {
    return this.fusedExecutions.map(({ label, step }) => {
      const unavailable = typeof step === 'string' ? step : step.unavailable();
      return {
        label,
        strategy: unavailable === undefined ? 'fused' : 'composed',
        reason: unavailable ?? 'the fused kernel runs the whole step; the composition runs on steps where one of its tap points is heard',
        lastStep: this.#lastExecution.get(label) ?? 'none',
      };
    });
  }

  /**
   * One step. A step without any gradient changes nothing and does not count. After the weights
   * are written the step's inputs are released and the after-step hooks run.
   */
  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    this.assertNotDisposed();
    // A refusal found on the device since the last step is reported before anything else happens.
    this.#guard.throwUndelivered();
    this.assertStabilizersFitBackend();
    const grads = this.toGradientMap(variableGradients);
    const names = Object.keys(grads);
    if (names.length === 0) return;
    const params: Record<string, tf.Variable> = {};
    for (const name of names) {
      params[name] = this.checkGradient(name, grads[name] as tf.Tensor);
    }
    const step = this.iterations + 1;
    const onDevice = this.checkFinite && this.guardsOnDevice();
    const { created, consumed } = this.createMissingState(params, step);
    let computed: ComputedUpdate[] = [];
    try {
      const inputs = this.#restored.stepInputs(params, this.#inputs.current, this.getClassName());
      const context: StepContext = { step, inputs, taps: this.#taps.forStep(step) };
      // tidy keeps every tensor reachable from the returned objects: the new values.
      computed = tf.tidy(() => this.compute(grads, params, context) as unknown as tf.TensorContainer) as unknown as ComputedUpdate[];
      if (this.checkFinite && !onDevice) this.assertFinite(step, computed, grads);
    } catch (error) {
      computed.forEach(({ value, slots }) => tf.dispose([value, ...slots.map((s) => s.tensor)]));
      this.discardState(created);
      throw error;
    }
    // Everything is computed (and, checked on the host, finite): commit. Nothing above has changed a variable.
    // Saved entries bound by this step are state now (a device refusal read at once puts them back).
    this.#restored.commitStep(consumed, names, this.getClassName());
    // The step counts before the device guard commits: a refusal it reads at once rolls the count back.
    this.incrementIterations();
    if (onDevice) {
      this.#guard.commitStep(step, computed.flatMap((c) => guardedWrites(c, params, this.transformation.encodedSlots ?? {})), grads);
    } else {
      for (const { name, value, slots } of computed) {
        (params[name] as tf.Variable).assign(value);
        value.dispose();
        for (const { variable, tensor } of slots) {
          variable.assign(tensor);
          tensor.dispose();
        }
      }
    }
    this.#pendingExecution.forEach((path, label) => this.#lastExecution.set(label, path));
    this.#inputs.release();
    this.#hooks.run(step, params, !this.checkFinite ? 'off' : onDevice ? this.#guard : 'host');
  }

  /**
   * Resolves once every step so far has been checked; rejects with the {@link NonFiniteStepError}
   * of a step refused on the device (see {@link finiteGuard}) that no `applyGradients` call has
   * thrown yet, delivering it (it is not thrown again). With the host guard every step is checked
   * when it returns, and this resolves at once.
   * @example
   * for (const batch of batches) optimizer.minimize(() => loss(batch));
   * await optimizer.whenChecked(); // throws if a step was refused on the GPU
   */
  whenChecked(): Promise<void> {
    return this.#guard.whenChecked();
  }

  /** Steps refused on the device so far (optax's `total_notfinite`); the host guard's refusals are thrown instead. */
  get refusedSteps(): number {
    return this.#guard.refusedSteps;
  }

  /**
   * Listens to a tap point of the transformation (e.g. `MUON_TAPS.newtonSchulzInput`, or the
   * `<label>/input` and `<label>/output` points of `observe`) on every step, or every `every`
   * steps. A point nobody hears on a step costs nothing on that step. Returns the function that
   * stops listening.
   * @example
   * const stop = optimizer.tap(MUON_TAPS.newtonSchulzOutput, ({ variable, value }) => log(variable, value.arraySync()), { every: 100 });
   */
  tap(point: string, listener: TapListener, options: TapOptions = {}): () => void {
    return this.#taps.add(point, listener, options, this.tapPoints, this.getClassName());
  }

  /** The points {@link tap} accepts: those the transformation declares it emits (a hybrid's: its groups'). */
  get tapPoints(): string[] {
    return [...(this.transformation.tapPoints ?? [])];
  }

  /**
   * Runs `hook` after every step, once the step's weights are committed, with a staging area for
   * its own changes (all-or-nothing; an error names the hook). Returns the function that removes it.
   * @example
   * optimizer.addAfterStepHook('maxNorm', ({ variables, assign }) => {
   *   const w = variables['dense/kernel'];
   *   if (w !== undefined) assign(w, tf.clipByValue(w, -1, 1));
   * });
   */
  addAfterStepHook(name: string, hook: AfterStepHook): () => void {
    return this.#hooks.add(name, hook);
  }

  /** Names of the after-step hooks, in the order they run. */
  get afterStepHookNames(): string[] {
    return this.#hooks.names;
  }

  /**
   * Provides extra inputs of `kind` for the next step (e.g. `hessianDiagonal` every k steps for
   * Sophia), as a map from variable name to a tensor of that variable's shape. They are copied and
   * checked now, reach the transformations as `context.inputs[kind]` on the next step, and are
   * released when that step commits. A kind no transformation reads ({@link stepInputKinds}) is refused.
   */
  provideStepInputs(kind: string, tensors: NamedTensorMap): void {
    // Under the device guard the inputs are not read here: a step whose inputs make it non-finite is
    // refused whole; their sign is not checked (that would be a read on the host every k steps).
    const declared = { known: this.stepInputKinds, nonNegative: this.transformation.nonNegativeStepInputs ?? [] };
    this.#inputs.provide(kind, tensors, declared, this.checkFinite && !this.guardsOnDevice(), this.getClassName());
  }

  /** The kinds {@link provideStepInputs} accepts: those the transformation declares it reads (a hybrid's: its groups'). */
  get stepInputKinds(): string[] {
    return [...(this.transformation.stepInputKinds ?? [])];
  }

  /**
   * The optimizer's state tensor `slot` (e.g. `momentum`, `m`, `v`) for a variable, or undefined
   * before the variable's first step. For diagnostics: read it, do not dispose or assign it.
   */
  getSlot(variableName: string, slot: string): tf.Variable | undefined {
    return this.#state.get(variableName)?.slots.get(slot);
  }

  /** Names of the variables this optimizer holds state for, in first-seen order. */
  get variableNames(): string[] {
    return [...this.#state.keys()];
  }

  /**
   * `iter`, then `<variable>/<slot>` for every slot (restored state not yet bound included), then
   * `<variable>/pendingInput:<kind>` for the step inputs provided for the next step. The tensors
   * are the optimizer's live state, as with tfjs's own optimizers: read or clone them, do not
   * dispose them.
   *
   * Pending inputs are saved rather than refused or dropped: Sophia's Hessian estimate is made
   * after step k for step k + 1, so with `sophiaHessianCallback` one is pending at every epoch end
   * that falls on an estimate. Refusing those saves would fail a user's ordinary checkpoint
   * callback; dropping the estimate would make the resumed step k + 1 differ from the one training
   * without a save takes. Saved, the reloaded model's next step receives it and resumes exactly.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    this.assertNotDisposed();
    // The step count is final once every step's flags are read (a refusal rolls it back).
    await this.#guard.settled();
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const [name, { slots }] of this.#state) {
      for (const [slot, variable] of slots) {
        weights.push({ name: `${name}${SLOT_SEPARATOR}${slot}`, tensor: variable });
      }
    }
    weights.push(...this.#restored.weights(this.#inputs.current));
    return weights;
  }

  /**
   * Replaces the whole state with a checkpoint, after checking all of it (`parseCheckpoint`); on
   * error nothing changes. The checkpoint's pending step inputs replace those provided before.
   * Entries bind to variables on the first step that sees them (see `RestoredState`); state for
   * variables never seen stays in the checkpoint (`getWeights` returns it), and the first step
   * names it in a warning.
   */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.assertNotDisposed();
    const nonNegative = new Set(this.transformation.nonNegativeSlots ?? []);
    const checkpoint = await parseCheckpoint(weightValues, nonNegative, this.getClassName(), this.transformation.encodedSlots ?? {});
    this.#restored.replace(checkpoint);
    this.discardState([...this.#state.keys()]);
    this.#inputs.release();
    this.iterations_ = checkpoint.iterations;
  }

  /**
   * While the state of the first step after a restore is being made, the saved name that step's
   * variable `name` pairs with by position (see `pairByPosition`): for a subclass whose own
   * restored data (a hybrid's routing decisions) must follow the same pairing.
   */
  protected restoredNameOf(name: string): string | undefined {
    return this.#restored.pairedName(name);
  }

  /**
   * Every optimizer of this package is rebuilt from its config by its options constructor.
   * tfjs-layers adds a `customObjects` entry to the config it deserializes: not an option.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { customObjects: _customObjects, ...options } = config;
    return new cls(options);
  }

  /** Frees all state; the optimizer refuses any further use. */
  override dispose(): void {
    this.disposeState();
    this.#guard.dispose();
    this.#inputs.release();
    this.#disposed = true;
    super.dispose();
  }

  /** Checks the transformation's ε-like constants against the current backend, once per backend. */
  private assertStabilizersFitBackend(): void {
    const name = tf.getBackend();
    if (name === this.#checkedBackend) return;
    const stabilizers = this.transformation.stabilizers ?? [];
    if (stabilizers.length > 0) assertStabilizersRepresentable(stabilizers, { name, floatPrecision: backendFloatPrecision() }, this.getClassName());
    this.#checkedBackend = name;
  }

  /**
   * Undoes what the steps after `lastCommittedStep` left, once the device guard has refused them
   * (each wrote nothing, so state they created still holds its initial or restored values): the
   * step count, and the state those steps created, which goes back to being absent, or to being a
   * checkpoint entry not yet bound. The all-or-nothing promise covers state creation too.
   */
  private rollBackTo(lastCommittedStep: number): void {
    this.iterations_ = lastCommittedStep;
    for (const [name, { slots, createdAtStep, restoredFrom }] of [...this.#state]) {
      if (createdAtStep <= lastCommittedStep) continue;
      if (restoredFrom !== undefined) this.#restored.putBack(restoredFrom, slots);
      this.discardState([name]);
    }
  }

  private guardsOnDevice(): boolean {
    return this.finiteGuard === 'device' || (this.finiteGuard === 'auto' && syncReadsStall());
  }

  private assertNotDisposed(): void {
    if (this.#disposed) throw new Error(`${this.getClassName()} was disposed; create a new optimizer (and restore a checkpoint with setWeights to resume)`);
  }

  private disposeState(): void {
    this.discardState([...this.#state.keys()]);
    this.#restored.dispose();
  }

  private discardState(names: readonly string[]): void {
    for (const name of names) {
      this.#state.get(name)?.slots.forEach((v) => {
        this.#stateVariableNames.delete(v.name);
        v.dispose();
      });
      this.#state.delete(name);
    }
  }

  /**
   * Runs the step (inside the step's tidy) and pairs every new value with its variable: the fused
   * executions that can run take their variables, the transformation the rest.
   */
  private compute(grads: Readonly<Record<string, tf.Tensor>>, params: Readonly<Record<string, tf.Variable>>, context: StepContext): ComputedUpdate[] {
    const names = Object.keys(grads);
    const state: Record<string, SlotMap> = {};
    for (const name of names) {
      state[name] = Object.fromEntries(this.slotsOf(name));
    }
    this.#pendingExecution = new Map();
    const computed = new Map<string, ComputedUpdate>();
    for (const { label, step, claims } of this.fusedExecutions) {
      const claimed = names.filter((name) => !computed.has(name) && claims(name, (params[name] as tf.Variable).shape));
      if (claimed.length === 0) continue;
      const runs = typeof step !== 'string' && step.unavailable() === undefined && !step.tapPoints.some((point) => context.taps.heard(point));
      this.#pendingExecution.set(label, runs ? 'fused' : 'composed');
      if (!runs) continue;
      const result = step.step(pick(grads, claimed), state, params, context);
      for (const name of claimed) {
        const nonFinite = new Set(result.nonFiniteValues.filter((v) => v.name === name).map(({ slot }) => (slot === undefined ? name : `${name}${SLOT_SEPARATOR}${slot}`)));
        computed.set(name, {
          ...this.pairWithVariables(name, params, result.values[name], result.state),
          checked: { gradientFinite: !result.nonFiniteGradients.includes(name), nonFiniteKeys: [...nonFinite] },
        });
      }
    }
    const rest = names.filter((name) => !computed.has(name));
    if (rest.length > 0) {
      const { updates, state: newState } = this.transformation.update(pick(grads, rest), state, params, context);
      for (const name of rest) {
        const update = updates[name];
        const param = params[name] as tf.Variable;
        if (update === undefined || !tf.util.arraysEqual(update.shape, param.shape)) {
          throw new Error(`${this.getClassName()}: the update of '${name}' is ${update === undefined ? 'missing' : `[${update.shape.join(', ')}]`}, expected [${param.shape.join(', ')}]; no variable was updated`);
        }
        computed.set(name, this.pairWithVariables(name, params, tf.add(param, update), newState));
      }
    }
    return names.map((name) => computed.get(name) as ComputedUpdate);
  }

  /** One variable's new value and new state, each checked against the variable it will be written to. */
  private pairWithVariables(name: string, params: Readonly<Record<string, tf.Variable>>, value: tf.Tensor | undefined, newState: Readonly<Record<string, SlotMap>>): ComputedUpdate {
    const param = params[name] as tf.Variable;
    if (value === undefined || !tf.util.arraysEqual(value.shape, param.shape)) {
      throw new Error(`${this.getClassName()}: the new value of '${name}' is ${value === undefined ? 'missing' : `[${value.shape.join(', ')}]`}, expected [${param.shape.join(', ')}]; no variable was updated`);
    }
    return {
      name,
      value,
      slots: [...this.slotsOf(name)].map(([slot, variable]) => {
        const tensor = newState[name]?.[slot];
        if (tensor === undefined || !tf.util.arraysEqual(tensor.shape, variable.shape)) {
          throw new Error(`${this.getClassName()}: the new '${slot}' state of '${name}' is ${tensor === undefined ? 'missing' : `[${tensor.shape.join(', ')}]`}, expected [${variable.shape.join(', ')}]; no variable was updated`);
        }
        return { slot, variable, tensor };
      }),
    };
  }

  /**
   * Refuses a step that would write NaN or ±Inf, with one read-back of flags for every new value.
   * Only on failure are the gradients read too, to say whether they were the cause.
   */
  private assertFinite(step: number, computed: readonly ComputedUpdate[], grads: Readonly<Record<string, tf.Tensor>>): void {
    // Values a fused step computed were checked while it computed them; only the rest are read back.
    const values = new Map<string, tf.Tensor>();
    for (const { name, value, slots, checked } of computed) {
      if (checked !== undefined) continue;
      values.set(name, value);
      for (const { slot, tensor } of slots) values.set(`${name}${SLOT_SEPARATOR}${slot}`, tensor);
    }
    const uncheckedBad = new Set(nonFiniteKeys(values));
    // Encoded slots (bfloat16 packed in int32) hold non-finite values as bit patterns: their
    // encoding reads them whole on the host. A synchronous read, as nonFiniteKeys' own: this is the
    // host guard, which runs by default only where reads are free (cpu, wasm; 'auto' puts webgl and
    // webgpu on the device guard, whose encoded check is `finiteOnDevice`), or where a caller chose
    // finiteGuard 'host' and its read-back.
    const encodings = this.transformation.encodedSlots ?? {};
    for (const { name, slots, checked } of computed) {
      if (checked !== undefined) continue;
      for (const { slot, tensor } of slots) {
        const encoding = encodings[slot];
        if (encoding !== undefined && tensor.size > 0 && !encoding.finite(tensor.dataSync() as tf.TypedArray)) uncheckedBad.add(`${name}${SLOT_SEPARATOR}${slot}`);
      }
    }
    const bad = computed.flatMap(({ name, slots, checked }) =>
      [name, ...slots.map(({ slot }) => `${name}${SLOT_SEPARATOR}${slot}`)].filter((key) => (checked === undefined ? uncheckedBad.has(key) : checked.nonFiniteKeys.includes(key))),
    );
    if (bad.length === 0) return;
    const uncheckedBadGradients = new Set(nonFiniteKeys(pick(grads, computed.filter((c) => c.checked === undefined).map((c) => c.name))));
    const badGradients = computed.filter(({ name, checked }) => (checked === undefined ? uncheckedBadGradients.has(name) : !checked.gradientFinite)).map((c) => c.name);
    throw nonFiniteStepError(step, bad, badGradients);
  }

  private slotsOf(name: string): Map<string, tf.Variable> {
    const state = this.#state.get(name);
    if (state === undefined) {
      throw new Error(`Internal error: no state for '${name}'`);
    }
    return state.slots;
  }

  /** Normalizes both forms `applyGradients` receives to a map; a variable without a gradient is skipped. */
  private toGradientMap(variableGradients: NamedTensorMap | NamedTensor[]): Record<string, tf.Tensor> {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map(({ name, tensor }) => [name, tensor] as const)
      : Object.entries(variableGradients ?? {});
    const grads: Record<string, tf.Tensor> = {};
    for (const [name, tensor] of entries) {
      if (Object.hasOwn(grads, name)) {
        throw new Error(`applyGradients: two gradients for variable '${name}'`);
      }
      // tf.variableGrads gives null for a variable the loss does not depend on (or a frozen layer).
      if (tensor === null || tensor === undefined) continue;
      grads[name] = tensor;
    }
    return grads;
  }

  /** Checks one gradient against its variable and its state, and returns the variable. */
  private checkGradient(name: string, grad: tf.Tensor): tf.Variable {
    const owner = this.getClassName();
    if (this.#stateVariableNames.has(name)) {
      throw new Error(`${owner}: got a gradient for '${name}', which is this optimizer's own state, not a trainable variable`);
    }
    const variable = tf.engine().registeredVariables[name];
    if (variable === undefined) {
      throw new Error(`${owner}: got a gradient for '${name}', but no variable of that name is registered`);
    }
    if (!(grad instanceof tf.Tensor)) {
      throw new Error(`${owner}: the gradient of '${name}' is not a tensor (got ${String(grad)})`);
    }
    if (grad.isDisposed) {
      throw new Error(`${owner}: the gradient of '${name}' was disposed before the step`);
    }
    if (!tf.util.arraysEqual(grad.shape, variable.shape)) {
      throw new Error(`${owner}: the gradient of '${name}' has shape [${grad.shape.join(', ')}] but the variable has shape [${variable.shape.join(', ')}]`);
    }
    if (variable.dtype !== 'float32' || grad.dtype !== 'float32') {
      throw new Error(`${owner}: '${name}' and its gradient must be float32; got variable ${variable.dtype}, gradient ${grad.dtype}`);
    }
    const state = this.#state.get(name);
    if (state !== undefined && !tf.util.arraysEqual([...state.shape], variable.shape)) {
      throw new Error(
        `${owner}: the state of '${name}' was made for shape [${state.shape.join(', ')}], but the variable now has shape [${variable.shape.join(', ')}] (re-created under the same name?); no variable was updated`,
      );
    }
    return variable;
  }

  /**
   * Creates the state of variables seen for the first time: restored slots where a saved entry
   * binds to them, else zeros. Returns what it created and which saved entries it used, so that a
   * failed step can discard the one and keep the other. All-or-nothing itself.
   */
  private createMissingState(params: Readonly<Record<string, tf.Variable>>, step: number): { created: string[]; consumed: string[] } {
    const fresh = Object.keys(params).filter((name) => !this.#state.has(name));
    const created: string[] = [];
    const initial = new Map<string, SlotMap>();
    try {
      // The pairing is proposed before `init`, which may consult it (a hybrid routes by it), and
      // taken only if every pair's saved slots are those `init` makes.
      this.#restored.pairFirstStep(fresh);
      for (const name of fresh) initial.set(name, this.transformation.init(name, params[name] as tf.Variable));
      const binding = this.#restored.bind(fresh, (name, saved) => slotsFit(saved, initial.get(name) as SlotMap));
      for (const name of fresh) {
        const param = params[name] as tf.Variable;
        const zeros = initial.get(name) as SlotMap;
        const savedName = binding.get(name);
        const saved = savedName === undefined ? undefined : this.#restored.slotsOf(savedName);
        if (saved !== undefined) this.checkRestoredSlots(saved, savedName as string, zeros, name);
        const slots = new Map<string, tf.Variable>();
        this.#state.set(name, { shape: [...param.shape], slots, createdAtStep: step, ...(savedName === undefined ? {} : { restoredFrom: savedName }) });
        created.push(name);
        for (const [slot, zero] of Object.entries(zeros)) {
          const variable = tf.variable(saved?.get(slot) ?? zero, false);
          slots.set(slot, variable);
          this.#stateVariableNames.add(variable.name);
        }
      }
      return { created, consumed: created.map((name) => binding.get(name)).filter((n): n is string => n !== undefined) };
    } catch (error) {
      this.discardState(created);
      throw error;
    } finally {
      initial.forEach((slots) => Object.values(slots).forEach((t) => t.dispose()));
    }
  }

  /** The restored slots must be exactly those the transformation keeps, with their shapes. */
  private checkRestoredSlots(saved: ReadonlyMap<string, tf.Tensor>, savedName: string, initial: SlotMap, name: string): void {
    const expected = Object.keys(initial);
    const encodings = this.transformation.encodedSlots ?? {};
    const described = (slot: string, t: tf.Tensor): string => `'${slot}' (${encodings[slot]?.format ?? t.dtype} [${t.shape.join(', ')}])`;
    for (const [slot, value] of saved) {
      if (!expected.includes(slot)) {
        // Another format of the same state (Muon's momentum in float32 or in bfloat16) is refused,
        // not converted: see storeInBfloat16.
        throw new Error(
          `Restored state for '${savedName}' (used for '${name}') has a '${slot}' slot (${value.dtype} [${value.shape.join(', ')}]), which ${this.getClassName()} does not keep for it: ` +
            `it keeps ${Object.entries(initial).map(([s, t]) => described(s, t)).join(', ')} (was the checkpoint saved with other options, such as momentumDtype?)`,
        );
      }
    }
    for (const [slot, zeros] of Object.entries(initial)) {
      const value = saved.get(slot);
      if (value === undefined) {
        throw new Error(`Restored state for '${savedName}' (used for '${name}') has no '${slot}' slot; it has ${[...saved.keys()].join(', ')}`);
      }
      if (!tf.util.arraysEqual(value.shape, zeros.shape) || value.dtype !== zeros.dtype) {
        throw new Error(`Restored '${savedName}/${slot}' is ${value.dtype} [${value.shape.join(', ')}], but '${name}' needs ${zeros.dtype} [${zeros.shape.join(', ')}]`);
      }
    }
  }
}

/** Whether saved slots are exactly those the transformation makes for a variable (`initial`), with their shapes and dtypes. */
function slotsFit(saved: ReadonlyMap<string, tf.Tensor>, initial: SlotMap): boolean {
  const slots = Object.entries(initial);
  return saved.size === slots.length && slots.every(([slot, zeros]) => {
    const value = saved.get(slot);
    return value !== undefined && value.dtype === zeros.dtype && tf.util.arraysEqual(value.shape, zeros.shape);
  });
}

/** A computed update as the device guard writes it: the variable's new value, then its slots. */
function guardedWrites({ name, value, slots }: ComputedUpdate, params: Readonly<Record<string, tf.Variable>>, encodings: Readonly<Record<string, SlotEncoding>>): GuardedWrite[] {
  return [
    { key: name, variable: params[name] as tf.Variable, value },
    ...slots.map(({ slot, variable, tensor }) => {
      const finite = encodings[slot]?.finiteOnDevice;
      return { key: `${name}${SLOT_SEPARATOR}${slot}`, variable, value: tensor, ...(finite !== undefined && { finite }) };
    }),
  ];
}

/** The entries of `map` for `names`, in that order. */
function pick(map: Readonly<Record<string, tf.Tensor>>, names: readonly string[]): TensorMap {
  return Object.fromEntries(names.map((name) => [name, map[name] as tf.Tensor]));
}
