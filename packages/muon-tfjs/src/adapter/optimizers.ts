import { ADAMW_KIND, type AdamWOptions } from '../optimizers/adamw.js';
import { DION2_KIND, type Dion2Options } from '../optimizers/dion2.js';
import { LION_KIND, type LionOptions } from '../optimizers/lion.js';
import { MUON_KIND, type MuonOptions } from '../optimizers/muon.js';
import { NORMUON_KIND, type NorMuonOptions } from '../optimizers/normuon.js';
import { SOPHIA_KIND, type SophiaOptions } from '../optimizers/sophia.js';
import { optimizerClass } from './KindOptimizer.js';

// Each kind's class and factory under its own name (every kind's class is registered by
// KindOptimizer.ts, named here or not).

/**
 * Muon (MomentUm Orthogonalized by Newton–Schulz, Keller Jordan 2024) as a `tf.Optimizer`, for
 * the hidden matrices and conv kernels of a network only: every variable it receives must have
 * rank ≥ 2 (kernels are seen as `[fanIn, fanOut]` matrices). Use {@link muonWithAdamW} to train a
 * whole model. State: `<variable>/momentum`, and `<variable>/nsLowerBound` under layer-aware
 * `nsSteps`. In Node with the native addon, the whole step runs fused in it (see
 * `execution.fused` and `describeExecution`).
 */
export const MuonOptimizer = optimizerClass(MUON_KIND);
export type MuonOptimizer = InstanceType<typeof MuonOptimizer>;
/**
 * Creates a Muon optimizer for matrices and conv kernels.
 * @example
 * const opt = muon({ learningRate: 0.02 });
 * opt.minimize(() => loss(), false, [hiddenKernel]);
 */
export const muon = (options?: MuonOptions): MuonOptimizer => new MuonOptimizer(options);

/**
 * NorMuon (Li et al. 2025) as a `tf.Optimizer`: Muon plus a per-neuron second moment applied after
 * Newton–Schulz. Like Muon, for matrices and conv kernels only; use `hybrid` with a `normuon`
 * group to train a whole model. State: `<variable>/momentum`, `<variable>/neuronSecondMoment`.
 */
export const NorMuonOptimizer = optimizerClass(NORMUON_KIND);
export type NorMuonOptimizer = InstanceType<typeof NorMuonOptimizer>;
/**
 * Creates a NorMuon optimizer for matrices and conv kernels (same learning rate as Muon's).
 * @example
 * const opt = normuon({ learningRate: 0.02, beta2: 0.95 });
 */
export const normuon = (options?: NorMuonOptions): NorMuonOptimizer => new NorMuonOptimizer(options);

/**
 * Dion2 (Ahn et al., arXiv 2512.16928) as a `tf.Optimizer`: Muon that orthogonalizes only the
 * α-fraction of the momentum's rows (or columns) of largest L1 norm and keeps the rest in the
 * momentum. For matrices and conv kernels only; use `hybrid` with a `dion2` group to train a whole
 * model. State: `<variable>/momentum`.
 */
export const Dion2Optimizer = optimizerClass(DION2_KIND);
export type Dion2Optimizer = InstanceType<typeof Dion2Optimizer>;
/**
 * Creates a Dion2 optimizer for matrices and conv kernels.
 * @example
 * const opt = dion2({ learningRate: 0.02, fraction: 0.25 });
 * opt.minimize(() => loss(), false, [hiddenKernel]);
 */
export const dion2 = (options?: Dion2Options): Dion2Optimizer => new Dion2Optimizer(options);

/**
 * AdamW with decoupled weight decay and bias correction as a `tf.Optimizer` (TF.js has only Adam,
 * whose L2 term would be scaled by the adaptive denominator). State: `<variable>/m`, `<variable>/v`.
 */
export const AdamWOptimizer = optimizerClass(ADAMW_KIND);
export type AdamWOptimizer = InstanceType<typeof AdamWOptimizer>;
/**
 * Creates an AdamW optimizer.
 * @example
 * model.compile({ optimizer: adamw({ learningRate: 1e-3, weightDecay: 0.01 }), loss: 'meanSquaredError' });
 */
export const adamw = (options?: AdamWOptions): AdamWOptimizer => new AdamWOptimizer(options);

/** Lion (EvoLved Sign Momentum, Chen et al. 2023) as a `tf.Optimizer`. State: `<variable>/m`. */
export const LionOptimizer = optimizerClass(LION_KIND);
export type LionOptimizer = InstanceType<typeof LionOptimizer>;
/**
 * Creates a Lion optimizer.
 * @example
 * model.compile({ optimizer: lion({ learningRate: 1e-4, weightDecay: 0.1 }), loss: 'categoricalCrossentropy' });
 */
export const lion = (options?: LionOptions): LionOptimizer => new LionOptimizer(options);

/**
 * SophiaG (Liu et al. 2023) as a `tf.Optimizer`. It needs a Hessian-diagonal estimate every k
 * steps: add {@link sophiaHessianCallback} to `model.fit`, or call {@link provideHessianEstimate}
 * in a custom loop (or provide any estimate as `provideStepInputs('hessianDiagonal', ...)`).
 * Without one it takes sign-momentum steps. State: `<variable>/m`, `<variable>/hessian`.
 */
export const SophiaOptimizer = optimizerClass(SOPHIA_KIND);
export type SophiaOptimizer = InstanceType<typeof SophiaOptimizer>;
/**
 * Creates a SophiaG optimizer.
 * @example
 * const optimizer = sophia({ learningRate: 3e-3, rho: 0.05 });
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 * await model.fit(xs, ys, { callbacks: [sophiaHessianCallback(model, optimizer, { inputs: tf.slice(xs, 0, 256) })] });
 */
export const sophia = (options?: SophiaOptions): SophiaOptimizer => new SophiaOptimizer(options);
