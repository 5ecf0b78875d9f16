import type { BackendChoice } from './playgroundState.js';

/** The backends the playground can train on. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm';

/** What the page learned of a GPU backend before starting it. */
export interface GpuProbe {
  /** Why the backend cannot start (no `navigator.gpu`, no adapter, no WebGL context); absent when it may. */
  readonly unavailable?: string;
  /** The adapter's or renderer's own name, '' when the browser does not tell it. */
  readonly name: string;
  /** True for a CPU emulation of a GPU (SwiftShader, llvmpipe…): slower than wasm for every model here. */
  readonly software: boolean;
}

/** The order in which to try backends, and why the others were passed over. */
export interface BackendPlan {
  readonly order: readonly BackendName[];
  readonly passedOver: readonly string[];
}

/**
 * Renderer and adapter names of GPU emulations on the CPU: SwiftShader (Chromium's fallback, also
 * behind ANGLE's Vulkan path), Mesa's llvmpipe, lavapipe and softpipe, Windows' WARP ("Microsoft
 * Basic Render Driver"), and the generic "software" some drivers report. Measured in headless
 * Chromium on SwiftShader, WebGL ran the playground's steps 15–30× slower than wasm (issue 21).
 */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|basic render driver|software/i;

/** Whether a WebGL renderer string or a WebGPU adapter's vendor/architecture/description names a software GPU. */
export function isSoftwareRenderer(name: string): boolean {
  return SOFTWARE_RENDERER.test(name);
}

const GPU_LABEL: Record<'webgpu' | 'webgl', string> = { webgpu: 'WebGPU', webgl: 'WebGL' };

/**
 * Decides which backends to try, in order. `auto`: a hardware WebGPU adapter, then a hardware
 * WebGL renderer, then wasm, never a software GPU (wasm beats it on every model here). A named
 * backend is tried first even when software (the user asked for it), then the `auto` order, so
 * that a backend that fails to start still leaves a working page.
 *
 * @example
 * backendPlan('auto', { webgpu: { name: 'google swiftshader', software: true }, webgl: { unavailable: 'no WebGL context', name: '', software: false } }).order; // ['wasm']
 */
export function backendPlan(choice: BackendChoice, probes: Readonly<Record<'webgpu' | 'webgl', GpuProbe>>): BackendPlan {
  const passedOver: string[] = [];
  const automatic: BackendName[] = [];
  for (const gpu of ['webgpu', 'webgl'] as const) {
    const probe = probes[gpu];
    if (probe.unavailable !== undefined) passedOver.push(`${GPU_LABEL[gpu]}: ${probe.unavailable}`);
    else if (probe.software) passedOver.push(`${GPU_LABEL[gpu]} is a software GPU (${probe.name}), slower than wasm`);
    else automatic.push(gpu);
  }
  automatic.push('wasm');
  if (choice === 'auto') return { order: automatic, passedOver };
  return { order: [choice, ...automatic.filter((name) => name !== choice)], passedOver: [] };
}
