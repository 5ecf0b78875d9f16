import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor, NamedTensorMap } from '@tensorflow/tfjs-core/dist/tensor_types.js';
import type { GradientTransformation, SlotMap, StepContext } from '../transforms/gradientTransformation.js';
import { type AfterStepHook, AfterStepHooks } from './afterStepHooks.js';
import { nonFiniteKeys } from './finiteness.js';
import { StepInputs } from './stepInputs.js';
import { type TapListener, type TapOptions, TapRegistry } from './tapRegistry.js';
import { matchVariableName } from './variableNames.js';

/** Separates a variable name from a slot name in the names of `getWeights()`: `dense/kernel/momentum`. */
const SLOT_SEPARATOR = '/';

/**
 * The TF.js adapter: a real `tf.Optimizer` that runs a {@link GradientTransformation}.
 *
 * - State lives in non-trainable `tf.Variable`s keyed by the name of the variable they belong to,
 *   never by position, and is created on the first step that sees a variable.
 * - A step is all-or-nothing: gradients are checked (known variable, shape, dtype, finite) and new
 *   state is created before anything is computed; every new value is computed in one `tidy` and
 *   only then assigned. A bad gradient throws an error naming the variable and changes nothing.
 * - `getWeights()` returns `iter` then `<variable>/<slot>` for every slot; `setWeights()` restores
 *   them, matching each saved name to the live variable by exact name or, after a reload in the
 *   same process has renamed the variables (`kernel` → `kernel_1`), by base name.
 * - Around the transformation: taps ({@link tap}) observe named points of a step, free when
 *   unheard; extra per-step inputs ({@link provideStepInputs}) reach the transformations of the
 *   next step; after-step hooks ({@link addAfterStepHook}) run once the weights are committed.
 */
export abstract class TransformOptimizer extends tf.Optimizer {
  #transformation: GradientTransformation | undefined;
  /** Live state: variable name → slot name → value. */
  readonly #slots = new Map<string, Map<string, tf.Variable>>();
  /** State from `setWeights()` not yet bound to a live variable: saved variable name → slot → value. */
  #restored = new Map<string, Map<string, tf.Tensor>>();
  readonly #taps = new TapRegistry();
  readonly #hooks = new AfterStepHooks();
  readonly #inputs = new StepInputs();

  /**
   * Refuse a step whose gradients hold NaN or ±Inf (default true). The check reads one small tensor
   * back per step: free on the cpu and wasm backends, a pipeline stall on WebGL/WebGPU, where a
   * training loop that checks its loss itself may turn it off.
   */
  checkFinite = true;

  /** Builds the transformation this optimizer runs; called once, on first use. */
  protected abstract createTransformation(): GradientTransformation;

  /** The transformation, built on first use (subclass fields are initialized by then). */
  protected get transformation(): GradientTransformation {
    this.#transformation ??= this.createTransformation();
    return this.#transformation;
  }

  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const grads = toGradientMap(variableGradients);
    const names = Object.keys(grads);
    const params: Record<string, tf.Variable> = {};
    for (const name of names) {
      params[name] = this.checkGradient(name, grads[name] as tf.Tensor);
    }
    const bad = this.checkFinite ? nonFiniteKeys(grads) : [];
    if (bad.length > 0) {
      throw new Error(`Non-finite (NaN or Inf) gradient for ${bad.map((n) => `'${n}'`).join(', ')}; no variable was updated`);
    }
    // After every check: binding restored state to a variable consumes it from the checkpoint.
    this.createMissingSlots(params);

