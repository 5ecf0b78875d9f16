import type * as tf from '@tensorflow/tfjs-core';
import type { VariableDescription } from '../optimizers/routing.js';

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
 * Describes a built model's trainable variables (with layer information) or a list of variables
 * (names and shapes only), refusing an empty set: an optimizer built before the model would route
 * nothing.
 */
export function describeVariables(modelOrVariables: LayersModelLike | readonly tf.Variable[], owner: string): VariableDescription[] {
  const variables = Array.isArray(modelOrVariables)
    ? (modelOrVariables as readonly tf.Variable[]).map((v) => ({ name: v.name, shape: v.shape }))
    : describeModelVariables(modelOrVariables as LayersModelLike);
  if (variables.length === 0) {
    throw new Error(`${owner}: the model has no trainable weights yet; build it (e.g. model.build or a first predict) before creating the optimizer`);
  }
  return variables;
}
