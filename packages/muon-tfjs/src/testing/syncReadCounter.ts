import * as tf from '@tensorflow/tfjs-core';

/**
 * Counts the current backend's synchronous reads while `run` runs (awaited): `readSync` is where
 * `dataSync`, `arraySync` and `bufferSync` land through the engine, so a count of 0 means no
 * synchronous read-back at all. Asynchronous `data()` goes through `read` and is not counted.
 */
export async function countSyncReads(run: () => unknown): Promise<number> {
  const backend = tf.backend();
  const original = backend.readSync;
  let reads = 0;
  backend.readSync = function (this: tf.KernelBackend, ...args: Parameters<tf.KernelBackend['readSync']>) {
    reads += 1;
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    backend.readSync = original;
  }
  return reads;
}
