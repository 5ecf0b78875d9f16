/**
 * muon-tfjs: the Muon optimizer (momentum orthogonalized by Newton–Schulz), AdamW and Lion for
 * TensorFlow.js. Layers, arrows pointing down: math → transforms → optimizers → adapter →
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
export type { MuonStepKernel, MuonStepResult, MuonStepSettings, MuonStepVariable } from './math/muonStepKernel.js';
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
  scheduleValue,
  warmupStableDecay,
  type ConstantSchedule,
  type DecayOptions,
  type DecaySchedule,
  type LinearSchedule,
  type LinearWarmupSchedule,
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
export { loadNativeAddon, NATIVE_NORMALIZATION_CODES, NATIVE_PRECISION_CODES, type NativeAddon, type NativeAddonInfo, type NativeAddonStatus } from './kernels/nativeAddon.js';
export { nativeMuonStep, type NativeMuonStepOptions } from './kernels/nativeMuonStep.js';
export { enableWasmThreadsInBrowser, enableWasmThreadsInNode, type WasmThreadsOptions } from './kernels/wasmThreads.js';

// Backend fixes for training on tfjs-backend-wasm 4.22 (opt-in).
export { installWasmTrainingKernels } from './backends/wasmTrainingKernels.js';

// Transformations (optax-style init/update pairs) for building new optimizers.
export type { GradientTransformation, Live, SlotMap, StateMap, StepContext, TensorMap, TransformResult } from './transforms/gradientTransformation.js';
export { SILENT_TAPS, observe, observedPoints, type Taps } from './transforms/taps.js';
export type { FusedStep, FusedStepResult, NonFiniteValue } from './transforms/fusedStep.js';
export { chain } from './transforms/chain.js';
export { partition } from './transforms/partition.js';
export { isLowerBoundStep, type LayerAwareOptions, MUON_LOWER_BOUND_SLOT, MUON_MOMENTUM_SLOT, MUON_TAPS, scaleByMuon, type ScaleByMuonOptions } from './transforms/scaleByMuon.js';
export { scaleByAdam, type ScaleByAdamOptions } from './transforms/scaleByAdam.js';
export { scaleByLion, type ScaleByLionOptions } from './transforms/scaleByLion.js';
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
export { MUON_DEFAULTS, MUON_KIND, muonConfig, muonTransformation, type MuonOptions, type NsAutoQuantile, type ResolvedMuonOptions } from './optimizers/muon.js';
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
export { elementwiseOptimizerKind, fusedStepOf, matrixOptimizerKind, type GroupVariable, type OptimizerGroup, type OptimizerKind, type OptimizerServices } from './optimizers/optimizerKind.js';
export { fusedMuonStep } from './optimizers/fusedMuon.js';
export { OPTIMIZER_KINDS, createGroup, type GroupSpec, type OptimizerKindName } from './optimizers/optimizerKinds.js';

// The TF.js adapter: tf.Optimizer subclasses, registered for serialization.
export { TransformOptimizer, type ExecutionRow, type FusedExecution } from './adapter/TransformOptimizer.js';
export { NonFiniteStepError } from './adapter/nonFiniteStepError.js';
export { MuonOptimizer, muon } from './adapter/MuonOptimizer.js';
export { AdamWOptimizer, adamw } from './adapter/AdamWOptimizer.js';
export { LionOptimizer, lion } from './adapter/LionOptimizer.js';
export { NorMuonOptimizer, normuon } from './adapter/NorMuonOptimizer.js';
export { SophiaOptimizer, sophia } from './adapter/SophiaOptimizer.js';
export { gaussNewtonBartlett, provideHessianEstimate, type GaussNewtonBartlettOptions, type PredictingModel } from './adapter/gaussNewtonBartlett.js';
export { sophiaHessianCallback, type BatchEndCallback, type SophiaHessianCallbackOptions } from './adapter/sophiaHessianCallback.js';
export {
  ADAPTER_SERVICES,
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
