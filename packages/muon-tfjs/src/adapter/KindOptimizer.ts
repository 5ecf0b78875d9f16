import * as tf from '@tensorflow/tfjs-core';
import { type OptimizerGroup, type OptimizerKind, type ResolvedLearningRate, createOptimizerGroup } from '../optimizers/optimizerKind.js';
import { OPTIMIZER_KINDS } from '../optimizers/optimizerKinds.js';
import type { GradientTransformation } from '../transforms/gradientTransformation.js';
import { ADAPTER_SERVICES } from './adapterServices.js';
import { SingleRateOptimizer } from './SingleRateOptimizer.js';
import type { FusedExecution } from './TransformOptimizer.js';

/**
 * The `tf.Optimizer` of one {@link OptimizerKind}: its options resolved by the kind (errors name
 * the kind's class, `MuonOptimizer: ...`), its transformation and fused step, its saved config.
 * Each kind's registered subclass comes from {@link optimizerClass}; nothing here is specific to
 * one optimizer.
 */
export abstract class KindOptimizer<Options extends object, Resolved extends ResolvedLearningRate> extends SingleRateOptimizer {
  /** The options in force, defaults filled in (the learning rate is {@link learningRate}). */
  readonly options: Resolved;
  readonly #group: OptimizerGroup<Resolved>;

  protected constructor(kind: OptimizerKind<Options, Resolved>, options: Options | undefined) {
    const group = createOptimizerGroup(kind, options, kind.className, ADAPTER_SERVICES);
    super(group.options.learningRate);
    this.#group = group;
    this.options = group.options;
  }

  protected override createTransformation(): GradientTransformation {
    return this.#group.transformation(() => this.learningRateSchedule);
  }

  /** The kind's fused step (Muon's), claiming every variable; none for a kind without one. */
  protected override createFusedExecutions(): readonly FusedExecution[] {
    const { kind } = this.#group;
    return kind.fusedStep === undefined ? [] : [{ label: kind.name, step: this.#group.fusedStep(() => this.learningRateSchedule), claims: () => true }];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.#group.config(), learningRate: this.learningRateConfig };
  }
}

/** A kind's registered optimizer class: `new MuonOptimizer(options)`, `MuonOptimizer.fromConfig`. */
export interface OptimizerClass<Options extends object, Resolved extends ResolvedLearningRate> {
  new (options?: Options): KindOptimizer<Options, Resolved>;
  readonly className: string;
  readonly kind: OptimizerKind<Options, Resolved>;
  /** Rebuilds an optimizer from its saved config, this version's form or an earlier one's ({@link OptimizerKind.optionsFromConfig}). */
  fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T;
}

const CLASSES = new Map<OptimizerKind, OptimizerClass<object, ResolvedLearningRate>>();

/**
 * The optimizer class of a kind, registered with `tf.serialization` under the kind's class name
 * (so that `loadLayersModel` rebuilds it), made once per kind.
 * @example
 * export const MuonOptimizer = optimizerClass(MUON_KIND);
 * export type MuonOptimizer = InstanceType<typeof MuonOptimizer>;
 */
export function optimizerClass<Options extends object, Resolved extends ResolvedLearningRate>(kind: OptimizerKind<Options, Resolved>): OptimizerClass<Options, Resolved> {
  const made = CLASSES.get(kind as unknown as OptimizerKind);
  if (made !== undefined) return made as unknown as OptimizerClass<Options, Resolved>;
  const registered = class extends KindOptimizer<Options, Resolved> {
    static className = kind.className;
    static readonly kind = kind;

    constructor(options?: Options) {
      super(kind, options);
    }

    /** tfjs-layers adds a `customObjects` entry to the config it deserializes: not an option. */
    static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
      const { customObjects: _customObjects, ...saved } = config;
      return new cls(kind.optionsFromConfig(saved));
    }
  };
  // Named as the class it stands for, in stack traces and the console.
  Object.defineProperty(registered, 'name', { value: kind.className });
  tf.serialization.registerClass(registered);
  CLASSES.set(kind as unknown as OptimizerKind, registered as unknown as OptimizerClass<object, ResolvedLearningRate>);
  return registered;
}

// Every kind of the registry has its class registered, so that a saved config of any of them loads.
for (const kind of Object.values<OptimizerKind>(OPTIMIZER_KINDS)) optimizerClass(kind);
