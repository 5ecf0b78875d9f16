import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import type { QKClipTarget } from '../stability/qkClipHook.js';

/** Base layer options (name, trainable, ...): tfjs-layers does not export its LayerArgs type. */
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Options of {@link CausalSelfAttention}. */
export interface CausalSelfAttentionArgs extends LayerArgs {
  /** Query heads. */
  numHeads: number;
  /** Key/value heads, a divisor of `numHeads` (grouped-query attention; 1: multi-query). Default `numHeads`. */
  numKeyValueHeads?: number;
  /** Width of one head. Default: the input width / `numHeads`. */
  headDim?: number;
  /** One fused `qkv` kernel `[width, (heads + 2·kvHeads)·headDim]` (columns Q | K | V) instead of `query`, `key`, `value`. Default false. */
  fusedQkv?: boolean;
  /** Record each head's maximum logit in every forward pass (see {@link CausalSelfAttention.takeMaxLogits}). Default false. */
  recordMaxLogits?: boolean;
}

/**
 * Multi-head causal self-attention, input and output `[batch, time, width]`, built from plain
 * matMul and softmax (tfjs-layers 4.22 has no trainable attention layer).
 *
 * Weights, no biases, in the TF.js `[in, out]` layout: `query` `[width, heads·headDim]`, `key`
 * and `value` `[width, kvHeads·headDim]` (or one fused `qkv` with columns Q | K | V), `output`
 * `[heads·headDim, width]`. Head h owns columns h·headDim … (h+1)·headDim − 1 of the query;
 * with grouped-query attention, heads h with ⌊h/(heads/kvHeads)⌋ = g share key/value head g
 * (Ainslie et al., arXiv 2305.13245). These are the column blocks QK-clip rescales:
 * {@link qkClipTarget} describes them for `qkClipHook`.
 *
 * With `recordMaxLogits`, each forward pass keeps, per query head, the maximum over the batch of
 * the scaled, causally masked logit q·k/√headDim (S_h of QK-clip), as a `[heads]` tensor on the
 * backend: nothing is read back until {@link takeMaxLogits} is called, so steps on which nothing
 * reads it cost one max reduction and no synchronization. Successive passes keep the running
 * maximum (micro-batches, as Megatron-LM accumulates with `torch.max`) until taken.
 */
export class CausalSelfAttention extends tfl.layers.Layer {
  static readonly className = 'CausalSelfAttention';
  readonly numHeads: number;
  readonly numKeyValueHeads: number;
  readonly fusedQkv: boolean;
  /** When true, each forward pass updates the per-head maximum logit (see {@link takeMaxLogits}). */
  recordMaxLogits: boolean;
  readonly #headDim: number | undefined;
  #width = 0;
  #maxLogits: tf.Tensor1D | undefined;
  /** The input of the last recorded forward pass, kept only for a target that re-measures. */
  #lastInput: tf.Tensor3D | undefined;
  #keepInput = false;
  #query: LayerVariable | undefined;
  #key: LayerVariable | undefined;
  #value: LayerVariable | undefined;
  #qkv: LayerVariable | undefined;
  #output: LayerVariable | undefined;

  constructor(args: CausalSelfAttentionArgs) {
    super(args);
    const { numHeads, numKeyValueHeads = numHeads, headDim, fusedQkv = false, recordMaxLogits = false } = args;
    if (!Number.isInteger(numHeads) || numHeads < 1) throw new Error(`CausalSelfAttention: numHeads must be a positive integer, got ${String(numHeads)}`);
    if (!Number.isInteger(numKeyValueHeads) || numKeyValueHeads < 1 || numHeads % numKeyValueHeads !== 0) {
      throw new Error(`CausalSelfAttention: numKeyValueHeads must be a positive divisor of numHeads (${numHeads}), got ${String(numKeyValueHeads)}`);
    }
    if (headDim !== undefined && (!Number.isInteger(headDim) || headDim < 1)) throw new Error(`CausalSelfAttention: headDim must be a positive integer, got ${String(headDim)}`);
    this.numHeads = numHeads;
    this.numKeyValueHeads = numKeyValueHeads;
    this.#headDim = headDim;
    this.fusedQkv = fusedQkv;
    this.recordMaxLogits = recordMaxLogits;
  }

