import type { TransformOptimizer } from '../adapter/TransformOptimizer.js';

/**
 * Runs a step that the optimizer must refuse and returns its error, wherever the guard decides:
 * thrown by the step itself under the host guard (cpu, wasm), or read from `whenChecked()` under
 * the device guard (webgl, webgpu), where the step returns normally. Fails the test if the step
 * is accepted.
 */
export async function refusedStep(optimizer: TransformOptimizer, step: () => void): Promise<Error> {
  try {
    step();
  } catch (error) {
    return error as Error;
  }
  try {
    await optimizer.whenChecked();
  } catch (error) {
    return error as Error;
  }
  throw new Error('the step was accepted; it should have been refused');
}
