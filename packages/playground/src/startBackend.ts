import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { enableWasmThreadsInBrowser, installWasmTrainingKernels } from 'muon-tfjs';
import { type BackendName, backendPlan, type GpuProbe, isSoftwareRenderer } from './backendPlan.js';
import type { BackendChoice } from './playgroundState.js';

/** The backend a page runs on, and how it got it. */
export interface StartedBackend {
  readonly name: BackendName;
  /** Why this one, in words for the page: what `auto` passed over, what failed to start. */
  readonly reason: string;
  /** wasm's threads and isolation, or the GPU's own name. */
  readonly detail: string;
}

/** The part of WebGPU's adapter the probe reads (TypeScript's DOM types do not declare WebGPU). */
interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** Where the browser puts it since Chrome 131; `GPUAdapter.isFallbackAdapter` before. */
  readonly isFallbackAdapter?: boolean;
}
interface NavigatorGpu {
  requestAdapter(): Promise<{ readonly info?: AdapterInfoLike; readonly isFallbackAdapter?: boolean } | null>;
}

async function probeWebGpu(): Promise<GpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: NavigatorGpu }).gpu;
  if (gpu === undefined) return { unavailable: 'navigator.gpu is absent', name: '', software: false };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (adapter === null) return { unavailable: 'no adapter', name: '', software: false };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter((part) => part !== undefined && part !== '').join(' ');
  // A fallback adapter is, by the WebGPU spec, one that may run far slower than a real GPU (software).
  const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || isSoftwareRenderer(name);
  return { name, software };
}

function probeWebGl(): GpuProbe {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (gl === null) return { unavailable: 'no WebGL context', name: '', software: false };
  // The unmasked renderer names the driver behind ANGLE ("… SwiftShader driver"); browsers that
  // withhold it answer RENDERER with a generic or already sanitized name.
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(debug === null ? gl.RENDERER : debug.UNMASKED_RENDERER_WEBGL));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { name, software: isSoftwareRenderer(name) };
}

/** Starts `name` and runs one op through it, read back: a backend that registers but cannot compute fails here. */
async function tryStart(name: BackendName, threads: number): Promise<string> {
  if (name === 'wasm') {
    // Same-origin .wasm files next to the page; a folder prefix keeps the threaded build selectable.
    setWasmPaths(new URL('wasm/', location.href).href);
    if (crossOriginIsolated && threads !== 1) await enableWasmThreadsInBrowser(threads > 0 ? { threads } : {});
    else {
      setThreadsCount(1);
      if (!(await tf.setBackend('wasm'))) throw new Error('tfjs-backend-wasm failed to initialize');
    }
  } else if (!(await tf.setBackend(name).catch(() => false))) {
    throw new Error('failed to initialize');
  }
  await tf.ready();
  const check = tf.add(tf.ones([4]), 1);
  try {
    const values = await check.data();
    if (values[0] !== 2) throw new Error(`1 + 1 gave ${values[0]}`);
  } finally {
    check.dispose();
  }
  if (name !== 'wasm') return '';
  installWasmTrainingKernels();
  const obtained = getThreadsCount();
  return `${obtained} thread${obtained === 1 ? '' : 's'}${crossOriginIsolated ? '' : ', page not cross-origin isolated'}`;
}

/**
 * Starts the backend {@link backendPlan} puts first that works: for `auto` the fastest hardware
 * GPU, else wasm; a named backend, else the `auto` order. On wasm the page uses `threads` XNNPACK
 * threads (0: one per core) through `enableWasmThreadsInBrowser` when it is cross-origin isolated
 * (the dev server and the site's `_headers` send COOP/COEP), one thread otherwise, and installs
 * the training kernels tfjs-backend-wasm 4.22 lacks. One thread can be the faster choice for the
 * small models here: each op then skips the thread pool's hand-off.
 */
export async function startBackend(choice: BackendChoice, threads = 0): Promise<StartedBackend> {
  const probes = { webgpu: await probeWebGpu(), webgl: probeWebGl() };
  const plan = backendPlan(choice, probes);
  const failed: string[] = [];
  for (const name of plan.order) {
    try {
      const detail = await tryStart(name, threads);
      const gpuName = name === 'wasm' ? '' : probes[name].name;
      const why = choice === 'auto' ? ['auto: the fastest backend that works here', ...plan.passedOver] : [name === choice ? 'chosen in the link or the Backend control' : `${choice} could not start, so the page runs on ${name}`];
      return { name, reason: [...why, ...failed].join('; '), detail: [gpuName, detail].filter((part) => part !== '').join('; ') };
    } catch (error) {
      failed.push(`${name} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`no backend could start (${[...plan.passedOver, ...failed].join('; ')})`);
}