  /** Width of one head (known once built when not given). */
  get headDim(): number {
    return this.#headDim ?? this.#width / this.numHeads;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const width = shape[shape.length - 1];
    if (typeof width !== 'number' || (this.#headDim === undefined && width % this.numHeads !== 0)) {
      throw new Error(`CausalSelfAttention: width ${String(width)} must be a multiple of numHeads ${this.numHeads} (or give headDim)`);
    }
    this.#width = width;
    const q = this.numHeads * this.headDim;
    const kv = this.numKeyValueHeads * this.headDim;
    const init = (): ReturnType<typeof tfl.initializers.glorotUniform> => tfl.initializers.glorotUniform({});
    if (this.fusedQkv) {
      this.#qkv = this.addWeight('qkv', [width, q + 2 * kv], 'float32', init());
    } else {
      this.#query = this.addWeight('query', [width, q], 'float32', init());
      this.#key = this.addWeight('key', [width, kv], 'float32', init());
      this.#value = this.addWeight('value', [width, kv], 'float32', init());
    }
    this.#output = this.addWeight('output', [q, width], 'float32', init());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  /**
   * The scaled, causally masked logits `[batch, heads, time, time]` for an input
   * `[batch, time, width]` (masked entries −1e9), from the current weights: to inspect heads or
   * to check a clip.
   */
  attentionLogits(x: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, time] = x.shape;
      const { q, k } = this.project(x);
      return tf.reshape(this.logits(q, k, time), [batch, this.numHeads, time, time]);
    });
  }

  /**
   * The per-head maximum logit recorded since the last call (`[heads]`, the caller owns it), and a
   * fresh record; undefined when no forward pass ran with recording on. Reading its values is
   * the only read-back recording costs.
   */
  takeMaxLogits(): tf.Tensor1D | undefined {
    const taken = this.#maxLogits;
    this.#maxLogits = undefined;
    return taken;
  }

  /**
   * This layer as a target of `qkClipHook`: its query/key (or fused QKV) kernel, head counts and
   * a reader of its maximum logits. Turns {@link recordMaxLogits} on.
   *
   * By default the clip uses S_h of the step's own forward pass, taken before the optimizer
   * update (Kimi K2, Megatron-LM): the logits the update itself adds are clipped one step later.
   * With `remeasure`, the layer keeps its last input and the reader recomputes S_h on it with
   * the updated weights (one extra q·kᵀ per step), so that after the clip that input's logits
   * are ≤ τ exactly.
   * @example
   * optimizer.addAfterStepHook('qkClip', qkClipHook({ targets: [attention.qkClipTarget()] }));
   */
  qkClipTarget(options: { readonly remeasure?: boolean } = {}): QKClipTarget {
    if (!this.built) throw new Error(`CausalSelfAttention '${this.name}' is not built yet: apply it (or build the model) first`);
    this.recordMaxLogits = true;
    this.#keepInput = options.remeasure ?? false;
    const weights = this.fusedQkv ? { query: variableOf(this.#qkv) } : { query: variableOf(this.#query), key: variableOf(this.#key) };
    const maxLogits = this.#keepInput ? () => this.remeasureMaxLogits() : () => this.takeMaxLogits();
    return { name: this.name, ...weights, heads: this.numHeads, kvHeads: this.numKeyValueHeads, maxLogits };
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, time, width] = x.shape;
      const { q, k, v } = this.project(x);
      const logits = this.logits(q, k, time);
      if (this.recordMaxLogits) this.record(logits, batch, time);
      if (this.recordMaxLogits && this.#keepInput) {
        this.#lastInput?.dispose();
        this.#lastInput = tf.keep(tf.clone(x));
      }
      const attended = tf.matMul(tf.softmax(logits) as tf.Tensor3D, v);
      // [batch·heads, time, headDim] → [batch·time, heads·headDim]
      const merged = tf.reshape(tf.transpose(tf.reshape(attended, [batch, this.numHeads, time, this.headDim]), [0, 2, 1, 3]), [batch * time, this.numHeads * this.headDim]);
      return tf.reshape(tf.matMul(merged, weightOf(this.#output, this.name).read()), [batch, time, width]);
    });
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    this.takeMaxLogits()?.dispose();
    this.#lastInput?.dispose();
    this.#lastInput = undefined;
    return super.dispose();
  }

  /** The options, for `model.save`; every key survives tfjs-layers' camelCase ↔ snake_case round trip (hence `fusedQkv`). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      numHeads: this.numHeads,
      numKeyValueHeads: this.numKeyValueHeads,
      ...(this.#headDim !== undefined && { headDim: this.#headDim }),
      fusedQkv: this.fusedQkv,
      recordMaxLogits: this.recordMaxLogits,
    };
  }

  /** S_h recomputed on the last recorded input with the current weights; takes (resets) the record. */
  private remeasureMaxLogits(): tf.Tensor1D | undefined {
    this.takeMaxLogits()?.dispose();
    const input = this.#lastInput;
    this.#lastInput = undefined;
    if (input === undefined) return undefined;
    const remeasured = tf.tidy(() => tf.max(this.attentionLogits(input), [0, 2, 3]) as tf.Tensor1D);
    input.dispose();
    return remeasured;
  }

  /** Keeps the running per-head maximum: [batch·heads, time, time] → [heads]. */
  private record(logits: tf.Tensor3D, batch: number, time: number): void {
    const perHead = tf.max(tf.reshape(logits, [batch, this.numHeads, time * time]), [0, 2]) as tf.Tensor1D;
    const running = this.#maxLogits === undefined ? perHead : tf.maximum(this.#maxLogits, perHead);
    this.#maxLogits?.dispose();
    this.#maxLogits = tf.keep(running) as tf.Tensor1D;
  }

  /** q, k, v as `[batch·heads, time, headDim]`, keys and values repeated over each group's heads. */
  private project(x: tf.Tensor3D): { q: tf.Tensor3D; k: tf.Tensor3D; v: tf.Tensor3D } {
    const [batch, time, width] = x.shape;
    const rows = tf.reshape(x, [batch * time, width]);
    const { numHeads: h, numKeyValueHeads: kv, headDim: d } = this;
    const [q, k, v] = this.fusedQkv
      ? tf.split(tf.matMul(rows, weightOf(this.#qkv, this.name).read()), [h * d, kv * d, kv * d], 1)
      : [this.#query, this.#key, this.#value].map((w) => tf.matMul(rows, weightOf(w, this.name).read()));
    return { q: this.splitHeads(q as tf.Tensor2D, batch, time, h), k: this.splitHeads(k as tf.Tensor2D, batch, time, kv), v: this.splitHeads(v as tf.Tensor2D, batch, time, kv) };
  }

  /** `[batch·time, n·headDim]` → `[batch·heads, time, headDim]`, each of n heads repeated heads/n times. */
  private splitHeads(projected: tf.Tensor2D, batch: number, time: number, n: number): tf.Tensor3D {
    const d = this.headDim;
    const split = tf.transpose(tf.reshape(projected, [batch, time, n, d]), [0, 2, 1, 3]);
    const repeats = this.numHeads / n;
    // Grouped-query attention: [batch, n, 1, time·d] tiled to [batch, n, repeats, time·d] (rank 4:
    // tfjs-core 4.22 has no gradient for tiling rank 5).
    const heads = repeats === 1 ? split : tf.tile(tf.reshape(split, [batch, n, 1, time * d]), [1, 1, repeats, 1]);
    return tf.reshape(heads, [batch * this.numHeads, time, d]);
  }

  /** The softmax input: q·kᵀ/√headDim with −1e9 above the diagonal, `[batch·heads, time, time]`. */
  private logits(q: tf.Tensor3D, k: tf.Tensor3D, time: number): tf.Tensor3D {
    // A batched matMul with an explicit transpose: on wasm only plain matMuls reach XNNPACK.
    const scores = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(this.headDim));
    const allowed = tf.linalg.bandPart(tf.ones([time, time]), -1, 0);
    return tf.add(scores, tf.mul(tf.sub(1, allowed), -1e9)) as tf.Tensor3D;
  }
}
tf.serialization.registerClass(CausalSelfAttention);

function weightOf(weight: LayerVariable | undefined, layer: string): LayerVariable {
  if (weight === undefined) throw new Error(`CausalSelfAttention '${layer}' is not built yet`);
  return weight;
}

/** The tf.Variable behind a built layer weight (what optimizers and QK-clip see). */
function variableOf(weight: LayerVariable | undefined): tf.Variable {
  return (weight as LayerVariable).read() as tf.Variable;
}
