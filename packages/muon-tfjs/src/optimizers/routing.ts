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
  // Recurrent layers (LSTM, GRU, SimpleRNN, ConvLSTM2D, and wrapped in Bidirectional or RNN) hold
  // an input `kernel` [in, g·units] and a `recurrent_kernel` [units, g·units], each with the g gates
  // of the cell side by side (LSTM i, f, c, o: g = 4; GRU z, r, h: g = 3). The input kernel reads
  // the sequence's inputs: on one-hot tokens (a char-RNN) it is an embedding table in effect, which
  // the Muon contract sends to AdamW (KellerJordan/Muon README; Keras's Muon excludes embeddings
  // too), so it goes to AdamW; an override sends it to Muon when its inputs are hidden features.
  // The recurrent kernel maps hidden state to hidden state, a hidden matrix: Muon. Its gates are
  // orthogonalized together, as Keras's Muon does for every 2-D kernel; per-gate
  // orthogonalization (as dion splits fused QKV) is issue 11. The gate count g is the recurrent
  // kernel's last axis over its second-to-last; for an input kernel, the cell's type.
  if (/(^|\/)recurrent_kernel$/.test(v.name)) {
    const gates = (v.shape.at(-1) as number) / (v.shape.at(-2) as number);
    const fused = gates > 1 ? `; its ${gates} gates are fused in one [${fanIn}, ${fanOut}] matrix, orthogonalized together` : '';
    return { route: 'muon', reason: `recurrent kernel: hidden state to hidden state${fused}` };
  }
  if (/^(LSTM|GRU|SimpleRNN|ConvLSTM2D|Bidirectional|RNN)$/.test(v.layerClass ?? '') && /(^|\/)kernel$/.test(v.name)) {
    const gates = /lstm/i.test(`${v.layerClass ?? ''} ${v.name}`) ? 4 : /gru/i.test(`${v.layerClass ?? ''} ${v.name}`) ? 3 : 1;
    const fused = gates > 1 ? `; its ${gates} gates are fused in one [${fanIn}, ${fanOut}] matrix` : '';
    return { route: 'adamw', reason: `input kernel of a recurrent layer: on one-hot tokens an embedding table in effect (override to Muon when its inputs are hidden features)${fused}` };
  }
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
