import type { Orthogonalizer } from '../math/orthogonalizer.js';
import type { ConvOrthogonalization } from '../math/convTaps.js';
import type { MatrixView } from '../math/matrixView.js';
import type { MuonStepKernel } from '../math/muonStepKernel.js';
import type { Scheduled } from '../math/schedule.js';
import { type LrAdjust, shapeScale } from '../math/shapeScale.js';
import type { FusedStep } from '../transforms/fusedStep.js';
import type { GradientTransformation, Live } from '../transforms/gradientTransformation.js';
import { type IsConvKernel, type MatrixViewRule, matrixViewOf } from './matrixViews.js';

/** What the adapter supplies to the optimizers it builds (the kernels live above this layer). */
export interface OptimizerServices {
  /** The orthogonalization kernel Muon uses when its options name none. */
  readonly defaultOrthogonalizer: () => Orthogonalizer;
  /** The kernel of the fused Muon step that goes with the default orthogonalizer; without it, Muon runs composed. */
  readonly muonStepKernel?: () => MuonStepKernel;
}

/** A variable as a group sees it: its name, its shape, and whether its layer class makes it a convolution kernel. */
export interface GroupVariable {
  readonly name: string;
  readonly shape: readonly number[];
  /** From a convolution layer of a model (`isConvolutionKernel` of the routing): only these are flattened without a `matrixViews` rule. */
  readonly convKernel: boolean;
}

/**
 * One optimizer of a hybrid, its options resolved: everything the hybrid needs to route a
 * variable to it, describe the route, build its transformation and save it.
 */
export interface OptimizerGroup {
  /** The kind's name, as in a config: `muon`, `adamw`, `lion`. */
  readonly kind: string;
  /** Its name in messages and tables: `Muon`, `AdamW`, `Lion`. */
  readonly title: string;
  /** The resolved options, every default filled in; serializable (no functions, no tensors). */
  readonly options: Readonly<Record<string, unknown>> & { readonly learningRate: Scheduled };
  /**
   * Why this optimizer cannot take this variable (e.g. Muon and a vector, or a rank-3 weight with
   * no matrix view), or undefined when it can. The router asks before routing, so refusals surface
   * at construction.
   */
  refuse(variable: GroupVariable): string | undefined;
  /**
   * The update scale for this variable (Muon's shape scale; 1 for the others) and, for Muon, the
   * matrix it orthogonalizes, and how many of them when its view has several (a conv kernel's
   * taps, with the 1/√taps in the scale; the experts of a `matrixViews` rule).
   */
  describe(variable: GroupVariable): { readonly scale: number; readonly matrix?: readonly [number, number]; readonly matrices?: number };
  /**
   * The transformation, reading its learning rate live (the adapter evaluates schedules at its
   * step index); `isConvKernel` says which variables the model's layer classes make convolution kernels.
   */
  transformation(learningRate: Live<number>, isConvKernel: IsConvKernel): GradientTransformation;
  /**
   * The fused execution of {@link transformation} (same learning rate), or why there is none for
   * this kind or these options; the adapter decides per step whether it can run.
   */
  fusedStep(learningRate: Live<number>): FusedStep | string;
}

/**
 * A kind of optimizer a hybrid can use for a group of variables: it resolves and checks its own
 * options (naming `owner` in errors) into an {@link OptimizerGroup}. New optimizers (NorMuon,
 * Sophia) join the hybrid by defining one of these and adding it to `OPTIMIZER_KINDS`.
 */
export interface OptimizerKind<Options> {
  readonly name: string;
  readonly title: string;
  create(options: Options | undefined, owner: string, services: OptimizerServices): OptimizerGroup;
}

/**
 * The kind of an optimizer that takes parameters of any shape and scales nothing by shape
 * (AdamW, Lion): only its options and its transformation differ.
 */
