import { type WebGpuProgramRunner, webgpuProgramRunner } from './webgpuPrograms.js';

/** What {@link countWebGpuDispatches} returns: the work's result and the programs it dispatched. */
export interface CountedDispatches<T> {
  readonly result: T;
  /** Compute programs dispatched, TF.js's own kernels (matMul, add, concat, …) and custom ones alike. */
  readonly dispatches: number;
  /** How many times each program ran, by its shader key's first part (e.g. `matMulPacked`, `muonFusedProduct`). */
  readonly byProgram: ReadonlyMap<string, number>;
}

/**
 * Runs `work` on the webgpu backend and counts the compute programs it dispatches (for benchmarks
 * and tests: the dispatches of one Newton–Schulz call, fused or TF.js ops). Every program of TF.js's
 * webgpu backend, its own kernels' and custom ones, goes through `runWebGPUProgram`, which is
 * wrapped for the duration of `work`; data movement that dispatches nothing (reshape, upload) is
 * not counted. Synchronous `work` only: an awaited gap would count whatever else ran meanwhile.
 */
export function countWebGpuDispatches<T>(work: () => T): CountedDispatches<T> {
  const runner = webgpuProgramRunner('countWebGpuDispatches');
  const byProgram = new Map<string, number>();
  const original = runner.runWebGPUProgram;
  // An own property is an enclosing count's wrapper (nested counts): put it back afterwards.
  const wrapped = Object.prototype.hasOwnProperty.call(runner, 'runWebGPUProgram');
  const counting: WebGpuProgramRunner['runWebGPUProgram'] = function (this: WebGpuProgramRunner, program, ...rest) {
    // The backend extends the key with the shapes' ranks and dtypes after this call starts: take it first.
    const name = program.shaderKey.split('_')[0] ?? program.shaderKey;
    byProgram.set(name, (byProgram.get(name) ?? 0) + 1);
    return original.call(this, program, ...rest);
  };
  runner.runWebGPUProgram = counting;
  try {
    const result = work();
    return { result, dispatches: [...byProgram.values()].reduce((sum, n) => sum + n, 0), byProgram };
  } finally {
    // The method lives on the backend's prototype: removing the own property restores it.
    if (wrapped) runner.runWebGPUProgram = original;
    else delete (runner as Partial<WebGpuProgramRunner>).runWebGPUProgram;
  }
}
