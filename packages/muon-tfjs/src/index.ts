/**
 * muon-tfjs: the Muon optimizer (momentum orthogonalized by Newton–Schulz), NorMuon, Dion2, AdamW,
 * Lion and SophiaG for TensorFlow.js, alone or as one hybrid. Layers, arrows pointing down: math → transforms → optimizers → adapter →
 * stability (QK-clip: pure computation of the new weights, and the after-step hook that stages
 * them). The attention layer that records the maximum logits needs tfjs-layers and lives in the
 * `muon-tfjs/layers` entry.
 */

// Pure tensor math.
export {
  COEFFICIENT_PRESETS,
  DEFAULT_COEFFICIENTS,
  DEFAULT_NS_STEPS,
  composedPolynomial,
  foldNormalization,
  resolveCoefficients,
  type CoefficientPreset,
  type CoefficientSchedule,
  type CoefficientSpec,
  type NewtonSchulzNormalization,
  type Quintic,
} from './math/coefficients.js';
export {
  POLAR_EXPRESS_CUSHION,
  POLAR_EXPRESS_SAFETY,
  polarExpressSchedule,
  type PolarExpressOptions,
  type PolarExpressSchedule,
} from './math/polarExpressSchedule.js';
export { composedRange, type ComposedRange } from './math/composedRange.js';
export {
  DEFAULT_SCHEDULE_TARGET,
  chooseSchedule,
  scheduleCandidates,
  type ChooseScheduleOptions,
  type ScheduleCandidate,
  type ScheduleChoice,
} from './math/chooseSchedule.js';
export { LOWER_BOUND_GRID_FLOOR, LOWER_BOUND_GRID_PER_DECADE, MAX_LAYER_AWARE_STEPS, layerAwareSchedule, lowerBoundFloor, snapLowerBound, storedLowerBound } from './math/layerAwareSchedule.js';
export {
  DEFAULT_NS_EPS,
  NEWTON_SCHULZ_PRECISIONS,
  defaultGramRestarts,
  resolveNewtonSchulz,
  scheduleDeviation,
  type NewtonSchulzOptions,
  type NewtonSchulzPrecision,
  type NewtonSchulzSchedule,
} from './math/newtonSchulzSchedule.js';
export { newtonSchulz } from './math/newtonSchulz.js';
export { bfloat16StorageUnavailable, packBfloat16, packedLength, roundToBfloat16Bits, unpackBfloat16 } from './math/bfloat16Storage.js';
export { gramNewtonSchulz, type GramNewtonSchulzOptions } from './math/gramNewtonSchulz.js';
export {
  GENERAL_MATMUL_CAPABILITIES,
  GRAM_MIN_SCHEDULE_DEVIATION,
  gramNewtonSchulzFlops,
  planOrthogonalization,
  plainNewtonSchulzFlops,
  type KernelCapabilities,
  type NewtonSchulzAlgorithm,
  type OrthogonalizationPlan,
} from './math/planOrthogonalization.js';
export { orthogonalizationPlanner, type OrthogonalizationPlanner } from './math/orthogonalizationPlanner.js';
export { newtonSchulzEach, type Orthogonalizer } from './math/orthogonalizer.js';
export type { MuonStepKernel, MuonStepMomentumDtype, MuonStepResult, MuonStepSettings, MuonStepVariable } from './math/muonStepKernel.js';
export type { Dion2StepKernel, Dion2StepSettings, Dion2StepVariable } from './math/dion2StepKernel.js';
export type { AdamStepKernel, AdamStepResult, AdamStepSettings, AdamStepVariable } from './math/adamStepKernel.js';
export {
  batchedMatrixShape,
  fromBatchedMatrices,
  fromMatrix,
  matrixShape,
  toBatchedMatrices,
  toMatrix,
  type BatchedMatrixShape,
  type MatrixDimensions,
  type MatrixShape,
  type MatrixView,
} from './math/matrixView.js';
export { LR_ADJUST_MODES, MATCH_ADAMW_RMS, shapeScale, type LrAdjust } from './math/shapeScale.js';
export {
  fromSliceView,
  gatherRows,
  largestL1Rows,
  scaleRows,
  scatterRows,
  selectedCount,
  selectedSide,
  sliceView,
  type SelectedSide,
} from './math/submatrixSelection.js';
export { CONV_ORTHOGONALIZATIONS, perTapScale, perTapView, type ConvOrthogonalization } from './math/convTaps.js';
export {
  checkScheduled,
  constant,
  cosine,
  isSchedule,
  linear,
  linearDecay,
  linearWarmup,
  momentumWarmup,
  piecewise,
  scheduleValue,
  warmupStableDecay,
  type ConstantSchedule,
  type DecayOptions,
  type DecaySchedule,
  type LinearSchedule,
  type LinearWarmupSchedule,
  type PiecewiseSchedule,
  type Schedule,
  type Scheduled,
} from './math/schedule.js';

