import * as tf from '@tensorflow/tfjs-core';
import { warnOnce } from '../kernels/warnOnce.js';
import type { OptimizerGroup } from '../optimizers/optimizerKind.js';
import { type GroupSpec, createGroup, optimizerKindNamed } from '../optimizers/optimizerKinds.js';
import { type Scheduled, scheduleValue } from '../math/schedule.js';
import { checkLearningRate } from '../optimizers/options.js';
import { type RouteDecision, type RoutingPolicy, type VariableDescription, checkRoutingPolicy, isConvolutionKernel, routeVariable } from '../optimizers/routing.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { partition } from '../transforms/partition.js';
import { type LayersModelLike, describeVariables } from './describeVariables.js';
import { type FusedExecution, TransformOptimizer } from './TransformOptimizer.js';
import { bindRestoredNames } from './restoredState.js';
import { ADAPTER_SERVICES } from './adapterServices.js';

/** Options of {@link hybrid}: the groups by label, and the routing policy. */
export interface HybridOptions<L extends string = string> extends RoutingPolicy<NoInfer<L>> {
  /**
   * The groups by label, each an optimizer with its options. Labels are open; the default policy
   * ({@link defaultRoute}) hands out `muon` and `adamw`, so a hybrid without a group of either
   * label needs a label function or overrides that cover every variable.
   */
  readonly groups: Readonly<Record<L, GroupSpec>>;
}

/** A saved routing decision: variable name and group label, and whether the variable is a convolution kernel by its layer class. */
export interface SavedRoute {
  readonly name: string;
  readonly route: string;
  readonly convKernel?: boolean;
}

/** The constructor's argument: the options plus what the router knows in advance. */
export interface HybridConfig<L extends string = string> extends HybridOptions<L> {
  /** Variables to route now, with their layer information when they came from a model. */
  readonly variables?: readonly VariableDescription[];
  /**
   * Decisions restored from a saved config. They win over the policy for the same name and, after
   * a reload has renamed the variables (`kernel` → `kernel_1`), for the one variable of that base
   * name and the recorded shape.
   */
  readonly routes?: readonly (SavedRoute & { readonly shape?: readonly number[] })[];
}

/** A number a person reads in the routing table: 4 significant digits (1.7888543819998317 → 1.789). */
const forReading = (x: number): number => Number(x.toPrecision(4));

/** One row of {@link HybridOptimizer.describeRouting}. */
export interface RoutingRow {
  readonly variable: string;
  /** The group label. */
  readonly label: string;
  /** The group's optimizer kind: `muon`, `adamw`, `lion`. */
  readonly optimizer: string;
  readonly shape: readonly number[];
  /** The `[fanIn, fanOut]` matrix Muon orthogonalizes; absent for element-wise optimizers. */
  readonly matrix?: readonly [number, number];
  /** How many such matrices: a conv kernel's taps when its group orthogonalizes per tap, a `matrixViews` rule's batch; absent for one. */
  readonly matrices?: number;
  /**
   * The update scale s (Muon's shape scale; 1 for the others): the step is −lr·s·direction. Like
   * `effectiveLearningRate`, rounded to 4 significant digits for reading (√3.2 shows as 1.789); the
   * step itself uses the exact value.
   */
  readonly scale: number;
  /** The step size this variable sees now: lr·s (4 significant digits). */
  readonly effectiveLearningRate: number;
  readonly reason: string;
}

interface RoutedVariable {
  readonly decision: RouteDecision;
  /** Known once the variable has been described or seen in a step; may be saved with a route. */
  readonly shape?: readonly number[];
  /** Restored from a saved config and not yet bound to a live variable. */
  readonly restored: boolean;
  /** A convolution kernel by its layer class (`isConvolutionKernel`), saved with the route: the only rank ≥ 3 weight Muon flattens unasked. */
  readonly convKernel: boolean;
}

/**
 * The general hybrid: any number of labelled groups, each trained by its own optimizer (Muon,
 * AdamW, Lion) with its own options and learning rate; a label function and overrides route each
 * variable, then the default policy. One `tf.Optimizer`, one checkpoint, serializable with
 * `model.save(..., { includeOptimizer: true })`. What an optimizer cannot take (Muon: rank < 2)
 * is refused when the variable is routed, in that optimizer's words.
 */
