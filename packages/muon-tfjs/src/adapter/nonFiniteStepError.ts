/**
 * A step refused because it would have written NaN or ±Inf: no weight, no state and no step count
 * changed. On cpu and wasm it is thrown by the `applyGradients` call of that step; on webgl and
 * webgpu, where the step is guarded on the device, by a later `applyGradients` call or by
 * `whenChecked()`, once the step's flags have been read asynchronously.
 */
export class NonFiniteStepError extends Error {
  override readonly name = 'NonFiniteStepError';

  constructor(
    message: string,
    /** The 1-based step that was refused. */
    readonly step: number,
    /** The values at fault: variable names, `<variable>/<slot>` for state, or the gradients' variables. */
    readonly keys: readonly string[],
    /** What was not finite: the gradients given, or the new values the step computed from finite ones. */
    readonly source: 'gradient' | 'update',
  ) {
    super(message);
  }
}

/** The error for a step whose new values are not all finite; `badGradients` are the variables whose gradient was the cause. */
export function nonFiniteStepError(step: number, badValues: readonly string[], badGradients: readonly string[]): NonFiniteStepError {
  const list = (keys: readonly string[]): string => keys.map((k) => `'${k}'`).join(', ');
  if (badGradients.length > 0) {
    return new NonFiniteStepError(`Non-finite (NaN or Inf) gradient for ${list(badGradients)}; no variable was updated`, step, badGradients, 'gradient');
  }
  return new NonFiniteStepError(
    `The step computed non-finite (NaN or Inf) values for ${list(badValues)} from finite gradients ` +
      "(an overflow, e.g. AdamW's g² for |g| > 1.8e19 or a huge learning rate, a kernel returning NaN, or diverging coefficients); no variable was updated",
    step,
    badValues,
    'update',
  );
}