// Orthogonalization kernels: the native OpenBLAS addon in Node (optional), wasm threads, the chooser.
export { describeFastestOrthogonalizer, fastestOrthogonalizer, type OrthogonalizerChoice } from './kernels/fastestOrthogonalizer.js';
export { gramOrthogonalizer, type GramOrthogonalizerOptions } from './kernels/gramOrthogonalizer.js';
export { webglOrthogonalizer, type WebglOrthogonalizerOptions } from './kernels/webglOrthogonalizer.js';
export { WEBGPU_CAPABILITIES, webgpuOrthogonalizer, type WebGpuOrthogonalizerOptions } from './kernels/webgpuOrthogonalizer.js';
export { countWebGpuDispatches, type CountedDispatches } from './kernels/webgpuDispatches.js';
export { OPENBLAS_CAPABILITIES, nativeCapabilities, nativeOrthogonalizer, type NativeLibrary, type NativeOrthogonalizerOptions } from './kernels/nativeOrthogonalizer.js';
export { loadNativeAddon, nativeThreading, NATIVE_ALGORITHM_CODES, NATIVE_NORMALIZATION_CODES, NATIVE_PRECISION_CODES, type NativeAddon, type NativeAddonInfo, type NativeAddonStatus, type NativeThreading } from './kernels/nativeAddon.js';
export { nativeMuonStep, type NativeMuonStepOptions } from './kernels/nativeMuonStep.js';
export { nativeDion2Step } from './kernels/nativeDion2Step.js';
export { nativeAdamStep } from './kernels/nativeAdamStep.js';
export { enableWasmThreadsInBrowser, enableWasmThreadsInNode, type WasmThreadsOptions } from './kernels/wasmThreads.js';

// Backend fixes for training on tfjs-backend-wasm 4.22 (opt-in).
export { installWasmTrainingKernels } from './backends/wasmTrainingKernels.js';

// Transformations (optax-style init/update pairs) for building new optimizers.
export { scheduledAt, type GradientTransformation, type Live, type SlotEncoding, type SlotMap, type StateMap, type StepContext, type TensorMap, type TransformResult } from './transforms/gradientTransformation.js';
export { SILENT_TAPS, observe, observedPoints, type Taps } from './transforms/taps.js';
export type { FusedStep, FusedStepResult, NonFiniteValue } from './transforms/fusedStep.js';
export { chain } from './transforms/chain.js';
export { BFLOAT16_PACKED, storeInBfloat16 } from './transforms/storeInBfloat16.js';
export { partition } from './transforms/partition.js';
export { isLowerBoundStep, type LayerAwareOptions, MUON_BFLOAT16_MOMENTUM_SLOT, MUON_LOWER_BOUND_SLOT, MUON_MOMENTUM_SLOT, MUON_TAPS, scaleByMuon, type ScaleByMuonOptions } from './transforms/scaleByMuon.js';
export { scaleByAdam, type ScaleByAdamOptions } from './transforms/scaleByAdam.js';
export { scaleByLion, type ScaleByLionOptions } from './transforms/scaleByLion.js';
export { DION2_MOMENTUM_SLOT, scaleByDion2, type ScaleByDion2Options } from './transforms/scaleByDion2.js';
export { NEURON_SECOND_MOMENT_SLOT, scaleByNeuronRms, type ScaleByNeuronRmsOptions } from './transforms/scaleByNeuronRms.js';
export { HESSIAN_DIAGONAL_INPUT, SOPHIA_TAPS, scaleBySophia, type ScaleBySophiaOptions } from './transforms/scaleBySophia.js';
export { scaleByShape } from './transforms/scaleByShape.js';
export { addDecayedWeights, type DecayedWeightsOptions } from './transforms/addDecayedWeights.js';
export { scaleByLearningRate } from './transforms/scaleByLearningRate.js';
export { blockName, splitBlocks, type BlockSplit, type BlockSplitOf } from './transforms/splitBlocks.js';
export { splitColumns, type ColumnBlocksOf } from './transforms/splitColumns.js';
export { splitMatrices, type MatrixViewOf } from './transforms/splitMatrices.js';
export { splitTaps } from './transforms/splitTaps.js';

