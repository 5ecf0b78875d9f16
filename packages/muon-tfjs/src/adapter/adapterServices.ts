import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import { nativeAdamStep } from '../kernels/nativeAdamStep.js';
import { nativeDion2Step } from '../kernels/nativeDion2Step.js';
import { nativeMuonStep } from '../kernels/nativeMuonStep.js';
import { WEBGPU_BFLOAT16_CODEC } from '../kernels/webgpuBfloat16Codec.js';
import { HOST_BFLOAT16_CODEC } from '../math/bfloat16Storage.js';
import type { OptimizerServices } from '../optimizers/optimizerKind.js';

/**
 * The kernels the adapter hands to every optimizer it builds, standalone or in a hybrid: the
 * fastest orthogonalizer where a kind's options name none, the native fused Muon, Dion2 and AdamW
 * steps, and the bfloat16 codec of each backend: WGSL on webgpu, the host codec elsewhere (which
 * runs on cpu, wasm and tensorflow and refuses webgl, whose int32 tensors live in float32 texels).
 */
export const ADAPTER_SERVICES: OptimizerServices = Object.freeze({
  defaultOrthogonalizer: fastestOrthogonalizer,
  muonStepKernel: nativeMuonStep,
  dion2StepKernel: nativeDion2Step,
  adamStepKernel: nativeAdamStep,
  bfloat16Codec: (backend: string) => (backend === 'webgpu' ? WEBGPU_BFLOAT16_CODEC : HOST_BFLOAT16_CODEC),
});
