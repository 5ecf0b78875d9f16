import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers every op's gradient (tfjs-core's own deep import is not Node-ESM-loadable).
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { installWasmTrainingKernels } from 'muon-tfjs';

/** Backends the benchmark can run on in Node. */
export const BENCH_BACKENDS = ['wasm', 'cpu'] as const;
export type BenchBackend = (typeof BENCH_BACKENDS)[number];

/**
 * Selects and initializes a TF.js backend. `wasm` (XNNPACK + SIMD, single thread in Node with
 * tfjs 4.22) is the default: about 50× faster than `cpu` on matmul here. On wasm the matmul
 * transpose fast path and the missing conv filter gradient are installed
 * (`installWasmTrainingKernels`, src/backends/).
 */
export async function setupBackend(name: BenchBackend): Promise<{ backend: string; simd: boolean | undefined }> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`could not initialize the TF.js "${name}" backend`);
  if (name === 'wasm') {
    installWasmTrainingKernels();
  }
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
  return { backend: name, simd };
}
