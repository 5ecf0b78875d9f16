/**
 * The browser half of `npm run bench:gpu`: bundled by ./run.ts (through the bench:browser
 * harness, ../browser/benchPage.ts) and loaded into headless Chromium, where it starts the asked
 * backend as a web page would, names the adapter or renderer, and runs ./gpuBench.ts on it.
 * The page defines `globalThis.muonGpuBench(config)`; the runner calls it once per fresh browser
 * context, one backend each.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installWasmTrainingKernels } from 'muon-tfjs';
import { type AdapterDescription, describeWebGlRenderer, describeWebGpuAdapter, type GpuBenchResult, runGpuBench } from './gpuBench.js';
import type { BrowserBackend, GpuPageConfig } from './gpuPageConfig.js';

/** Starts `backend` and describes what it computes on. */
async function start(backend: BrowserBackend): Promise<AdapterDescription> {
  if (backend === 'wasm') {
    // One XNNPACK thread, the playground's default (its small models lose to the thread pool's hand-offs).
    setWasmPaths(`${location.origin}/wasm/`);
    setThreadsCount(1);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to start');
    installWasmTrainingKernels();
    return { name: `CPU (wasm, ${getThreadsCount()} thread)`, software: true };
  }
  if (backend === 'webgpu' && !('gpu' in navigator)) throw new Error('navigator.gpu is absent (start Chromium with --enable-unsafe-webgpu)');
  if (!(await tf.setBackend(backend).catch(() => false))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  return backend === 'webgpu' ? describeWebGpuAdapter(navigator.gpu) : describeWebGlRenderer();
}

async function muonGpuBench(config: GpuPageConfig): Promise<GpuBenchResult> {
  const adapter = await start(config.backend);
  console.log(`${config.backend}: ${adapter.name}${adapter.software ? ' (software: not GPU figures)' : ''}`);
  return runGpuBench(config.bench, adapter);
}

(globalThis as unknown as { muonGpuBench: typeof muonGpuBench }).muonGpuBench = muonGpuBench;
