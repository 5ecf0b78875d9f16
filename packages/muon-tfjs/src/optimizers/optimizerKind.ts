import type * as tf from '@tensorflow/tfjs-core';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { ConvOrthogonalization } from '../math/convTaps.js';
import type { MatrixView } from '../math/matrixView.js';
import type { AdamStepKernel } from '../math/adamStepKernel.js';
import type { Dion2StepKernel } from '../math/dion2StepKernel.js';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import type { Scheduled } from '../math/schedule.js';
import type { Bfloat16Codecs } from '../math/bfloat16Storage.js';
import { type LrAdjust, shapeScale } from '../math/shapeScale.js';
import type { FusedStep } from '../transforms/fusedStep.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { type IsConvKernel, type MatrixViewRule, NO_CONV_KERNELS, matrixViewOf } from './matrixViews.js';

/** What the adapter supplies to the optimizers it builds (the kernels live above this layer). */
export interface OptimizerServices {
  /** The orthogonalization kernel Muon uses when its options name none. */
  readonly defaultOrthogonalizer: () => Orthogonalizer;
  /** The kernel of the fused Muon step that goes with the default orthogonalizer; without it, Muon runs composed. */
  readonly muonStepKernel?: () => MuonStepKernel;
  /** The kernel of the fused Dion2 step that goes with the default orthogonalizer; without it, Dion2 runs composed. */
  readonly dion2StepKernel?: () => Dion2StepKernel;
  /** The kernel of the fused AdamW step; without it, AdamW runs composed. */
  readonly adamStepKernel?: () => AdamStepKernel;
  /**
   * The codec that packs and unpacks bfloat16-stored state (Muon's `momentumDtype: 'bfloat16'`) on
   * each backend, asked at each step with the current backend's name; without it, the host codec
   * (cpu, wasm, tensorflow), which refuses the others.
   */
  readonly bfloat16Codec?: Bfloat16Codecs;
}

/** A variable as a group sees it: its name, its shape, and whether its layer class makes it a convolution kernel. */
export interface GroupVariable {
  readonly name: string;
  readonly shape: readonly number[];
  /** From a convolution layer of a model (`isConvolutionKernel` of the routing): only these are flattened without a `matrixViews` rule. */
  readonly convKernel: boolean;
}

/** What every optimizer's resolved options hold: the learning rate, a number or a schedule. */
export interface ResolvedLearningRate {
  readonly learningRate: Scheduled;
}

/**
 * How a matrix optimizer's step executes, apart from what it computes (not serialized): the
 * orthogonalization kernel, and whether the whole step may run fused in the native kernel.
 */
export interface ExecutionOptions {
  /**
   * The orthogonalization kernel. Default, supplied by the adapter: `fastestOrthogonalizer()`, the
   * native OpenBLAS kernel in Node when built, else Gram/plain Newton–Schulz in TF.js.
   */
  readonly orthogonalize?: Orthogonalizer;
  /**
   * Run the whole step fused in the native kernel when it can: in Node with the addon built, on the
   * cpu and wasm backends, with the default `orthogonalize`, and no tap of the group heard at that
   * step; the composed step runs otherwise. Both compute the same values (the fused step is the
   * composition's arithmetic in one pass). Default true; only kinds with a fused step take it.
   */
  readonly fused?: boolean;
}

/**
 * An optimizer, defined once: its names, its options (the names the run-time check accepts, how
 * they resolve and save), what parameters it takes, its transformation and its fused step. The
 * hybrid builds its groups from kinds (`OPTIMIZER_KINDS`), and the adapter makes each kind's
 * standalone `tf.Optimizer` class from it (`optimizerClass`).
 *
 * A kind's methods take the options it resolved. `learningRate` is the rate as the optimizer holds
 * it, possibly reassigned between steps; the transformation reads it at each step's index
 * (`scheduledAt`), as it reads its momentum schedule.
 */
