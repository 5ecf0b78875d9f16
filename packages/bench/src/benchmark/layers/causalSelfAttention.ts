import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
/** Base layer options (name, trainable, ...): tfjs-layers does not export its LayerArgs type. */
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
import type { LayerVariable } from '@tensorflow/tfjs-layers';

/** Options of {@link CausalSelfAttention}. */
export interface CausalSelfAttentionArgs extends LayerArgs {
  numHeads: number;
}

/**
 * Multi-head causal self-attention built from plain matMul and softmax (tfjs-layers 4.22 has no
 * trainable attention layer). Input and output `[batch, time, width]`.
 *
 * Weights (no biases): `query`, `key`, `value`, `output`, each `[width, width]` in the TF.js
 * `[in, out]` layout. Head h owns columns `h·headDim … (h+1)·headDim − 1` of `query`, `key` and
 * `value`, and the same rows of `output`. QK-clip (Kimi K2) rescales exactly those per-head
 * column blocks of `query`/`key`; {@link attentionLogits} and {@link recordLogitStats} give it
 * the per-head logits it needs.
 */
export class CausalSelfAttention extends tfl.layers.Layer {
  static readonly className = 'CausalSelfAttention';
  readonly numHeads: number;
  /** When true, each forward pass keeps the per-head maximum logit in {@link lastMaxLogits}. */
  recordLogitStats = false;
  /** Per-head max of the scaled, causally masked logits of the last forward pass, shape [heads]. */
  lastMaxLogits: tf.Tensor1D | undefined;
  private width = 0;
  private query: LayerVariable | undefined;
  private key: LayerVariable | undefined;
  private value: LayerVariable | undefined;
  private outputKernel: LayerVariable | undefined;

  constructor(args: CausalSelfAttentionArgs) {
    super(args);
    this.numHeads = args.numHeads;
  }

  /** Width of one head. */
  get headDim(): number {
    return this.width / this.numHeads;
  }

  /** The query kernel `[width, width]` (head h: columns h·headDim …). */
  get queryKernel(): LayerVariable {
    return this.weight(this.query);
  }

  /** The key kernel `[width, width]` (head h: columns h·headDim …). */
  get keyKernel(): LayerVariable {
    return this.weight(this.key);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const width = shape[shape.length - 1];
    if (typeof width !== 'number' || width % this.numHeads !== 0) {
      throw new Error(`CausalSelfAttention: width ${String(width)} must be a multiple of numHeads ${this.numHeads}`);
    }
    this.width = width;
    const init = (): ReturnType<typeof tfl.initializers.glorotUniform> => tfl.initializers.glorotUniform({});
    this.query = this.addWeight('query', [width, width], 'float32', init());
    this.key = this.addWeight('key', [width, width], 'float32', init());
    this.value = this.addWeight('value', [width, width], 'float32', init());
    this.outputKernel = this.addWeight('output', [width, width], 'float32', init());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  /**
   * The scaled, causally masked attention logits `[batch, heads, time, time]` for an input
   * `[batch, time, width]` (masked entries are −1e9).
   */
  attentionLogits(x: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const [batch, time] = x.shape;
      return tf.reshape(this.logits(this.heads(x, this.query), this.heads(x, this.key), time), [batch, this.numHeads, time, time]);
    });
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, time, width] = x.shape;
      const logits = this.logits(this.heads(x, this.query), this.heads(x, this.key), time);
      if (this.recordLogitStats) {
        const perHead = tf.max(tf.reshape(logits, [batch, this.numHeads, time * time]), [0, 2]) as tf.Tensor1D;
        this.lastMaxLogits?.dispose();
        this.lastMaxLogits = tf.keep(perHead);
      }
      const attended = tf.matMul(tf.softmax(logits) as tf.Tensor3D, this.heads(x, this.value));
      // [batch·heads, time, headDim] -> [batch·time, width]
      const merged = tf.reshape(
        tf.transpose(tf.reshape(attended, [batch, this.numHeads, time, this.headDim]), [0, 2, 1, 3]),
        [batch * time, width]);
      return tf.reshape(tf.matMul(merged, this.weight(this.outputKernel).read()), [batch, time, width]);
    });
  }

  override dispose(): ReturnType<tfl.layers.Layer['dispose']> {
    this.lastMaxLogits?.dispose();
    this.lastMaxLogits = undefined;
    return super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads };
  }

  private weight(v: LayerVariable | undefined): LayerVariable {
    if (v === undefined) throw new Error(`CausalSelfAttention ${this.name} is not built yet`);
    return v;
  }

  /** Projects `[batch, time, width]` with a kernel and splits heads: `[batch·heads, time, headDim]`. */
  private heads(x: tf.Tensor3D, kernel: LayerVariable | undefined): tf.Tensor3D {
    const [batch, time, width] = x.shape;
    const projected = tf.matMul(tf.reshape(x, [batch * time, width]), this.weight(kernel).read());
    const split = tf.reshape(projected, [batch, time, this.numHeads, this.headDim]);
    return tf.reshape(tf.transpose(split, [0, 2, 1, 3]), [batch * this.numHeads, time, this.headDim]);
  }

  /** softmax input: q·kᵀ/√headDim with −1e9 above the diagonal, `[batch·heads, time, time]`. */
  private logits(q: tf.Tensor3D, k: tf.Tensor3D, time: number): tf.Tensor3D {
    // A batched matMul (the wasm kernel loops over the batch); an explicit transpose keeps it
    // free of transpose flags. Splitting into 2-D matmuls was slower: wasm's Slice copies its input.
    const scores = tf.mul(tf.matMul(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(this.headDim));
    const allowed = tf.linalg.bandPart(tf.ones([time, time]), -1, 0);
    const mask = tf.mul(tf.sub(1, allowed), -1e9);
    return tf.add(scores, mask) as tf.Tensor3D;
  }
}
tf.serialization.registerClass(CausalSelfAttention);
