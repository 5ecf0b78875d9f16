import { matrixShape } from '../math/matrixView.js';

/** The labels of the default routing policy: those of `muonWithAdamW`. */
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

/** A user rule: variables whose name matches `pattern` (a RegExp, or a substring) get label `to`. */
export interface RoutingRule<L extends string = string> {
  readonly pattern: RegExp | string;
  readonly to: L;
}

/**
 * How the user routes variables to the groups of a hybrid: the label function has the first word
 * (undefined passes), then the first matching override, then {@link defaultRoute}.
 */
export interface RoutingPolicy<L extends string = string> {
  readonly overrides?: readonly RoutingRule<L>[];
  readonly label?: (variable: VariableDescription) => L | undefined;
}

/** A routing decision and the reason for it, as shown by `describeRouting()`. */
export interface RouteDecision<L extends string = string> {
  readonly route: L;
  readonly reason: string;
  /**
   * The decision taken instead, with a warning naming the variable, when the group of `route`
   * refuses it: the default policy's answer for a weight Muon may or may not see as matrices
   * (rank ≥ 3, not a convolution kernel: Muon takes it only under a `matrixViews` rule).
   */
  readonly fallback?: RouteDecision<L>;
}

/** Layers whose kernels hold one filter per channel: not a matrix acting on the input. */
const DEPTHWISE_LAYERS = new Set(['DepthwiseConv2D']);

/**
 * The tfjs-layers convolutions, whose kernels `[...spatial, in, out]` Muon flattens (or splits per
 * tap) without a declared view: the only weights of rank ≥ 3 it sees as matrices by itself.
 */
const CONVOLUTION_LAYERS = new Set(['Conv1D', 'Conv2D', 'Conv3D', 'Conv2DTranspose', 'Conv3DTranspose', 'SeparableConv2D', 'ConvLSTM2D']);

/** Whether a variable is a convolution kernel by its layer's class (unknown, so false, without a model). */
export function isConvolutionKernel(v: VariableDescription): boolean {
  return v.shape.length >= 3 && v.layerClass !== undefined && CONVOLUTION_LAYERS.has(v.layerClass);
}

/**
 * The default policy, from the Muon contract (KellerJordan/Muon README, torch.optim.Muon docs):
 * Muon is for the hidden 2-D weights and conv kernels; embeddings, the output head, biases, norm
 * gains and anything else of rank < 2 go to AdamW. Dimension checks alone cannot tell an embedding
 * or a head from a hidden matrix (microsoft/dion README), so the layer class and position are used
 * when the variable came from a model, and an `embed` name otherwise.
 */
export function defaultRoute(v: VariableDescription): RouteDecision<Route> {
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
  if (v.shape.length >= 3 && !isConvolutionKernel(v)) {
    // A custom layer's experts [E, in, out] or heads: flattened they would be orthogonalized as one
    // matrix. Muon takes it under a matrixViews rule of its group; without one, AdamW, with a
    // warning, so that muonWithAdamW(model) trains any model (optax's muon sends every parameter
    // that is not 2-D to Adam unless dimension numbers say otherwise, silently), and the user
    // hears which weight missed Muon; routed to Muon explicitly (a label, an override), it is
    // refused instead.
    const layer = v.layerClass === undefined ? '' : ` of a ${v.layerClass} layer`;
    return {
      route: 'muon',
      reason: `rank ${v.shape.length} weight${layer}, per matrix of its matrixViews rule`,
      fallback: { route: 'adamw', reason: `rank ${v.shape.length} weight${layer} that is no convolution kernel and has no matrixViews rule in the Muon group` },
    };
  }
  return {
    route: 'muon',
    reason: v.shape.length === 2 ? 'hidden matrix' : `convolution kernel seen as the [${fanIn}, ${fanOut}] matrix`,
  };
}

function matches(pattern: RegExp | string, name: string): boolean {
  return typeof pattern === 'string' ? name.includes(pattern) : pattern.test(name);
}

/** Checks a routing policy's form when an optimizer is built, naming `owner` and the field at fault. */
export function checkRoutingPolicy(policy: RoutingPolicy, owner: string): void {
  const { overrides, label } = policy;
  if (label !== undefined && typeof label !== 'function') {
    throw new Error(`${owner}: label must be a function (variable) => label | undefined, got ${typeof label}`);
  }
  if (overrides === undefined) return;
  if (!Array.isArray(overrides)) {
    throw new Error(`${owner}: overrides must be an array of { pattern, to }, got ${typeof overrides}`);
  }
  overrides.forEach((rule: unknown, i) => {
    const { pattern, to } = (rule ?? {}) as Partial<RoutingRule>;
    if (!(pattern instanceof RegExp) && typeof pattern !== 'string') {
      throw new Error(`${owner}: overrides[${i}].pattern must be a RegExp or a string, got ${JSON.stringify(pattern)}`);
    }
    if (typeof to !== 'string' || to === '') {
      throw new Error(`${owner}: overrides[${i}].to must be a group label, got ${JSON.stringify(to)}`);
    }
  });
}

/**
 * Applies the user's policy, then the default. The label is not checked here against the groups
 * that exist or what their optimizers accept: the hybrid does that, asking each optimizer.
 */
export function routeVariable<L extends string>(v: VariableDescription, policy: RoutingPolicy<L> = {}): RouteDecision<L | Route> {
  const labelled = policy.label?.(v);
  if (labelled !== undefined) {
    if (typeof labelled !== 'string' || labelled === '') {
      throw new Error(`The label function returned ${JSON.stringify(labelled)} for '${v.name}'; expected a group label or undefined`);
    }
    return { route: labelled, reason: 'label function' };
  }
  const rule = policy.overrides?.find((r) => matches(r.pattern, v.name));
  return rule !== undefined ? { route: rule.to, reason: `override ${String(rule.pattern)}` } : defaultRoute(v);
}
