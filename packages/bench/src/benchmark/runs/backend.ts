import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers every op's gradient (tfjs-core's own deep import is not Node-ESM-loadable).
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describeFastestOrthogonalizer, installWasmTrainingKernels, nativeThreading } from 'muon-tfjs';

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

/**
 * The kernels a run's steps execute, for the report's machine line: the TF.js backend (wasm: its
 * XNNPACK threads, SIMD), and the kernel Muon's Newton–Schulz runs on (`fastestOrthogonalizer`,
 * the optimizers' default): native with its library and its most threads, and whether it follows
 * the load (each product on the CPUs other processes leave free; whole matrices side by side on
 * all: `nativeThreading`) or runs a fixed count, or TF.js and why not native.
 * `simd`: whether wasm runs SIMD (what {@link setupBackend} found; null: not known).
 * @example
 * describeKernels(true) // → "TF.js wasm (1 XNNPACK thread, SIMD); Muon's Newton–Schulz: native, oneDNN 2.6.3 (avx512_core_bf16), …, 2 threads following the load"
 */
export function describeKernels(simd: boolean | null): string {
  const backend = tf.getBackend();
  const threads = backend === 'wasm' ? getThreadsCount() : undefined;
  const wasm = threads === undefined ? '' : ` (${threads} XNNPACK thread${threads === 1 ? '' : 's'}${simd === true ? ', SIMD' : ''})`;
  const choice = describeFastestOrthogonalizer();
  const threading = nativeThreading();
  const muon = choice.kernel === 'native' && threading !== undefined
    ? `native, ${choice.engine}, ${threading.threads} thread${threading.threads === 1 ? '' : 's'}${threading.followsLoad ? ' following the load' : ' fixed'}`
    : `${choice.kernel} (${choice.reason})`;
  return `TF.js ${backend}${wasm}; Muon's Newton–Schulz: ${muon}`;
}
