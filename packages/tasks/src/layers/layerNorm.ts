import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerVariable } from '@tensorflow/tfjs-layers';

/** Base layer options (name, trainable, ...): tfjs-layers does not export its LayerArgs type. */
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/**
 * Layer normalization over the last axis with a gain `gamma` and bias `beta` (both 1-D, AdamW's
 * in the hybrid), eps 1e-5.
 *
 * Why not `tf.layers.layerNormalization`: on wasm its forward and backward went through
 * batch-norm kernels and broadcasting gradients that cost 585 ms per forward+backward on a
 * `[32, 64, 128]` input here; the same math written with moments/sub/mul costs a few ms.
 */
export class LayerNorm extends tfl.layers.Layer {
  static readonly className = 'LayerNorm';
  private gamma: LayerVariable | undefined;
  private beta: LayerVariable | undefined;

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const width = shape[shape.length - 1];
    if (typeof width !== 'number') throw new Error('LayerNorm: the last dimension must be known');
    this.gamma = this.addWeight('gamma', [width], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [width], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
      const { mean, variance } = tf.moments(x, -1, true);
      const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
      return tf.add(tf.mul(normalized, (this.gamma as LayerVariable).read()), (this.beta as LayerVariable).read());
    });
  }
}
tf.serialization.registerClass(LayerNorm);
