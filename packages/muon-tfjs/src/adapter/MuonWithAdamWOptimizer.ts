import * as tf from '@tensorflow/tfjs-core';
import type { Scheduled } from '../math/schedule.js';
import type { AdamWOptions, ResolvedAdamWOptions } from '../optimizers/adamw.js';
import { MUON_KIND, type MuonOptions, type ResolvedMuonOptions, muonConfig } from '../optimizers/muon.js';
import type { Route, RoutingPolicy } from '../optimizers/routing.js';
import { type LayersModelLike, describeVariables } from './describeVariables.js';
import { type HybridConfig, HybridOptimizer, type SavedRoute } from './HybridOptimizer.js';

/**
 * Defaults of the AdamW half of the hybrid. Betas (0.9, 0.95), eps 1e-10 and no weight decay are
 * KellerJordan/Muon's `MuonWithAuxAdam`; its lr 3e-4 (tuned for GPT-2 scale) is not: measured on the
 * benchmark's models as `muonWithAdamW(model)` is used (constant rates, every other setting
 * default; `npm run bench:hybrid-defaults`, 3 seeds, docs/benchmark.md "The hybrid's defaults"),
 * an AdamW half at 3e-3 has the best mean rank over the four models (MLP, ConvNet, transformer,
 * character LSTM) of 3e-4 … 3e-2, and beats `adamw()` on each; at 3e-4 the hybrid lost to
 * `adamw()` on the LSTM (test loss 3.79 vs 3.17).
 */
export const HYBRID_ADAMW_DEFAULTS = {
  learningRate: 3e-3,
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-10,
  weightDecay: 0,
  correctedWeightDecay: false,
  cautiousWeightDecay: false,
} as const satisfies Omit<ResolvedAdamWOptions, 'maxLearningRate' | 'execution'>;

/** Options of {@link muonWithAdamW}: each half's options, and how to adjust the routing. */
export interface MuonWithAdamWOptions extends RoutingPolicy<Route> {
  /** Options of the Muon half (hidden matrices and conv kernels); defaults {@link MUON_DEFAULTS}. */
  readonly muon?: MuonOptions;
  /** Options of the AdamW half (everything else); defaults {@link HYBRID_ADAMW_DEFAULTS}. */
  readonly adamw?: AdamWOptions;
}

/** The constructor's argument: the options plus what the router knows in advance. */
export interface MuonWithAdamWConfig extends MuonWithAdamWOptions, Pick<HybridConfig<Route>, 'variables'> {
  /** Decisions restored from a saved config (they win over the policy for those names). */
  readonly routes?: readonly (SavedRoute & { readonly shape?: readonly number[] })[];
}

const OPTION_NAMES = ['muon', 'adamw', 'overrides', 'label', 'variables', 'routes'];

/** The general hybrid's config for the two fixed groups `muon` and `adamw`. */
function toHybridConfig(config: MuonWithAdamWConfig): HybridConfig<Route> {
  const owner = MuonWithAdamWOptimizer.className;
  if (config === null || typeof config !== 'object') {
    throw new Error(`${owner}: expected an options object, got ${String(config)}`);
  }
  for (const key of Object.keys(config)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new Error(`${owner}: unknown option '${key}'; valid options are ${OPTION_NAMES.join(', ')}`);
    }
  }
  const { muon, adamw, ...routing } = config;
  if (adamw !== undefined && (adamw === null || typeof adamw !== 'object' || Array.isArray(adamw))) {
    throw new Error(`${owner}.adamw: options must be an object, got ${JSON.stringify(adamw)}`);
  }
  return {
    ...routing,
    groups: {
      muon: { optimizer: 'muon', ...(muon !== undefined && { options: muon }) },
      adamw: { optimizer: 'adamw', options: { ...HYBRID_ADAMW_DEFAULTS, ...adamw } },
    },
  };
}

/**
 * The hybrid the Muon authors recommend, as a preset of {@link HybridOptimizer}: Muon for hidden
 * matrices and conv kernels, AdamW for embeddings, the output head, biases, norm gains and every
 * other parameter, each half with its own learning rate and weight decay. One `tf.Optimizer`, one
 * checkpoint. Its saved config keeps the `{ muon, adamw, routes }` form.
 */
export class MuonWithAdamWOptimizer extends HybridOptimizer<Route> {
  static override className = 'MuonWithAdamWOptimizer';

  constructor(config: MuonWithAdamWConfig = {}) {
    super(toHybridConfig(config));
  }

  /** The Muon half's options, every default filled in. */
  get muonOptions(): ResolvedMuonOptions {
    return this.groupOptions('muon') as ResolvedMuonOptions;
  }

  /** The AdamW half's options, every default filled in. */
  get adamwOptions(): ResolvedAdamWOptions {
    return this.groupOptions('adamw') as ResolvedAdamWOptions;
  }

  /** Learning rate of the Muon half's next step; assign a number or a schedule. */
  get muonLearningRate(): number {
    return this.learningRateOf('muon');
  }

  set muonLearningRate(value: Scheduled) {
    this.setLearningRate('muon', value);
  }

  /** Learning rate of the AdamW half's next step; assign a number or a schedule. */
  get adamwLearningRate(): number {
    return this.learningRateOf('adamw');
  }

  set adamwLearningRate(value: Scheduled) {
    this.setLearningRate('adamw', value);
  }

  override getConfig(): tf.serialization.ConfigDict {
    // The execution settings are never saved (a non-enumerable property the spread would skip anyway).
    const { execution: _execution, ...adamwOptions } = this.adamwOptions;
    return {
      muon: { ...muonConfig(this.muonOptions), learningRate: this.learningRateScheduleOf('muon') } as tf.serialization.ConfigDict,
      adamw: { ...adamwOptions, learningRate: this.learningRateScheduleOf('adamw') } as tf.serialization.ConfigDict,
      // Stored under `name` keys: tfjs-layers camel-cases every other string of a saved config.
      routes: this.savedRoutes().map(({ name, route, shape, convKernel }) => ({ name, route, ...(shape && { shape: [...shape] }), convKernel })),
    };
  }

  /** Rebuilds the hybrid from {@link getConfig}'s `{ muon, adamw, routes }` form (the Muon half's options read by Muon's kind, older forms included). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const { customObjects: _customObjects, muon, ...options } = config;
    return new cls({ ...options, ...(muon !== undefined && { muon: MUON_KIND.optionsFromConfig(muon as tf.serialization.ConfigDict) }) });
  }
}

tf.serialization.registerClass(MuonWithAdamWOptimizer);

/**
 * Creates the Muon + AdamW hybrid. Given a `tf.LayersModel` (built), it routes by layer: Dense and
 * Conv kernels of hidden layers → Muon; Embedding, the last weighted layer (the head), depthwise
 * kernels, biases and norm gains → AdamW. Given variables, it routes by rank and name (`embed` →
 * AdamW); mark the head with an override then. Any other weight of rank ≥ 3 (a custom layer's
 * experts `[E, in, out]`) goes to Muon under a `matrixViews` rule of the `muon` options, else to
 * AdamW with a warning naming it: it is never flattened into one matrix. Print `describeRouting()` to check.
 * @example
 * const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 3e-4 } });
 * console.table(optimizer.describeRouting());
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 */
export function muonWithAdamW(modelOrVariables: LayersModelLike | readonly tf.Variable[], options: MuonWithAdamWOptions = {}): MuonWithAdamWOptimizer {
  return new MuonWithAdamWOptimizer({ ...options, variables: describeVariables(modelOrVariables, 'muonWithAdamW') });
}