export function elementwiseOptimizerKind<Options, Resolved extends { readonly learningRate: Scheduled }>(
  name: string,
  title: string,
  resolve: (options: Options | undefined, owner: string) => Resolved,
  build: (resolved: Resolved, learningRate: Live<number>) => GradientTransformation,
): OptimizerKind<Options> {
  return {
    name,
    title,
    create(options, owner) {
      const resolved = resolve(options, owner);
      return {
        kind: name,
        title,
        options: resolved,
        refuse: () => undefined,
        describe: () => ({ scale: 1 }),
        transformation: (learningRate) => build(resolved, learningRate),
        fusedStep: () => `${title} has no fused step`,
      };
    },
  };
}

/**
 * The kind of an optimizer that orthogonalizes matrices (Muon, NorMuon): it refuses parameters of
 * rank < 2, reports each kernel's `[fanIn, fanOut]` matrix view and shape scale, and runs the
 * options' `orthogonalize` kernel, else the adapter's default. With `fuse`, the kind also has a
 * fused step ({@link fusedStepOf}).
 */
export function matrixOptimizerKind<
  Options extends { readonly orthogonalize?: Orthogonalizer; readonly fused?: boolean },
  Resolved extends {
    readonly learningRate: Scheduled;
    readonly lrAdjust: LrAdjust;
    readonly convOrthogonalization: ConvOrthogonalization;
    readonly matrixViews: readonly MatrixViewRule[];
  },
>(
  name: string,
  title: string,
  resolve: (options: Options | undefined, owner: string) => Resolved,
  build: (resolved: Resolved, learningRate: Live<number>, orthogonalize: Orthogonalizer, isConvKernel: IsConvKernel) => GradientTransformation,
  fuse?: (resolved: Resolved, learningRate: Live<number>, kernel: MuonStepKernel) => FusedStep | string,
): OptimizerKind<Options> {
  return {
    name,
    title,
    create(options, owner, services) {
      const resolved = resolve(options, owner);
      const orthogonalize = options?.orthogonalize;
      const viewOf = ({ name: variable, shape, convKernel }: GroupVariable): MatrixView | undefined =>
        matrixViewOf(resolved.matrixViews, resolved.convOrthogonalization, () => convKernel)(variable, shape);
      return {
        kind: name,
        title,
        options: resolved,
        refuse(variable) {
          if (variable.shape.length < 2) return `${title} needs rank ≥ 2: it orthogonalizes matrices (biases, norm gains and other vectors belong to AdamW)`;
          try {
            viewOf(variable);
            return undefined;
          } catch (error) {
            return error instanceof Error ? error.message : String(error);
          }
        },
        describe(variable) {
          const view = viewOf(variable) as MatrixView;
          return { scale: shapeScale(view, resolved.lrAdjust) * view.updateScale, matrix: [view.fanIn, view.fanOut], ...(view.batch > 1 && { matrices: view.batch }) };
        },
        transformation: (learningRate, isConvKernel) => build(resolved, learningRate, orthogonalize ?? services.defaultOrthogonalizer(), isConvKernel),
        fusedStep(learningRate) {
          const kernel = services.muonStepKernel;
          if (fuse === undefined) return `${title} has no fused step`;
          if (kernel === undefined) return 'the services supply no fused-step kernel';
          return fusedStepOf(options, () => fuse(resolved, learningRate, kernel()));
        },
      };
    },
  };
}

/**
 * The fused step of a matrix optimizer under its options: none when they turn it off
 * (`fused: false`) or name their own orthogonalization kernel (the fused kernel runs the native
 * engine, so it equals the composition only with the default kernel); else `fuse()`'s.
 */
export function fusedStepOf(options: { readonly orthogonalize?: Orthogonalizer; readonly fused?: boolean } | undefined, fuse: () => FusedStep | string): FusedStep | string {
  if (options?.fused === false) return 'turned off by the option fused: false';
  if (options?.orthogonalize !== undefined) return 'the options name their own orthogonalize kernel; the fused step runs the native one';
  return fuse();
}
