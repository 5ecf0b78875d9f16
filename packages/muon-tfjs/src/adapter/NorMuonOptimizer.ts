import * as tf from '@tensorflow/tfjs-core';
import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { muonConfig } from '../optimizers/muon.js';
import { type NorMuonOptions, type ResolvedNorMuonOptions, normuonTransformation, resolveNorMuonOptions } from '../optimizers/normuon.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';

/**
 * NorMuon (Li et al. 2025) as a `tf.Optimizer`: Muon plus a per-neuron second moment applied after
 * Newton–Schulz. Like Muon, for matrices and conv kernels only; use `hybrid` with a `normuon`
 * group to train a whole model. State: `<variable>/momentum`, `<variable>/neuronSecondMoment`.
 */
export class NorMuonOptimizer extends SingleRateOptimizer {
  static className = 'NorMuonOptimizer';
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: ResolvedNorMuonOptions;
  readonly #orthogonalize: Orthogonalizer;

  constructor(options: NorMuonOptions = {}) {
    const resolved = resolveNorMuonOptions(options, NorMuonOptimizer.className);
    super(resolved.learningRate);
    this.options = resolved;
    this.#orthogonalize = options.orthogonalize ?? fastestOrthogonalizer();
  }

  protected override createTransformation(): GradientTransformation {
    return normuonTransformation(this.options, this.currentLearningRate, this.#orthogonalize);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...muonConfig(this.options), learningRate: this.learningRateConfig };
  }
}

tf.serialization.registerClass(NorMuonOptimizer);

/**
 * Creates a NorMuon optimizer for matrices and conv kernels (same learning rate as Muon's).
 * @example
 * const opt = normuon({ learningRate: 0.02, beta2: 0.95 });
 * opt.minimize(() => loss(), false, [hiddenKernel]);
 */
export function normuon(options: NorMuonOptions = {}): NorMuonOptimizer {
  return new NorMuonOptimizer(options);
}
