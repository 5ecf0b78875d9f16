import * as tf from '@tensorflow/tfjs-core';
import { matrixShape } from '../math/matrixView.js';
import { fastestOrthogonalizer } from '../kernels/fastestOrthogonalizer.js';
import type { Orthogonalizer } from '../math/orthogonalizer.js';
import { shapeScale } from '../math/shapeScale.js';
import { type AdamWOptions, type ResolvedAdamWOptions, adamwTransformation, resolveAdamWOptions } from '../optimizers/adamw.js';
import { type MuonOptions, type ResolvedMuonOptions, muonConfig, muonTransformation, resolveMuonOptions } from '../optimizers/muon.js';
import { checkPositive } from '../optimizers/options.js';
import { type Route, type RouteDecision, type RoutingPolicy, type VariableDescription, routeVariable } from '../optimizers/routing.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { partition } from '../transforms/partition.js';
import { TransformOptimizer } from './TransformOptimizer.js';
import { matchVariableName } from './variableNames.js';

/**
 * Defaults of the AdamW half of the hybrid: those of KellerJordan/Muon's `MuonWithAuxAdam`
 * (lr 3e-4, betas (0.9, 0.95), eps 1e-10, no weight decay).
 */
export const HYBRID_ADAMW_DEFAULTS = {
  learningRate: 3e-4,
  beta1: 0.9,
  beta2: 0.95,
  epsilon: 1e-10,
  weightDecay: 0,
} as const satisfies ResolvedAdamWOptions;

/** Options of {@link muonWithAdamW}: each half's options, and how to adjust the routing. */
export interface MuonWithAdamWOptions extends RoutingPolicy {
  /** Options of the Muon half (hidden matrices and conv kernels); defaults {@link MUON_DEFAULTS}. */
  readonly muon?: MuonOptions;
  /** Options of the AdamW half (everything else); defaults {@link HYBRID_ADAMW_DEFAULTS}. */
  readonly adamw?: AdamWOptions;
}

/** A saved routing decision, as stored in the optimizer's config. */
export interface SavedRoute {
  readonly name: string;
  readonly route: Route;
}

/** The constructor's argument: the options plus what the router knows in advance. */
export interface MuonWithAdamWConfig extends MuonWithAdamWOptions {
  /** Variables to route now, with their layer information when they came from a model. */
  readonly variables?: readonly VariableDescription[];
  /** Decisions restored from a saved config (they win over the policy for those names). */
  readonly routes?: readonly SavedRoute[];
}

/** One row of {@link MuonWithAdamWOptimizer.describeRouting}. */
export interface RoutingRow {
  readonly variable: string;
  readonly optimizer: Route;
  readonly shape: readonly number[];
  /** The `[fanIn, fanOut]` matrix Muon orthogonalizes; absent for AdamW. */
  readonly matrix?: readonly [number, number];
  /** Muon's shape scale s (the update is −lr·s·O); 1 for AdamW. */
  readonly scale: number;
  /** The step size this variable sees now: lr·s for Muon, lr for AdamW. */
  readonly effectiveLearningRate: number;
  readonly reason: string;
}

interface RoutedVariable {
  readonly decision: RouteDecision;
  /** Known once the variable has been described or seen in a step. */
  readonly shape?: readonly number[];
}

/**
 * The hybrid the Muon authors recommend: Muon for hidden matrices and conv kernels, AdamW for
 * embeddings, the output head, biases, norm gains and every other parameter, each half with its
 * own learning rate and weight decay. One `tf.Optimizer`, one checkpoint.
 */
export class MuonWithAdamWOptimizer extends TransformOptimizer {
  static className = 'MuonWithAdamWOptimizer';
  readonly muonOptions: ResolvedMuonOptions;
  readonly adamwOptions: ResolvedAdamWOptions;
  readonly #policy: RoutingPolicy;
  readonly #orthogonalize: Orthogonalizer;
  readonly #routes = new Map<string, RoutedVariable>();
  #muonLearningRate: number;
  #adamwLearningRate: number;

  constructor(config: MuonWithAdamWConfig = {}) {
    super();
    const owner = MuonWithAdamWOptimizer.className;
    const known = ['muon', 'adamw', 'overrides', 'label', 'variables', 'routes'];
    for (const key of Object.keys(config)) {
      if (!known.includes(key)) {
        throw new Error(`${owner}: unknown option '${key}'; valid options are ${known.join(', ')}`);
      }
    }
    this.muonOptions = resolveMuonOptions(config.muon, `${owner}.muon`);
    this.adamwOptions = resolveAdamWOptions(config.adamw, `${owner}.adamw`, HYBRID_ADAMW_DEFAULTS);
    this.#muonLearningRate = this.muonOptions.learningRate;
    this.#adamwLearningRate = this.adamwOptions.learningRate;
    this.#orthogonalize = config.muon?.orthogonalize ?? fastestOrthogonalizer();
    this.#policy = { ...(config.overrides && { overrides: config.overrides }), ...(config.label && { label: config.label }) };
    for (const { name, route } of config.routes ?? []) {
      if (route !== 'muon' && route !== 'adamw') {
        throw new Error(`${owner}: saved route of '${name}' is '${String(route)}'; expected 'muon' or 'adamw'`);
      }
      this.#routes.set(name, { decision: { route, reason: 'restored from a saved config' } });
    }
    for (const variable of config.variables ?? []) {
      this.#routes.set(variable.name, { decision: routeVariable(variable, this.#policy), shape: variable.shape });
    }
  }

