import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import { nativeAdamStep } from '../kernels/nativeAdamStep.js';
import { nativeDion2Step } from '../kernels/nativeDion2Step.js';
import { nativeMuonStep } from '../kernels/nativeMuonStep.js';
import type { OptimizerServices } from '../optimizers/optimizerKind.js';

/**
 * The kernels the adapter hands to every optimizer it builds, standalone or in a hybrid: the
 * fastest orthogonalizer where a kind's options name none, and the native fused Muon, Dion2 and AdamW steps.
 */
export const ADAPTER_SERVICES: OptimizerServices = Object.freeze({
  defaultOrthogonalizer: fastestOrthogonalizer,
  muonStepKernel: nativeMuonStep,
  dion2StepKernel: nativeDion2Step,
  adamStepKernel: nativeAdamStep,
});
