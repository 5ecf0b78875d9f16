/**
 * WebGPU in Node for `npm run bench:gpu`: Dawn's `webgpu` package gives tfjs-backend-webgpu a
 * `navigator.gpu`, over a Vulkan driver chosen by the Vulkan loader from `VK_ICD_FILENAMES` or,
 * unset, from the drivers installed in the loader's standard folders (NVIDIA's `nvidia_icd.json`,
 * Mesa's radeon/intel ones). Where no hardware driver is installed, the bench falls back to the
 * SwiftShader driver Debian's chromium package ships, and says so: its figures are a CPU's.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type AdapterDescription, describeWebGpuAdapter } from './gpuBench.js';

/** SwiftShader's Vulkan driver, from Debian's chromium package (`dpkg -L chromium | grep icd`). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Where the Vulkan loader looks for driver manifests on Linux. */
const ICD_FOLDERS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** Driver manifests of CPU implementations: Mesa's lavapipe (which Dawn refuses anyway) and SwiftShader. */
const SOFTWARE_ICD = /lvp|lavapipe|swiftshader/i;

/** How the Vulkan driver was chosen. */
export interface VulkanDriverChoice {
  /** The manifests in use (`VK_ICD_FILENAMES`), or the hardware ones the loader will find. */
  readonly manifests: string[];
  /** One line for the output: what was chosen and why. */
  readonly note: string;
  /** True when no hardware driver was found and SwiftShader stands in. */
  readonly fellBackToSwiftShader: boolean;
}

/** The hardware Vulkan driver manifests installed in the loader's folders. */
function hardwareManifests(): string[] {
  return ICD_FOLDERS.flatMap((folder) => (existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.json') && !SOFTWARE_ICD.test(f)).map((f) => join(folder, f)) : []));
}

/**
 * Chooses the Vulkan driver before Dawn loads: the user's `VK_ICD_FILENAMES` as given; else the
 * installed hardware drivers (the loader's own search); else SwiftShader. Undefined where none exists.
 */
export function chooseVulkanDriver(): VulkanDriverChoice | undefined {
  const given = process.env['VK_ICD_FILENAMES'];
  if (given !== undefined && given !== '') {
    return { manifests: given.split(':'), note: `VK_ICD_FILENAMES=${given} (set by the user)`, fellBackToSwiftShader: false };
  }
  const hardware = hardwareManifests();
  if (hardware.length > 0) return { manifests: hardware, note: `hardware Vulkan drivers found: ${hardware.join(', ')}`, fellBackToSwiftShader: false };
  if (!existsSync(SWIFTSHADER_ICD)) return undefined;
  process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  return {
    manifests: [SWIFTSHADER_ICD],
    note: `NO HARDWARE VULKAN DRIVER in ${ICD_FOLDERS.join(', ')}: fell back to SwiftShader (${SWIFTSHADER_ICD}), a CPU implementation; these are not GPU figures. On a GPU machine install the vendor's Vulkan driver (NVIDIA: nvidia_icd.json, part of the driver's libnvidia-gl / Vulkan package) or set VK_ICD_FILENAMES.`,
    fellBackToSwiftShader: true,
  };
}

/** A started webgpu backend in Node, or why it could not start. */
export type NodeWebGpu =
  | { readonly started: true; readonly driver: VulkanDriverChoice; readonly adapter: AdapterDescription }
  | { readonly started: false; readonly reason: string };

/** Starts tfjs-backend-webgpu on Dawn and makes it the current backend. */
export async function startNodeWebGpu(): Promise<NodeWebGpu> {
  const driver = chooseVulkanDriver();
  if (driver === undefined) return { started: false, reason: `no Vulkan driver: VK_ICD_FILENAMES is unset, none is installed in ${ICD_FOLDERS.join(', ')}, and ${SWIFTSHADER_ICD} is absent (apt-get install chromium libvulkan1)` };
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp'; // silences Dawn's warning where it is unset
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create([]);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    const adapter = await describeWebGpuAdapter(gpu);
    if (adapter.name === 'no adapter') return { started: false, reason: `Dawn found no WebGPU adapter with ${driver.note} (is libvulkan1 installed?)` };
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) return { started: false, reason: "tf.setBackend('webgpu') failed" };
    return { started: true, driver, adapter };
  } catch (error) {
    return { started: false, reason: `Dawn's webgpu package failed to start: ${error instanceof Error ? error.message : String(error)}` };
  }
}