export class HybridOptimizer<L extends string = string> extends TransformOptimizer {
  static className = 'HybridOptimizer';
  readonly #groups = new Map<string, OptimizerGroup>();
  /** Each group's learning rate as given: a number or a schedule read at the step index. */
  readonly #learningRates = new Map<string, Scheduled>();
  readonly #policy: RoutingPolicy<L>;
  readonly #routes = new Map<string, RoutedVariable>();

  constructor(config: HybridConfig<L>) {
    super();
    const owner = this.getClassName();
    if (config === null || typeof config !== 'object') {
      throw new Error(`${owner}: expected a config object, got ${String(config)}`);
    }
    const known = ['groups', 'overrides', 'label', 'variables', 'routes'];
    for (const key of Object.keys(config)) {
      if (!known.includes(key)) {
        throw new Error(`${owner}: unknown option '${key}'; valid options are ${known.join(', ')}`);
      }
    }
    const { groups } = config;
    if (groups === null || typeof groups !== 'object' || Array.isArray(groups) || Object.keys(groups).length === 0) {
      throw new Error(`${owner}: groups must map at least one label to { optimizer, options }, got ${JSON.stringify(groups)}`);
    }
    for (const [label, spec] of Object.entries<GroupSpec>(groups)) {
      const group = createGroup(spec, `${owner}.${label}`, ADAPTER_SERVICES);
      this.#groups.set(label, group);
      this.#learningRates.set(label, group.options.learningRate);
    }
    checkRoutingPolicy(config, owner);
    this.#policy = { ...(config.overrides && { overrides: config.overrides }), ...(config.label && { label: config.label }) };
    for (const { name, route, shape, convKernel: saved } of config.routes ?? []) {
      const convKernel = saved ?? this.savedBeforeConvKernels(name, route, shape);
      const decision = this.checkDecision(name, shape, convKernel, { route, reason: 'restored from a saved config' });
      this.#routes.set(name, { decision, ...(shape && { shape }), restored: true, convKernel });
    }
    for (const variable of config.variables ?? []) {
      const convKernel = isConvolutionKernel(variable);
      const decision = this.checkDecision(variable.name, variable.shape, convKernel, routeVariable(variable, this.#policy));
      this.#routes.set(variable.name, { decision, shape: variable.shape, restored: false, convKernel });
    }
  }

  /** The group labels, in the order they were given. */
  get labels(): string[] {
    return [...this.#groups.keys()];
  }

  /** The resolved options of a group, every default filled in (narrow by its kind: `muonWithAdamW`'s `muonOptions`). */
  groupOptions(label: L): Readonly<Record<string, unknown>> {
    return this.group(label).options as unknown as Readonly<Record<string, unknown>>;
  }

  /** The learning rate a group's next step will use (its schedule's value at the current step index). */
  learningRateOf(label: L): number {
    return scheduleValue(this.learningRateScheduleOf(label), this.iterations);
  }

  /** A group's learning rate as given: a number or a schedule (what `getConfig()` saves). */
  learningRateScheduleOf(label: L): Scheduled {
    this.group(label);
    return this.#learningRates.get(label) as Scheduled;
  }

  /** Sets a group's learning rate, a number or a schedule (read at every step). */
  setLearningRate(label: L, value: Scheduled): void {
    this.group(label);
    this.#learningRates.set(label, checkLearningRate(value, `learningRate of group '${label}'`, this.getClassName()));
  }

  /**
   * The hybrid has one learning rate per group: assigning a single one would be silently ignored
   * by the groups, so it is refused. Use {@link setLearningRate}.
   */
  set learningRate(_value: number) {
    throw new Error(`${this.getClassName()} has one learning rate per group (${this.labels.join(', ')}); use setLearningRate(label, value)`);
  }

  /** Where a variable goes: its recorded decision, else a restored one it stands for, else the policy's. */
  routeOf(name: string, shape: readonly number[]): string {
    const known = this.#routes.get(name);
    if (known !== undefined && !known.restored) return known.decision.route;
    const restored = known !== undefined && (known.shape === undefined || tf.util.arraysEqual([...known.shape], [...shape])) ? known : this.restoredRouteFor(name, shape);
    const convKernel = restored?.convKernel ?? false;
    const decision = this.checkDecision(name, shape, convKernel, restored?.decision ?? routeVariable({ name, shape }, this.#policy));
    this.#routes.set(name, { decision, shape, restored: false, convKernel });
    return decision.route;
  }

  /** The routing table: every variable known so far, its group and optimizer, why, and its step size. */
  describeRouting(): RoutingRow[] {
    const rows: RoutingRow[] = [];
    for (const [variable, { decision, shape, restored, convKernel }] of this.#routes) {
      if (shape === undefined || restored) continue;
      const label = decision.route;
      const group = this.group(label);
      const { scale, matrix, matrices } = group.describe({ name: variable, shape, convKernel });
      rows.push({
        variable,
        label,
        optimizer: group.kind.name,
        shape,
        ...(matrix && { matrix }),
        ...(matrices !== undefined && { matrices }),
        scale: forReading(scale),
        effectiveLearningRate: forReading(this.learningRateOf(label as L) * scale),
        reason: decision.reason,
      });
    }
    return rows;
  }

  protected override createTransformation(): GradientTransformation {
    const transformations: Record<string, GradientTransformation> = {};
    for (const [label, group] of this.#groups) {
      transformations[label] = group.transformation(
        () => this.learningRateScheduleOf(label as L),
        (name) => this.#routes.get(name)?.convKernel === true,
      );
    }
    return partition((name, param) => this.routeOf(name, param.shape), transformations);
  }

  /** Each group's fused step (Muon's), claiming the variables routed to the group. */
  protected override createFusedExecutions(): readonly FusedExecution[] {
    return [...this.#groups].map(([label, group]) => ({
      label,
      step: group.fusedStep(() => this.learningRateScheduleOf(label as L)),
      claims: (name, shape) => this.routeOf(name, shape) === label,
    }));
  }

  /**
   * The groups (options with the current learning rate) and every routing decision, each under a
   * `name` key: tfjs-layers camel-cases every other string of a saved config, labels included.
   */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      groups: [...this.#groups].map(([label, group]) => ({
        name: label,
        optimizer: group.kind.name,
        options: { ...group.config(), learningRate: this.learningRateScheduleOf(label as L) as tf.serialization.ConfigDictValue },
      })),
      routes: this.savedRoutes().map(({ name, route, shape, convKernel }) => ({ name, group: { name: route }, ...(shape && { shape: [...shape] }), convKernel })),
    };
  }

  /** Rebuilds a hybrid from {@link getConfig}'s form (each group's options read by its kind, older forms included). */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const groups = Object.fromEntries(
      ((config['groups'] ?? []) as { name: string; optimizer: string; options: tf.serialization.ConfigDict }[]).map(({ name, optimizer, options }) => [
        name,
        { optimizer, options: optimizerKindNamed(optimizer, `${cls.className}.${name}`).optionsFromConfig(options) },
      ]),
    );
    const routes = ((config['routes'] ?? []) as { name: string; group: { name: string }; shape?: number[]; convKernel?: boolean }[]).map(({ name, group, shape, convKernel }) => ({
      name,
      route: group.name,
      ...(shape && { shape }),
      ...(typeof convKernel === 'boolean' && { convKernel }),
    }));
    return new cls({ groups, routes });
  }

  /** Every decision with the shape it was made for, for the saved config. */
  protected savedRoutes(): { name: string; route: string; shape?: readonly number[]; convKernel: boolean }[] {
    return [...this.#routes].map(([name, { decision, shape, convKernel }]) => ({ name, route: decision.route, ...(shape && { shape }), convKernel }));
  }

  /**
   * Whether a route restored from a config saved before routes recorded convolution kernels (no
   * `convKernel`) is one: then every weight of rank ≥ 3 was flattened, so one its group would now
   * refuse keeps the flattened view it was trained with, said once, rather than failing the load.
   */
  private savedBeforeConvKernels(name: string, route: string, shape: readonly number[] | undefined): boolean {
    const group = this.#groups.get(route);
    if (shape === undefined || shape.length < 3 || group?.refuse({ name, shape, convKernel: false }) === undefined) return false;
    warnOnce(
      `${this.getClassName()}: '${name}' of shape [${shape.join(', ')}] comes from a config saved before routes recorded convolution kernels; ` +
        `${group.kind.title} keeps orthogonalizing it as the one flattened matrix it was trained as (a matrixViews rule in group '${route}' splits it into its matrices)`,
    );
    return true;
  }

  private group(label: string): OptimizerGroup {
    const group = this.#groups.get(label);
    if (group === undefined) {
      throw new Error(`${this.getClassName()}: no group labelled '${label}'; the groups are ${this.labels.map((l) => `'${l}'`).join(', ')}`);
    }
    return group;
  }

  /**
   * Refuses a decision naming a missing group, or a variable its group's optimizer cannot take;
   * where the decision has a fallback (the default policy's, for a weight Muon may not see as
   * matrices), takes that instead and says so once.
   */
  private checkDecision(name: string, shape: readonly number[] | undefined, convKernel: boolean, decision: RouteDecision): RouteDecision {
    const group = this.#groups.get(decision.route);
    if (group === undefined) {
      throw new Error(
        `${this.getClassName()}: '${name}' is routed to '${decision.route}' (${decision.reason}), but there is no such group; the groups are ${this.labels.map((l) => `'${l}'`).join(', ')}`,
      );
    }
    const refusal = shape === undefined ? undefined : group.refuse({ name, shape, convKernel });
    if (refusal !== undefined && decision.fallback !== undefined && this.#groups.has(decision.fallback.route)) {
      warnOnce(`${this.getClassName()}: '${name}' of shape [${shape?.join(', ')}] goes to '${decision.fallback.route}' (${decision.fallback.reason}): ${group.kind.title} refuses it: ${refusal}`);
      return this.checkDecision(name, shape, convKernel, decision.fallback);
    }
    if (refusal !== undefined) {
      throw new Error(`Routing sends '${name}' of shape [${shape?.join(', ')}] to ${group.kind.title} (group '${decision.route}', ${decision.reason}), but ${refusal}`);
    }
    return decision;
  }

  /**
   * The restored decision a renamed variable stands for, by the rules that bind restored optimizer
   * state: the first step's pairing with the checkpoint by position (`restoredNameOf`), else
   * `bindRestoredNames` (never another live variable's); checked against its recorded shape. A
   * route is a decision, not state: it follows the proposed pairing even where the state, whose
   * slots and shapes are checked afterwards, then binds otherwise.
   */
  private restoredRouteFor(name: string, shape: readonly number[]): RoutedVariable | undefined {
    const restored = [...this.#routes].filter(([, r]) => r.restored).map(([saved]) => saved);
    const saved = this.restoredNameOf(name) ?? bindRestoredNames([name], restored).get(name);
    const routed = saved === undefined ? undefined : this.#routes.get(saved);
    if (saved === undefined || routed === undefined || (routed.shape !== undefined && !tf.util.arraysEqual([...routed.shape], [...shape]))) return undefined;
    this.#routes.delete(saved);
    return routed;
  }
}

tf.serialization.registerClass(HybridOptimizer);

/**
 * Creates a general hybrid. Given a `tf.LayersModel` (built), the router sees each variable's
 * layer class and whether it belongs to the output layer; given variables, names and shapes only.
 * @example
 * const optimizer = hybrid(model, {
 *   groups: {
 *     muon: { optimizer: 'muon', options: { learningRate: 0.02 } },
 *     embedding: { optimizer: 'lion', options: { learningRate: 3e-4 } },
 *     adamw: { optimizer: 'adamw', options: { learningRate: 3e-3 } },
 *   },
 *   label: (v) => (v.layerClass === 'Embedding' ? 'embedding' : undefined),
 * });
 * console.table(optimizer.describeRouting());
 */
export function hybrid<L extends string>(modelOrVariables: LayersModelLike | readonly tf.Variable[], options: HybridOptions<L>): HybridOptimizer<L> {
  return new HybridOptimizer<L>({ ...options, variables: describeVariables(modelOrVariables, 'hybrid') });
}