export interface OptimizerKind<Options extends object = object, Resolved extends ResolvedLearningRate = ResolvedLearningRate> {
  /** Its name in a hybrid's groups and configs: `muon`, `adamw`, `lion`. */
  readonly name: string;
  /** Its name in messages and tables: `Muon`, `AdamW`, `Lion`. */
  readonly title: string;
  /** The class name its standalone optimizer registers for serialization: `MuonOptimizer`. */
  readonly className: string;
  /** The names of its options, checked by the compiler against `Options` ({@link optionNames}); the run-time check reads them. */
  readonly optionNames: readonly string[];
  /** Fills in defaults and checks every option, throwing with `owner`, the option's name and value. */
  resolve(options: Options | undefined, owner: string): Resolved;
  /** The options' saved form (`getConfig`, a hybrid group's options): serializable, no execution settings. */
  config(options: Resolved): tf.serialization.ConfigDict;
  /** The options a saved config stands for: this version's form, or an earlier one's (old checkpoints load). */
  optionsFromConfig(config: tf.serialization.ConfigDict): Options;
  /**
   * Why it cannot take this variable under these options (e.g. Muon and a vector, or a rank-3
   * weight with no matrix view), or undefined when it can.
   */
  refuse(options: Resolved, variable: GroupVariable): string | undefined;
  /**
   * The update scale for this variable (Muon's shape scale; 1 for the others) and, for a matrix
   * optimizer, the matrix it orthogonalizes, and how many of them when its view has several (a
   * conv kernel's taps, with the 1/√taps in the scale; the experts of a `matrixViews` rule).
   */
  describe(options: Resolved, variable: GroupVariable): ShapeDescription;
  /**
   * The transformation the optimizer runs; `isConvKernel` says which variables the model's layer
   * classes make convolution kernels (none without a model).
   */
  transformation(options: Resolved, learningRate: Live<Scheduled>, services: OptimizerServices, isConvKernel: IsConvKernel): GradientTransformation;
  /**
   * The fused execution of {@link transformation} (same learning rate), or why there is none for
   * these options and services; absent for a kind that has none. The adapter decides per step
   * whether it can run.
   */
  fusedStep?(options: Resolved, learningRate: Live<Scheduled>, services: OptimizerServices): FusedStep | string;
}

/** What {@link OptimizerKind.describe} reports of one parameter. */
export interface ShapeDescription {
  readonly scale: number;
  readonly matrix?: readonly [number, number];
  /** How many such matrices: a conv kernel's taps orthogonalized per tap, a `matrixViews` rule's batch; absent for one. */
  readonly matrices?: number;
}

/** The options type of a kind. */
export type OptionsOf<Kind> = Kind extends OptimizerKind<infer Options, infer _Resolved> ? Options : never;

/** The resolved options type of a kind. */
export type ResolvedOf<Kind> = Kind extends OptimizerKind<infer _Options, infer Resolved> ? Resolved : never;

/**
 * One optimizer of a hybrid (or a standalone optimizer), its options resolved: everything the
 * adapter needs to route a variable to it, describe the route, build its transformation and save it.
 */
export interface OptimizerGroup<Resolved extends ResolvedLearningRate = ResolvedLearningRate> {
  readonly kind: OptimizerKind<object, Resolved>;
  /** The resolved options, every default filled in (execution settings aside). */
  readonly options: Resolved;
  /** Why it cannot take this variable; the router asks before routing, so refusals surface at construction. */
  refuse(variable: GroupVariable): string | undefined;
  describe(variable: GroupVariable): ShapeDescription;
  /** Its transformation; `isConvKernel` as in {@link OptimizerKind.transformation}, none by default. */
  transformation(learningRate: Live<Scheduled>, isConvKernel?: IsConvKernel): GradientTransformation;
  /** The fused step, or why there is none (for these options, or for this kind). */
  fusedStep(learningRate: Live<Scheduled>): FusedStep | string;
  /** The options' saved form. */
  config(): tf.serialization.ConfigDict;
}

/** Resolves `options` by `kind` (naming `owner` in errors) and binds the result to the services. */
export function createOptimizerGroup<Options extends object, Resolved extends ResolvedLearningRate>(
  kind: OptimizerKind<Options, Resolved>,
  options: Options | undefined,
  owner: string,
  services: OptimizerServices,
): OptimizerGroup<Resolved> {
  const resolved = kind.resolve(options, owner);
  return {
    kind: kind as unknown as OptimizerKind<object, Resolved>,
    options: resolved,
    refuse: (variable) => kind.refuse(resolved, variable),
    describe: (variable) => kind.describe(resolved, variable),
    transformation: (learningRate, isConvKernel = NO_CONV_KERNELS) => kind.transformation(resolved, learningRate, services, isConvKernel),
    fusedStep: (learningRate) => kind.fusedStep?.(resolved, learningRate, services) ?? `${kind.title} has no fused step`,
    config: () => kind.config(resolved),
  };
}