    const step = this.iterations + 1;
    const context: StepContext = { step, inputs: this.#inputs.current, taps: this.#taps.forStep(step) };
    const results = tf.tidy(() => {
      const state: Record<string, SlotMap> = {};
      for (const name of names) {
        state[name] = Object.fromEntries(this.slotsOf(name));
      }
      const { updates, state: newState } = this.transformation.update(grads, state, params, context);
      return names.map((name) => ({
        name,
        value: tf.add(params[name] as tf.Variable, updates[name] as tf.Tensor),
        slots: [...this.slotsOf(name)].map(([slot, variable]) => {
          const tensor = newState[name]?.[slot];
          if (tensor === undefined) {
            throw new Error(`Internal error: the transformation returned no '${slot}' for '${name}'`);
          }
          return { variable, tensor };
        }),
      }));
    });

    // Everything is computed: commit. Nothing above has changed a variable.
    for (const { name, value, slots } of results) {
      (params[name] as tf.Variable).assign(value);
      value.dispose();
      for (const { variable, tensor } of slots) {
        variable.assign(tensor);
        tensor.dispose();
      }
    }
    this.#inputs.release();
    this.incrementIterations();
    this.#hooks.run(step, params, this.checkFinite);
  }

  /**
   * Listens to a tap point of the transformation (e.g. `MUON_TAPS.newtonSchulzInput`, or the
   * `<label>/input` and `<label>/output` points of `observe`) on every step, or every `every`
   * steps. A point nobody hears on a step costs nothing on that step. Returns the function that
   * stops listening.
   * @example
   * const stop = optimizer.tap(MUON_TAPS.newtonSchulzOutput, ({ variable, value }) => log(variable, value.arraySync()), { every: 100 });
   */
  tap(point: string, listener: TapListener, options?: TapOptions): () => void {
    return this.#taps.add(point, listener, options);
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
   * released when that step commits.
   */
  provideStepInputs(kind: string, tensors: NamedTensorMap): void {
    this.#inputs.provide(kind, tensors, this.checkFinite, this.getClassName());
  }

  /**
   * The optimizer's state tensor `slot` (e.g. `momentum`, `m`, `v`) for a variable, or undefined
   * before the variable's first step. For diagnostics: read it, do not dispose or assign it.
   */
  getSlot(variableName: string, slot: string): tf.Variable | undefined {
    return this.#slots.get(variableName)?.get(slot);
  }

  /** Names of the variables this optimizer holds state for, in first-seen order. */
  get variableNames(): string[] {
    return [...this.#slots.keys()];
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const [name, slots] of this.#slots) {
      for (const [slot, variable] of slots) {
        weights.push({ name: `${name}${SLOT_SEPARATOR}${slot}`, tensor: variable });
      }
    }
    // State restored but not yet bound to a variable is still part of the checkpoint.
    for (const [name, slots] of this.#restored) {
      for (const [slot, tensor] of slots) {
        weights.push({ name: `${name}${SLOT_SEPARATOR}${slot}`, tensor });
      }
    }
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const [first] = weightValues;
    if (first === undefined || first.name !== 'iter') {
      throw new Error(`${this.getClassName()}.setWeights: the first weight must be 'iter', got '${first?.name ?? 'nothing'}'`);
    }
    const restored = new Map<string, Map<string, tf.Tensor>>();
    for (const { name, tensor } of weightValues.slice(1)) {
      const cut = name.lastIndexOf(SLOT_SEPARATOR);
      if (cut <= 0 || cut === name.length - 1) {
        throw new Error(`${this.getClassName()}.setWeights: weight '${name}' is not of the form '<variable>/<slot>'`);
      }
      const variable = name.slice(0, cut);
      const slots = restored.get(variable) ?? new Map<string, tf.Tensor>();
      slots.set(name.slice(cut + 1), tf.keep(tf.clone(tensor)));
      restored.set(variable, slots);
    }
    // All weights parsed: now replace the state.
    await this.extractIterations(weightValues);
    this.disposeState();
    this.#restored = restored;
  }

  /**
   * Every optimizer of this package is rebuilt from its config by its options constructor.
   * tfjs-layers adds a `customObjects` entry to the config it deserializes: not an option.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { customObjects: _customObjects, ...options } = config;
    return new cls(options);
  }

  override dispose(): void {
    this.disposeState();
    this.#inputs.release();
    super.dispose();
  }

  private disposeState(): void {
    for (const slots of this.#slots.values()) {
      slots.forEach((v) => v.dispose());
    }
    this.#slots.clear();
    for (const slots of this.#restored.values()) {
      slots.forEach((t) => t.dispose());
    }
    this.#restored.clear();
  }

  private slotsOf(name: string): Map<string, tf.Variable> {
    const slots = this.#slots.get(name);
    if (slots === undefined) {
      throw new Error(`Internal error: no state for '${name}'`);
    }
    return slots;
  }

  /** Checks one gradient against its variable and returns the variable. */
  private checkGradient(name: string, grad: tf.Tensor): tf.Variable {
    const variable = tf.engine().registeredVariables[name];
    if (variable === undefined) {
      throw new Error(`${this.getClassName()}: got a gradient for '${name}', but no variable of that name is registered`);
    }
    if (!(grad instanceof tf.Tensor)) {
      throw new Error(`${this.getClassName()}: the gradient of '${name}' is not a tensor (got ${String(grad)})`);
    }
    if (!tf.util.arraysEqual(grad.shape, variable.shape)) {
      throw new Error(`${this.getClassName()}: the gradient of '${name}' has shape [${grad.shape.join(', ')}] but the variable has shape [${variable.shape.join(', ')}]`);
    }
    if (variable.dtype !== 'float32' || grad.dtype !== 'float32') {
      throw new Error(`${this.getClassName()}: '${name}' and its gradient must be float32; got variable ${variable.dtype}, gradient ${grad.dtype}`);
    }
    return variable;
  }

  /**
   * Creates the state of variables seen for the first time, from restored weights when a saved
   * name matches, else zeros. All-or-nothing: on error, nothing new is kept.
   */
  private createMissingSlots(params: Readonly<Record<string, tf.Variable>>): void {
    const created: string[] = [];
    const consumed: string[] = [];
    try {
      for (const [name, param] of Object.entries(params)) {
        if (this.#slots.has(name)) {
          continue;
        }
        const initial = this.transformation.init(name, param);
        const savedName = matchVariableName(name, this.#restored.keys());
        const saved = savedName === undefined ? undefined : this.#restored.get(savedName);
        const slots = new Map<string, tf.Variable>();
        for (const [slot, zeros] of Object.entries(initial)) {
          const value = saved === undefined ? zeros : checkRestoredSlot(saved, savedName as string, slot, zeros, name);
          slots.set(slot, tf.variable(value, false));
          zeros.dispose();
        }
        this.#slots.set(name, slots);
        created.push(name);
        if (savedName !== undefined) {
          consumed.push(savedName);
        }
      }
    } catch (error) {
      this.discardSlots(created);
      throw error;
    }
    for (const savedName of consumed) {
      this.#restored.get(savedName)?.forEach((t) => t.dispose());
      this.#restored.delete(savedName);
    }
  }

  private discardSlots(names: readonly string[]): void {
    for (const name of names) {
      this.#slots.get(name)?.forEach((v) => v.dispose());
      this.#slots.delete(name);
    }
  }
}

function checkRestoredSlot(saved: ReadonlyMap<string, tf.Tensor>, savedName: string, slot: string, zeros: tf.Tensor, name: string): tf.Tensor {
  const value = saved.get(slot);
  if (value === undefined) {
    throw new Error(`Restored state for '${savedName}' (used for '${name}') has no '${slot}' slot; it has ${[...saved.keys()].join(', ')}`);
  }
  if (!tf.util.arraysEqual(value.shape, zeros.shape) || value.dtype !== zeros.dtype) {
    throw new Error(`Restored '${savedName}/${slot}' is ${value.dtype} [${value.shape.join(', ')}], but '${name}' needs ${zeros.dtype} [${zeros.shape.join(', ')}]`);
  }
  return value;
}

/** Normalizes both forms `applyGradients` receives (a map, or `model.fit`'s array) to a map. */
function toGradientMap(variableGradients: NamedTensorMap | NamedTensor[]): Record<string, tf.Tensor> {
  if (!Array.isArray(variableGradients)) {
    return { ...variableGradients };
  }
  const grads: Record<string, tf.Tensor> = {};
  for (const { name, tensor } of variableGradients) {
    if (name in grads) {
      throw new Error(`applyGradients: two gradients for variable '${name}'`);
    }
    grads[name] = tensor;
  }
  return grads;
}
