import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { enableWasmThreadsInBrowser, installWasmTrainingKernels } from 'muon-tfjs';
import type { BackendChoice } from './playgroundState.js';

/** The backend a page runs on, and how it got it. */
export interface StartedBackend {
  readonly name: 'webgpu' | 'webgl' | 'wasm';
  /** Human-readable details: wasm threads and isolation, or why a preferred backend was skipped. */
  readonly detail: string;
}

/**
 * Starts the backend: the one asked for, or for `auto` WebGPU, else WebGL, else wasm. On wasm the
 * page uses `threads` XNNPACK threads (0: one per core) through `enableWasmThreadsInBrowser` when
 * it is cross-origin isolated (the dev server and the site's `_headers` send COOP/COEP), one thread
 * otherwise, and installs the training kernels tfjs-backend-wasm 4.22 lacks. One thread can be
 * the faster choice for the small models here: each op then skips the thread pool's hand-off.
 */
export async function startBackend(choice: BackendChoice, threads = 0): Promise<StartedBackend> {
  const order: StartedBackend['name'][] = choice === 'auto' ? ['webgpu', 'webgl', 'wasm'] : [choice];
  const skipped: string[] = [];
  for (const name of order) {
    if (name === 'webgpu' && !('gpu' in navigator)) {
      skipped.push('webgpu: navigator.gpu is absent');
      continue;
    }
    if (name === 'wasm') {
      // Same-origin .wasm files next to the page; a folder prefix keeps the threaded build selectable.
      setWasmPaths(new URL('wasm/', location.href).href);
      if (crossOriginIsolated && threads !== 1) await enableWasmThreadsInBrowser(threads > 0 ? { threads } : {});
      else {
        setThreadsCount(1);
        if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to start');
      }
      await tf.ready();
      installWasmTrainingKernels();
      const obtained = getThreadsCount();
      return { name, detail: `${obtained} thread${obtained === 1 ? '' : 's'}${crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}${skipped.length > 0 ? `; ${skipped.join('; ')}` : ''}` };
    }
    if (await tf.setBackend(name).catch(() => false)) {
      await tf.ready();
      return { name, detail: skipped.join('; ') };
    }
    skipped.push(`${name}: failed to start`);
  }
  throw new Error(`no backend could start (${skipped.join('; ')})`);
}
