import * as tf from '@tensorflow/tfjs-core';
import type { DeviceStepGuard } from './deviceStepGuard.js';
import { nonFiniteKeys } from './finiteness.js';

/** What an after-step hook sees: the step just committed and a staging area for its changes. */
export interface AfterStepContext {
  /** The 1-based index of the step whose weights were just written. */
  readonly step: number;
  /** The variables that step updated, by name. */
  readonly variables: Readonly<Record<string, tf.Variable>>;
  /**
   * Stages a new value (same shape and dtype) for a registered variable, one of the step's or any
   * other. Nothing is written until the hook returns; then every staged value is checked and all
   * are written together, or none. The value is copied: the caller keeps ownership of it.
   */
  assign(variable: tf.Variable, value: tf.Tensor): void;
}

/**
 * Code run once a step's weights are committed (QK-clip, weight constraints, logging). It must be
 * synchronous and change variables only through {@link AfterStepContext.assign}.
 */
export type AfterStepHook = (context: AfterStepContext) => void;

/**
 * How staged values are checked for NaN and ±Inf: not at all, with a synchronous read on the host,
 * or on the device by the optimizer's guard (then a non-finite staging is reported by a later step).
 */
export type StagedValueCheck = 'off' | 'host' | DeviceStepGuard;

/**
 * The after-step hooks of an optimizer, run in the order they were added. Each hook's changes are
 * all-or-nothing: a hook that throws, returns a promise, or stages a wrong-shaped or (when checked)
 * non-finite value has none of its changes applied, and the error names the hook. Hooks after a
 * failed one do not run (under the device guard, where a non-finite staging is found later, they
 * do); the optimizer step itself stays committed.
 */
export class AfterStepHooks {
  readonly #hooks = new Map<string, AfterStepHook>();

  /** Adds a hook under a unique name; returns the function that removes it. */
  add(name: string, hook: AfterStepHook): () => void {
    if (typeof name !== 'string' || name === '') {
      throw new Error(`addAfterStepHook: the name must be a non-empty string, got ${JSON.stringify(name)}`);
    }
    if (typeof hook !== 'function') {
      throw new Error(`addAfterStepHook '${name}': the hook must be a function, got ${typeof hook}`);
    }
    if (this.#hooks.has(name)) {
      throw new Error(`addAfterStepHook: a hook named '${name}' is already registered; remove it first or choose another name`);
    }
    this.#hooks.set(name, hook);
    return () => {
      if (this.#hooks.get(name) === hook) this.#hooks.delete(name);
    };
  }

  /** Names of the hooks, in the order they run. */
  get names(): string[] {
    return [...this.#hooks.keys()];
  }

  /** Runs every hook after step `step` has been committed. */
  run(step: number, variables: Readonly<Record<string, tf.Variable>>, check: StagedValueCheck): void {
    for (const [name, hook] of this.#hooks) {
      runOne(name, hook, step, variables, check);
    }
  }
}

function runOne(name: string, hook: AfterStepHook, step: number, variables: Readonly<Record<string, tf.Variable>>, check: StagedValueCheck): void {
  const staged = new Map<string, { variable: tf.Variable; value: tf.Tensor }>();
  const failure = (error: unknown): Error =>
    new Error(
      `After-step hook '${name}' failed at step ${step}: ${error instanceof Error ? error.message : String(error)}; none of its changes were applied (the optimizer step itself is committed)`,
      { cause: error },
    );
  const nonFinite = (bad: readonly string[]): Error => new Error(`it staged non-finite (NaN or Inf) values for ${bad.map((n) => `'${n}'`).join(', ')}`);
  const fail = (error: unknown): never => {
    staged.forEach(({ value }) => value.dispose());
    throw failure(error);
  };
  const assign = (variable: tf.Variable, value: tf.Tensor): void => {
    if (!(variable instanceof tf.Variable)) {
      throw new Error(`assign expects a tf.Variable, got ${String(variable)}`);
    }
    if (variable.isDisposed || tf.engine().registeredVariables[variable.name] !== variable) {
      throw new Error(`variable '${variable.name}' is disposed or not registered`);
    }
    if (!(value instanceof tf.Tensor) || value.isDisposed) {
      throw new Error(`the value staged for '${variable.name}' is not a live tensor`);
    }
    if (!tf.util.arraysEqual(value.shape, variable.shape) || value.dtype !== variable.dtype) {
      throw new Error(`the value staged for '${variable.name}' is ${value.dtype} [${value.shape.join(', ')}], but the variable is ${variable.dtype} [${variable.shape.join(', ')}]`);
    }
    staged.get(variable.name)?.value.dispose();
    staged.set(variable.name, { variable, value: tf.keep(value.clone()) });
  };
  try {
    tf.tidy(() => {
      const returned: unknown = hook({ step, variables, assign });
      // Checked here: tidy's own refusal of a promise does not say which code is at fault.
      if (returned instanceof Promise) throw new Error('the hook returned a promise; hooks run inside the step and must be synchronous');
    });
    const bad = check === 'host' ? nonFiniteKeys(new Map([...staged].map(([name, { value }]) => [name, value]))) : [];
    if (bad.length > 0) throw nonFinite(bad);
  } catch (error) {
    fail(error);
  }
  if (typeof check === 'object') {
    check.commitHook((bad) => failure(nonFinite(bad)), [...staged].map(([key, { variable, value }]) => ({ key, variable, value })));
    return;
  }
  for (const { variable, value } of staged.values()) {
    variable.assign(value);
    value.dispose();
  }
}
