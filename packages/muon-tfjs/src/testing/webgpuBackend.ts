import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS } from './backends.js';
import { pointDawnAtVulkanDriver } from './vulkanDriver.js';

/**
 * WebGPU in Node for the test suites: Dawn's `webgpu` package gives TF.js's
 * `@tensorflow/tfjs-backend-webgpu` a real `navigator.gpu`, on the Vulkan driver of
 * `pointDawnAtVulkanDriver` (SwiftShader's where no GPU driver is set). Loaded once per test file
 * (top-level await), only by the suites that run on webgpu too.
 */

/** Why the webgpu backend cannot start here, or undefined when it has started. */
async function startWebGpu(): Promise<string | undefined> {
  const noDriver = pointDawnAtVulkanDriver();
  if (noDriver !== undefined) return noDriver;
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
    const adapter = await navigator.gpu.requestAdapter();
    if (adapter === null) return 'Dawn found no WebGPU adapter (is libvulkan1 installed?)';
    await import('@tensorflow/tfjs-backend-webgpu');
    return (await tf.setBackend('webgpu')) ? undefined : "tf.setBackend('webgpu') failed";
  } catch (error) {
    return `Dawn's webgpu package failed to start: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const previous = tf.getBackend() as string | undefined;
/** Why these suites do not run on webgpu here; undefined where they do. */
export const WEBGPU_MISSING: string | undefined = await startWebGpu();
if (WEBGPU_MISSING !== undefined && process.env['MUON_TFJS_REQUIRE_WEBGPU'] === '1') {
  throw new Error(`MUON_TFJS_REQUIRE_WEBGPU=1 but webgpu cannot start: ${WEBGPU_MISSING}`);
}
if (previous !== undefined) await tf.setBackend(previous);

/** The optimizer suites' backends: cpu and wasm, and webgpu where an adapter exists. */
export const OPTIMIZER_TEST_BACKENDS = [...TEST_BACKENDS, ...(WEBGPU_MISSING === undefined ? (['webgpu'] as const) : [])];

/**
 * The one line a suite prints where webgpu is missing: a skipped test whose name says why, so a
 * run never drops the webgpu half silently.
 */
export function reportWebGpuSkipped(it: { skip: (name: string, fn: () => void) => void }): void {
  if (WEBGPU_MISSING !== undefined) it.skip(`on webgpu: skipped, ${WEBGPU_MISSING}`, () => undefined);
}
