import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
/** Base layer options (name, trainable, ...): tfjs-layers does not export its LayerArgs type. */
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
import type { LayerVariable } from '@tensorflow/tfjs-layers';

/** Options of {@link OneHotEmbedding}. */
export interface OneHotEmbeddingArgs extends LayerArgs {
  inputDim: number;
  outputDim: number;
}

/**
 * A token embedding computed as oneHot(ids) · E, E of shape `[vocab, width]`.
 *
 * Why not `tf.layers.embedding`: its gradient (gather's) needs `UnsortedSegmentSum`, which the
 * wasm backend of tfjs 4.22 does not have. For a character vocabulary (~80 symbols) the one-hot
 * product is a small plain 2-D matmul. The weight is named `embeddings` like Keras's, so
 * routing rules that send embeddings to AdamW find it.
 */
export class OneHotEmbedding extends tfl.layers.Layer {
  static readonly className = 'OneHotEmbedding';
  private readonly inputDim: number;
  private readonly outputDim: number;
  private embeddings: LayerVariable | undefined;

  constructor(args: OneHotEmbeddingArgs) {
    super(args);
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
  }

  override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], 'float32',
      tfl.initializers.randomNormal({ stddev: 0.02 }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [...shape, this.outputDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
      const flat = tf.reshape(tf.cast(ids, 'int32'), [-1]);
      const e = tf.matMul(tf.oneHot(flat, this.inputDim), (this.embeddings as LayerVariable).read());
      return tf.reshape(e, [...ids.shape, this.outputDim]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim };
  }
}
tf.serialization.registerClass(OneHotEmbedding);