// Optimizers as compositions, their options and defaults, and the routing policy.
export {
  MOMENTUM_DTYPES,
  MUON_DEFAULTS,
  MUON_KIND,
  NS_AUTO_DEFAULTS,
  isLayerAware,
  muonConfig,
  muonOptionsFromConfig,
  muonTransformation,
  type FixedNewtonSchulzOptions,
  type LayerAwareNewtonSchulzOptions,
  type LayerAwareSteps,
  type MomentumDtype,
  type MuonCompositionOptions,
  type MuonHyperParameters,
  type MuonOptions,
  type NewtonSchulzChoice,
  type NsAutoQuantile,
  type ResolvedLayerAwareSteps,
  type ResolvedMuonOptions,
} from './optimizers/muon.js';
export { ADAMW_DEFAULTS, ADAMW_KIND, adamwTransformation, type AdamWOptions, type ResolvedAdamWOptions } from './optimizers/adamw.js';
export {
  NORMUON_DEFAULTS,
  NORMUON_KIND,
  normuonTransformation,
  resolveNorMuonOptions,
  type NorMuonOptions,
  type ResolvedNorMuonOptions,
} from './optimizers/normuon.js';
export {
  DION2_DEFAULTS,
  DION2_KIND,
  dion2Transformation,
  resolveDion2Options,
  type Dion2Options,
  type ResolvedDion2Options,
} from './optimizers/dion2.js';
export {
  SOPHIA_DEFAULTS,
  SOPHIA_HESSIAN_INTERVAL,
  SOPHIA_KIND,
  resolveSophiaOptions,
  sophiaTransformation,
  type ResolvedSophiaOptions,
  type SophiaOptions,
} from './optimizers/sophia.js';
export { blockColumnsOf, checkBlockColumns, type BlockColumnsRule } from './optimizers/blockColumns.js';
export { NO_CONV_KERNELS, checkMatrixViews, matrixViewOf, type IsConvKernel, type MatrixViewRule } from './optimizers/matrixViews.js';
export {
  WEIGHT_DECAY_OPTION_NAMES,
  resolveWeightDecayOptions,
  weightDecayTransformation,
  type ResolvedWeightDecayOptions,
  type WeightDecayOptions,
} from './optimizers/weightDecay.js';
export { LION_DEFAULTS, LION_KIND, lionTransformation, type LionOptions, type ResolvedLionOptions } from './optimizers/lion.js';
export {
  checkRoutingPolicy,
  defaultRoute,
  isConvolutionKernel,
  routeVariable,
  type Route,
  type RouteDecision,
  type RoutingPolicy,
  type RoutingRule,
  type VariableDescription,
} from './optimizers/routing.js';
export {
  createOptimizerGroup,
  elementwiseOptimizerKind,
  fusedStepOf,
  withKernel,
  matrixOptimizerKind,
  resolveExecution,
  type ExecutionOptions,
  type GroupVariable,
  type MatrixTransformationContext,
  type OptimizerGroup,
  type OptimizerKind,
  type OptimizerServices,
  type OptionsOf,
  type ResolvedLearningRate,
  type ResolvedMatrixOptions,
  type ResolvedOf,
  type ShapeDescription,
} from './optimizers/optimizerKind.js';
export { fusedMuonStep } from './optimizers/fusedMuon.js';
export { fusedDion2Step } from './optimizers/fusedDion2.js';
export { OPTIMIZER_KINDS, createGroup, optimizerKindNamed, type GroupSpec, type OptimizerKindName } from './optimizers/optimizerKinds.js';

// The TF.js adapter: tf.Optimizer subclasses, registered for serialization.
export { TransformOptimizer, type ExecutionRow, type FusedExecution } from './adapter/TransformOptimizer.js';
export { NonFiniteStepError } from './adapter/nonFiniteStepError.js';
export { KindOptimizer, optimizerClass, type OptimizerClass } from './adapter/KindOptimizer.js';
export { ADAPTER_SERVICES } from './adapter/adapterServices.js';
export { AdamWOptimizer, Dion2Optimizer, LionOptimizer, MuonOptimizer, NorMuonOptimizer, SophiaOptimizer, adamw, dion2, lion, muon, normuon, sophia } from './adapter/optimizers.js';
export { gaussNewtonBartlett, provideHessianEstimate, type GaussNewtonBartlettOptions, type PredictingModel } from './adapter/gaussNewtonBartlett.js';
export { sophiaHessianCallback, type BatchEndCallback, type SophiaHessianCallbackOptions } from './adapter/sophiaHessianCallback.js';
export {
  HybridOptimizer,
  hybrid,
  type HybridConfig,
  type HybridOptions,
  type RoutingRow,
  type SavedRoute,
} from './adapter/HybridOptimizer.js';
export {
  HYBRID_ADAMW_DEFAULTS,
  MuonWithAdamWOptimizer,
  muonWithAdamW,
  type MuonWithAdamWConfig,
  type MuonWithAdamWOptions,
} from './adapter/MuonWithAdamWOptimizer.js';
export { describeModelVariables, describeVariables, type LayersModelLike } from './adapter/describeVariables.js';
export { type AfterStepContext, type AfterStepHook } from './adapter/afterStepHooks.js';
export { type TapEvent, type TapListener, type TapOptions } from './adapter/tapRegistry.js';
export { backendFloatPrecision, smallestUsableConstant } from './kernels/backendFloatPrecision.js';

// Training stability at scale: QK-clip (MuonClip, Kimi K2), as a function and as an after-step hook.
export { QK_CLIP_DEFAULTS, qkClipFactors, qkClipFactorsOnDevice } from './stability/qkClipFactors.js';
export {
  qkClipComponents,
  type QKClipComponent,
  type QKClipLayout,
  type QKPart,
  type ResolvedQKClipComponent,
} from './stability/qkClipComponents.js';
export { qkClip, qkClipValues, qkClipValuesOnDevice, type QKClipOptions, type QKClipTensors, type QKClipValues } from './stability/qkClip.js';
export { qkClipHook, type QKClipHookOptions, type QKClipReport, type QKClipTarget } from './stability/qkClipHook.js';
