import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// Registers every op's gradient, as the `@tensorflow/tfjs` umbrella package does (tfjs-core's own
// `dist/register_all_gradients.js` does not load under Node ESM).
import '@tensorflow/tfjs-layers';

/** The backends every numerical test runs on in Node. */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;
/** A backend a test may switch to: webgpu only through `webgpuBackend.ts`, which starts it in Node. */
export type TestBackend = (typeof TEST_BACKENDS)[number] | 'webgpu';

/** Switches the global TF.js engine to `name` and waits until it is ready. */
export async function useBackend(name: TestBackend): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new Error(`TF.js backend '${name}' failed to initialize`);
  }
  await tf.ready();
}