/** The names and options a kind declares, shared by both builders below. */
interface KindDefinition<Options extends object, Resolved extends ResolvedLearningRate> {
  readonly name: string;
  readonly title: string;
  readonly className: string;
  readonly optionNames: readonly string[];
  readonly resolve: (options: Options | undefined, owner: string) => Resolved;
  /** Default: the resolved options as they are (every one of them serializable). */
  readonly config?: (options: Resolved) => tf.serialization.ConfigDict;
  /** Default: the config is the options. */
  readonly optionsFromConfig?: (config: tf.serialization.ConfigDict) => Options;
}

/** The parts every kind fills the same way unless it says otherwise. */
function namesAndConfig<Options extends object, Resolved extends ResolvedLearningRate>(definition: KindDefinition<Options, Resolved>) {
  const { name, title, className, optionNames, resolve } = definition;
  return {
    name,
    title,
    className,
    optionNames,
    resolve,
    config: definition.config ?? ((options: Resolved) => ({ ...options }) as unknown as tf.serialization.ConfigDict),
    optionsFromConfig: definition.optionsFromConfig ?? ((config: tf.serialization.ConfigDict) => config as unknown as Options),
  };
}

/**
 * The kind of an optimizer that takes parameters of any shape and scales nothing by shape
 * (AdamW, Lion, Sophia): only its options and its transformation differ.
 */
export function elementwiseOptimizerKind<Options extends object, Resolved extends ResolvedLearningRate>(
  definition: KindDefinition<Options, Resolved> & {
    readonly transformation: (options: Resolved, learningRate: Live<Scheduled>) => GradientTransformation;
    /** The kind's fused step from the services' kernels, or why there is none (AdamW's: `adamStepKernel`). */
    readonly fusedStep?: (options: Resolved, learningRate: Live<Scheduled>, services: OptimizerServices) => FusedStep | string;
  },
): OptimizerKind<Options, Resolved> {
  return {
    ...namesAndConfig(definition),
    refuse: () => undefined,
    describe: () => ({ scale: 1 }),
    transformation: (options, learningRate) => definition.transformation(options, learningRate),
    ...(definition.fusedStep !== undefined && { fusedStep: definition.fusedStep }),
  };
}

/** What a matrix optimizer's resolved options hold besides its learning rate. */
export interface ResolvedMatrixOptions extends ResolvedLearningRate {
  readonly lrAdjust: LrAdjust;
  readonly convOrthogonalization: ConvOrthogonalization;
  /** How weights of rank ≥ 3 other than convolution kernels split into matrices ({@link MatrixViewRule}). */
  readonly matrixViews: readonly MatrixViewRule[];
  /** The execution settings as given (a non-enumerable property: never saved). */
  readonly execution: ExecutionOptions;
}

/**
 * What a matrix optimizer's transformation is built with besides its options and rate: the
 * kernels, resolved from its execution settings and the adapter's services (this layer imports
 * none), and the model's convolution kernels.
 */
export interface MatrixTransformationContext {
  /** The orthogonalization kernel: `execution.orthogonalize`, else the services' default. */
  readonly orthogonalize: Orthogonalizer;
  /** Which variables the model's layer classes make convolution kernels (none without a model). */
  readonly isConvKernel: IsConvKernel;
  /** The services' bfloat16 codecs, for bfloat16-stored state; absent: the host codec (cpu, wasm). */
  readonly bfloat16Codecs?: Bfloat16Codecs;
}

/**
 * The kind of an optimizer that orthogonalizes matrices (Muon, NorMuon, Dion2): it refuses
 * parameters of rank < 2 and weights of rank ≥ 3 it has no matrix view of (`matrixViews`),
 * reports each variable's `[fanIn, fanOut]` matrix view, their number and shape scale, and runs the
 * `execution.orthogonalize` kernel, else the adapter's default. With `fuse`, the kind also has a
 * fused step ({@link fusedStepOf}).
 */
