import * as tf from '@tensorflow/tfjs-core';
import { CPU_RESIDENT_BACKENDS } from '../math/hostReads.js';
import { type NewtonSchulzPrecision, checkResolvedSchedule } from '../math/newtonSchulzSchedule.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { loadNativeAddon } from './nativeAddon.js';
import { nativeOrthogonalizer } from './nativeOrthogonalizer.js';
import { webglOrthogonalizer } from './webglOrthogonalizer.js';
import { WEBGPU_BFLOAT16_MISSING, webgpuOrthogonalizer } from './webgpuOrthogonalizer.js';

/** Which kernel {@link fastestOrthogonalizer} runs on the current backend, and why. */
export interface OrthogonalizerChoice {
  readonly kernel: 'native' | 'tfjs' | 'webgl' | 'webgpu';
  readonly reason: string;
  /** The library computing the products: oneDNN's version and ISA, OpenBLAS's build, WGSL programs, or TF.js. */
  readonly engine: string;
  /** The precision its products run in for the one asked for (bfloat16 and float16 fall back to float32 where they cannot run). */
  readonly precision: NewtonSchulzPrecision;
  /** Why bfloat16 cannot run with this kernel; absent where it can. */
  readonly bfloat16Missing?: string;
  /** The CPU's bfloat16 features (cpuid, from the addon; absent without it). */
  readonly cpu?: { readonly avx512Bf16: boolean; readonly amxBf16: boolean };
}


const TFJS_FLOAT32_ONLY = 'TF.js kernels compute in float32';

/**
 * Says which kernel {@link fastestOrthogonalizer} would run now, over which library, in which
 * precision for a schedule asking for `precision` (default float32), and the CPU's bfloat16
 * features (for logs, READMEs, benchmarks).
 */
export function describeFastestOrthogonalizer(precision: NewtonSchulzPrecision = 'float32'): OrthogonalizerChoice {
  const backend = tf.getBackend() as string | undefined;
  if (backend === 'webgpu') {
    return {
      kernel: 'webgpu',
      reason: "backend 'webgpu': fused WGSL Newton–Schulz programs",
      engine: 'WGSL compute programs on TF.js webgpu',
      precision: precision === 'float16' ? 'float16' : 'float32',
      bfloat16Missing: WEBGPU_BFLOAT16_MISSING,
    };
  }
  const status = loadNativeAddon();
  const tfjs = (reason: string, cpu?: OrthogonalizerChoice['cpu']): OrthogonalizerChoice => ({
    kernel: 'tfjs',
    reason,
    engine: `TF.js${backend === undefined ? '' : ` (${backend})`}`,
    precision: 'float32',
    bfloat16Missing: TFJS_FLOAT32_ONLY,
    ...(cpu === undefined ? {} : { cpu }),
  });
  if (backend === 'webgl') {
    return {
      kernel: 'webgl',
      reason: "backend 'webgl': the library's GLSL programs (webglOrthogonalizer)",
      engine: 'WebGL (GLSL)',
      precision: 'float32',
      bfloat16Missing: 'the WebGL kernel computes in float32',
    };
  }
  if (!status.available) return tfjs(status.reason);
  const info = status.addon.info();
  const engine = info.onednn === null ? info.blas.trim() : `${info.onednn}, ${info.products.float32}`;
  const library = info.onednn === null ? 'OpenBLAS' : 'oneDNN';
  // tf.getBackend() is undefined until a backend is set or first used (then tfjs picks one).
  if (backend !== undefined && !CPU_RESIDENT_BACKENDS.has(backend)) return tfjs(`backend '${backend}' keeps tensors off the CPU`, info.cpu);
  const reason =
    backend === undefined
      ? `no TF.js backend set yet: the ${library} addon at ${status.path} runs once it is ${[...CPU_RESIDENT_BACKENDS].join(', ')}`
      : `${library} addon at ${status.path}`;
  return {
    kernel: 'native',
    reason,
    engine,
    precision: precision === 'bfloat16' && info.bfloat16 ? 'bfloat16' : 'float32',
    ...(info.bfloat16 ? {} : { bfloat16Missing: info.products.bfloat16 }),
    cpu: info.cpu,
  };
}

/**
 * The fastest available {@link Orthogonalizer}, decided per call: in Node with the native addon
 * built (`npm run build:native`, done by `npm ci`) and a CPU-resident backend (`cpu`, `wasm`), the
 * native kernel (oneDNN, or OpenBLAS without it; bfloat16 products where the schedule asks and the
 * CPU can); on webgpu the fused WGSL programs of `webgpuOrthogonalizer` (float16 operands where
 * the schedule asks); on webgl plain Newton–Schulz as the library's own GLSL programs
 * (`webglOrthogonalizer`); everywhere else (browser CPU backends, addon absent) Gram/plain
 * Newton–Schulz in TF.js with same-shape batching where the backend batches fast. All compute the map of
 * `newtonSchulz` with the same schedule, each planning shapes under its own capabilities
 * (`planOrthogonalization`); the choice only changes speed and round-off.
 */
export function fastestOrthogonalizer(): Orthogonalizer {
  const tfjs = gramOrthogonalizer();
  let native: Orthogonalizer | undefined;
  let webgl: Orthogonalizer | undefined;
  let webgpu: Orthogonalizer | undefined;
  return (matrices, schedule) => {
    checkResolvedSchedule(schedule, 'fastestOrthogonalizer');
    const kernel = describeFastestOrthogonalizer().kernel;
    if (kernel === 'webgl') {
      webgl ??= webglOrthogonalizer();
      return webgl(matrices, schedule);
    }
    if (kernel === 'native') {
      native ??= nativeOrthogonalizer();
      return native(matrices, schedule);
    }
    if (kernel === 'webgpu') {
      webgpu ??= webgpuOrthogonalizer();
      return webgpu(matrices, schedule);
    }
    return tfjs(matrices, schedule);
  };
}