  /** Learning rate of the Muon half; assign to schedule it. */
  get muonLearningRate(): number {
    return this.#muonLearningRate;
  }

  set muonLearningRate(value: number) {
    checkPositive(value, 'muonLearningRate', MuonWithAdamWOptimizer.className);
    this.#muonLearningRate = value;
  }

  /** Learning rate of the AdamW half; assign to schedule it. */
  get adamwLearningRate(): number {
    return this.#adamwLearningRate;
  }

  set adamwLearningRate(value: number) {
    checkPositive(value, 'adamwLearningRate', MuonWithAdamWOptimizer.className);
    this.#adamwLearningRate = value;
  }

  /** Where a variable goes: its recorded decision (matched by name), else the policy's. */
  routeOf(name: string, shape: readonly number[]): Route {
    const saved = matchVariableName(name, this.#routes.keys());
    const known = saved === undefined ? undefined : this.#routes.get(saved);
    const decision = known?.decision ?? routeVariable({ name, shape }, this.#policy);
    if (decision.route === 'muon' && shape.length < 2) {
      throw new Error(`'${name}' of shape [${shape.join(', ')}] is routed to Muon (${decision.reason}), but Muon needs rank ≥ 2`);
    }
    if (known?.shape === undefined || saved !== name) {
      this.#routes.set(name, { decision, shape });
    }
    return decision.route;
  }

  /** The routing table: every variable known so far, where it goes, why, and its step size. */
  describeRouting(): RoutingRow[] {
    const rows: RoutingRow[] = [];
    for (const [variable, { decision, shape }] of this.#routes) {
      if (shape === undefined) {
        continue;
      }
      if (decision.route === 'muon') {
        const m = matrixShape(shape);
        const scale = shapeScale(m, this.muonOptions.lrAdjust);
        rows.push({ variable, optimizer: 'muon', shape, matrix: [m.fanIn, m.fanOut], scale, effectiveLearningRate: this.#muonLearningRate * scale, reason: decision.reason });
      } else {
        rows.push({ variable, optimizer: 'adamw', shape, scale: 1, effectiveLearningRate: this.#adamwLearningRate, reason: decision.reason });
      }
    }
    return rows;
  }

  protected override createTransformation(): GradientTransformation {
    return partition((name, param) => this.routeOf(name, param.shape), {
      muon: muonTransformation(this.muonOptions, () => this.#muonLearningRate, this.#orthogonalize),
      adamw: adamwTransformation(this.adamwOptions, () => this.#adamwLearningRate),
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const routes = [...this.#routes].map(([name, { decision }]) => ({ name, route: decision.route }));
    return {
      muon: { ...muonConfig(this.muonOptions), learningRate: this.#muonLearningRate },
      adamw: { ...this.adamwOptions, learningRate: this.#adamwLearningRate },
      // Stored under `name` keys: tfjs-layers camel-cases every other string of a saved config.
      routes,
    };
  }
}

tf.serialization.registerClass(MuonWithAdamWOptimizer);

/** The parts of a tfjs-layers model the router reads (kept structural: no runtime dependency). */
export interface LayersModelLike {
  readonly layers: readonly {
    getClassName(): string;
    /** tfjs-layers types a weight's shape as `(number | null)[]`; built weights have no nulls. */
    readonly trainableWeights: readonly { readonly name: string; readonly shape: readonly (number | null)[] }[];
  }[];
}

/**
 * Describes a model's trainable variables for the router: each with its layer class, and the
 * weights of the last layer owning a kernel of rank ≥ 2 marked as the output head.
 */
export function describeModelVariables(model: LayersModelLike): VariableDescription[] {
  const hasKernel = (layer: LayersModelLike['layers'][number]): boolean => layer.trainableWeights.some((w) => w.shape.length >= 2);
  const head = [...model.layers].reverse().find(hasKernel);
  return model.layers.flatMap((layer) =>
    layer.trainableWeights.map((w) => {
      const shape = w.shape.map((d) => {
        if (d === null) {
          throw new Error(`Weight '${w.name}' has an undetermined shape [${w.shape.join(', ')}]; build the model first`);
        }
        return d;
      });
      return { name: w.name, shape, layerClass: layer.getClassName(), isOutputLayer: layer === head };
    }),
  );
}

/**
 * Creates the hybrid optimizer. Given a `tf.LayersModel` (built), it routes by layer: Dense and
 * Conv kernels of hidden layers → Muon; Embedding, the last weighted layer (the head), depthwise
 * kernels, biases and norm gains → AdamW. Given variables, it routes by rank and name (`embed` →
 * AdamW); mark the head with an override then. Print `describeRouting()` to check.
 * @example
 * const optimizer = muonWithAdamW(model, { muon: { learningRate: 0.02 }, adamw: { learningRate: 3e-4 } });
 * console.table(optimizer.describeRouting());
 * model.compile({ optimizer, loss: 'categoricalCrossentropy' });
 */
export function muonWithAdamW(modelOrVariables: LayersModelLike | readonly tf.Variable[], options: MuonWithAdamWOptions = {}): MuonWithAdamWOptimizer {
  const variables = Array.isArray(modelOrVariables)
    ? (modelOrVariables as readonly tf.Variable[]).map((v) => ({ name: v.name, shape: v.shape }))
    : describeModelVariables(modelOrVariables as LayersModelLike);
  if (variables.length === 0) {
    throw new Error('muonWithAdamW: the model has no trainable weights yet; build it (e.g. model.build or a first predict) before creating the optimizer');
  }
  return new MuonWithAdamWOptimizer({ ...options, variables });
}