export function matrixOptimizerKind<Options extends object, Resolved extends ResolvedMatrixOptions>(
  definition: KindDefinition<Options, Resolved> & {
    readonly transformation: (options: Resolved, learningRate: Live<Scheduled>, context: MatrixTransformationContext) => GradientTransformation;
    /** The kind's fused step from the services' kernels ({@link withKernel}), or why there is none. */
    readonly fuse?: (options: Resolved, learningRate: Live<Scheduled>, services: OptimizerServices) => FusedStep | string;
  },
): OptimizerKind<Options, Resolved> {
  const { title, fuse } = definition;
  const viewOf = (options: Resolved, { name, shape, convKernel }: GroupVariable): MatrixView | undefined =>
    matrixViewOf(options.matrixViews, options.convOrthogonalization, () => convKernel)(name, shape);
  return {
    ...namesAndConfig(definition),
    refuse(options, variable) {
      if (variable.shape.length < 2) return `${title} needs rank ≥ 2: it orthogonalizes matrices (biases, norm gains and other vectors belong to AdamW)`;
      try {
        viewOf(options, variable);
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    describe(options, variable) {
      const view = viewOf(options, variable) as MatrixView;
      return { scale: shapeScale(view, options.lrAdjust) * view.updateScale, matrix: [view.fanIn, view.fanOut], ...(view.batch > 1 && { matrices: view.batch }) };
    },
    transformation: (options, learningRate, services, isConvKernel) =>
      definition.transformation(options, learningRate, {
        orthogonalize: options.execution.orthogonalize ?? services.defaultOrthogonalizer(),
        isConvKernel,
        ...(services.bfloat16Codec !== undefined && { bfloat16Codecs: services.bfloat16Codec }),
      }),
    ...(fuse !== undefined && {
      fusedStep: (options, learningRate, services) => fusedStepOf(options.execution, () => fuse(options, learningRate, services)),
    }),
  };
}

/** A kind's fused step made with the kernel the services supply (`kernel`, e.g. `services.muonStepKernel`), or why there is none. */
export function withKernel<Kernel>(kernel: (() => Kernel) | undefined, fuse: (kernel: Kernel) => FusedStep | string): FusedStep | string {
  return kernel === undefined ? 'the services supply no fused-step kernel' : fuse(kernel());
}

/**
 * The fused step of a matrix optimizer under its execution settings: none when they turn it off
 * (`fused: false`) or name their own orthogonalization kernel (the fused kernel runs the native
 * engine, so it equals the composition only with the default kernel); else `fuse()`'s.
 */
export function fusedStepOf(execution: ExecutionOptions, fuse: () => FusedStep | string): FusedStep | string {
  if (execution.fused === false) return 'turned off by execution: { fused: false }';
  if (execution.orthogonalize !== undefined) return 'execution names its own orthogonalize kernel; the fused step runs the native one';
  return fuse();
}

/**
 * Checks execution settings given by a JavaScript caller (`owner.execution`): an object of the
 * names `allowed` takes, a function kernel, a boolean `fused`. Returns them frozen.
 */
export function resolveExecution(execution: unknown, allowed: readonly (keyof ExecutionOptions)[], owner: string): ExecutionOptions {
  if (execution === undefined) return Object.freeze({});
  if (execution === null || typeof execution !== 'object' || Array.isArray(execution)) {
    throw new Error(`${owner}: execution must be an object { ${allowed.join(', ')} }, got ${JSON.stringify(execution)}`);
  }
  for (const key of Object.keys(execution)) {
    if (!(allowed as readonly string[]).includes(key)) throw new Error(`${owner}: unknown execution setting '${key}'; valid settings are ${allowed.join(', ')}`);
  }
  const { orthogonalize, fused } = execution as ExecutionOptions;
  if (orthogonalize !== undefined && typeof orthogonalize !== 'function') {
    throw new Error(`${owner}: execution.orthogonalize must be a function (matrices, schedule) => matrices, got ${typeof orthogonalize}`);
  }
  if (fused !== undefined && typeof fused !== 'boolean') {
    throw new Error(`${owner}: execution.fused must be a boolean, got ${String(fused)}`);
  }
  return Object.freeze({ ...(orthogonalize !== undefined && { orthogonalize }), ...(fused !== undefined && { fused }) });
}
