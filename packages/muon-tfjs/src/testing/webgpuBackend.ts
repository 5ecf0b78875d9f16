import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS } from './backends.js';

/**
 * WebGPU in Node for the test suites: Dawn's `webgpu` package gives TF.js's
 * `@tensorflow/tfjs-backend-webgpu` a real `navigator.gpu`. Without a GPU the adapter is
 * SwiftShader's Vulkan driver, which Debian's chromium package installs (`dpkg -L chromium | grep
 * icd`); Mesa's lavapipe in Debian 12 lacks a feature Dawn requires. A Vulkan driver the user set
 * through `VK_ICD_FILENAMES` is kept. Loaded once per test file (top-level await), only by the
 * suites that run on webgpu too.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Why the webgpu backend cannot start here, or undefined when it has started. */
async function startWebGpu(): Promise<string | undefined> {
  if (process.env['MUON_TFJS_DISABLE_WEBGPU'] === '1') return 'MUON_TFJS_DISABLE_WEBGPU=1';
  if (process.env['VK_ICD_FILENAMES'] === undefined) {
    if (!existsSync(SWIFTSHADER_ICD)) return `no Vulkan driver: VK_ICD_FILENAMES is unset and ${SWIFTSHADER_ICD} is absent (apt-get install chromium libvulkan1)`;
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  }
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
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
