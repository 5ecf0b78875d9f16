import { matrixShape } from '../math/matrixView.js';

/** Where a variable goes in the hybrid optimizer. */
export type Route = 'muon' | 'adamw';

/** What the router knows about a variable. Layer fields are present when it came from a model. */
export interface VariableDescription {
  /** The `tf.Variable` name, e.g. `dense_Dense1/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Class of the owning tfjs-layers layer, e.g. `Dense`, `Conv2D`, `Embedding`. */
  readonly layerClass?: string;
  /** True for the weights of the model's last weighted layer: the classifier / LM head. */
  readonly isOutputLayer?: boolean;
}

/** A user rule: variables whose name matches `pattern` (a RegExp, or a substring) go to `to`. */
export interface RoutingRule {
  readonly pattern: RegExp | string;
  readonly to: Route;
}

/** How the user adjusts routing; the label function has the last word, then the first matching rule. */
export interface RoutingPolicy {
  readonly overrides?: readonly RoutingRule[];
  readonly label?: (variable: VariableDescription) => Route | undefined;
}

/** A routing decision and the reason for it, as shown by `describeRouting()`. */
export interface RouteDecision {
  readonly route: Route;
  readonly reason: string;
}

/** Layers whose kernels hold one filter per channel: not a matrix acting on the input. */
const DEPTHWISE_LAYERS = new Set(['DepthwiseConv2D']);

/**
 * The default policy, from the Muon contract (KellerJordan/Muon README, torch.optim.Muon docs):
 * Muon is for the hidden 2-D weights and conv kernels; embeddings, the output head, biases, norm
 * gains and anything else of rank < 2 go to AdamW. Dimension checks alone cannot tell an embedding
 * or a head from a hidden matrix (microsoft/dion README), so the layer class and position are used
 * when the variable came from a model, and an `embed` name otherwise.
 */
export function defaultRoute(v: VariableDescription): RouteDecision {
  if (v.shape.length < 2) {
    return { route: 'adamw', reason: `rank ${v.shape.length}: bias, gain or scalar` };
  }
  if (v.layerClass === 'Embedding' || /embed/i.test(v.name)) {
    return { route: 'adamw', reason: 'embedding' };
  }
  if (v.isOutputLayer === true) {
    return { route: 'adamw', reason: 'output layer (classifier / LM head)' };
  }
  if (v.layerClass !== undefined && DEPTHWISE_LAYERS.has(v.layerClass)) {
    return { route: 'adamw', reason: 'depthwise kernel: per-channel filters, not a matrix' };
  }
  const { fanIn, fanOut } = matrixShape(v.shape);
  return {
    route: 'muon',
    reason: v.shape.length === 2 ? 'hidden matrix' : `kernel seen as the [${fanIn}, ${fanOut}] matrix`,
  };
}

function matches(pattern: RegExp | string, name: string): boolean {
  return typeof pattern === 'string' ? name.includes(pattern) : pattern.test(name);
}

/** Applies the user's policy, then the default. Refuses to send a vector to Muon. */
export function routeVariable(v: VariableDescription, policy: RoutingPolicy = {}): RouteDecision {
  const labelled = policy.label?.(v);
  const rule = policy.overrides?.find((r) => matches(r.pattern, v.name));
  const decision: RouteDecision =
    labelled !== undefined
      ? { route: labelled, reason: 'label function' }
      : rule !== undefined
        ? { route: rule.to, reason: `override ${String(rule.pattern)}` }
        : defaultRoute(v);
  if (decision.route !== 'muon' && decision.route !== 'adamw') {
    throw new Error(`Routing of '${v.name}' returned '${String(decision.route)}'; expected 'muon' or 'adamw'`);
  }
  if (decision.route === 'muon' && v.shape.length < 2) {
    throw new Error(`Routing sends '${v.name}' of shape [${v.shape.join(', ')}] to Muon (${decision.reason}), but Muon needs rank ≥ 2`);
  }
  return decision;
}
