import * as tf from '@tensorflow/tfjs-core';
import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import { nativeMuonStep } from '../kernels/nativeMuonStep.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { fusedMuonStep } from '../optimizers/fusedMuon.js';
import { type MuonOptions, type ResolvedMuonOptions, muonConfig, muonTransformation, resolveMuonOptions } from '../optimizers/muon.js';
import { fusedStepOf } from '../optimizers/optimizerKind.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';
import type { FusedExecution } from './TransformOptimizer.js';

/**
 * Muon (MomentUm Orthogonalized by Newton–Schulz, Keller Jordan 2024) as a `tf.Optimizer`, for
 * the hidden matrices and conv kernels of a network only: every variable it receives must have
 * rank ≥ 2 (kernels are seen as `[fanIn, fanOut]` matrices). Use {@link muonWithAdamW} to train a
 * whole model. State: `<variable>/momentum`, and `<variable>/nsLowerBound` under `nsSteps: 'auto'`.
 * In Node with the native addon, the whole step runs fused in it (see `fused` and
 * {@link describeExecution}).
 */
export class MuonOptimizer extends SingleRateOptimizer {
  static className = 'MuonOptimizer';
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: ResolvedMuonOptions;
  readonly #orthogonalize: Orthogonalizer;
  /** The execution options as given (`orthogonalize`, `fused`), which decide whether the step may run fused. */
  readonly #execution: Pick<MuonOptions, 'orthogonalize' | 'fused'>;

  constructor(options: MuonOptions = {}) {
    const resolved = resolveMuonOptions(options, MuonOptimizer.className);
    super(resolved.learningRate);
    this.options = resolved;
    this.#orthogonalize = options.orthogonalize ?? fastestOrthogonalizer();
    this.#execution = { ...(options.orthogonalize && { orthogonalize: options.orthogonalize }), ...(options.fused !== undefined && { fused: options.fused }) };
  }

  protected override createTransformation(): GradientTransformation {
    return muonTransformation(this.options, this.currentLearningRate, this.#orthogonalize);
  }

  protected override createFusedExecutions(): readonly FusedExecution[] {
    const step = fusedStepOf(this.#execution, () => fusedMuonStep(this.options, this.currentLearningRate, nativeMuonStep()));
    return [{ label: 'muon', step, claims: () => true }];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...muonConfig(this.options), learningRate: this.learningRateConfig };
  }
}

tf.serialization.registerClass(MuonOptimizer);

/**
 * Creates a Muon optimizer for matrices and conv kernels.
 * @example
 * const opt = muon({ learningRate: 0.02 });
 * opt.minimize(() => loss(), false, [hiddenKernel]);
 */
export function muon(options: MuonOptions = {}): MuonOptimizer {
  return new MuonOptimizer(options);
}
