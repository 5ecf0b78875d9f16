import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
/** Base layer options (name, trainable, ...): tfjs-layers does not export its LayerArgs type. */
type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
import type { LayerVariable } from '@tensorflow/tfjs-layers';

/** Options of {@link PositionEmbedding}. */
export interface PositionEmbeddingArgs extends LayerArgs {
  sequenceLength: number;
  width: number;
}

/**
 * Adds a learned position embedding `[sequenceLength, width]` to `[batch, time, width]` inputs.
 * Its weight is 2-D but is an embedding, not a linear map: route it to AdamW (its name,
 * `position_embeddings`, contains "embeddings").
 */
export class PositionEmbedding extends tfl.layers.Layer {
  static readonly className = 'PositionEmbedding';
  private readonly sequenceLength: number;
  private readonly width: number;
  private positions: LayerVariable | undefined;

  constructor(args: PositionEmbeddingArgs) {
    super(args);
    this.sequenceLength = args.sequenceLength;
    this.width = args.width;
  }

  override build(): void {
    this.positions = this.addWeight('position_embeddings', [this.sequenceLength, this.width], 'float32',
      tfl.initializers.randomNormal({ stddev: 0.02 }));
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const time = x.shape[1];
      const p = (this.positions as LayerVariable).read();
      return tf.add(x, time === this.sequenceLength ? p : tf.slice(p, [0, 0], [time, this.width]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), sequenceLength: this.sequenceLength, width: this.width };
  }
}
tf.serialization.registerClass(PositionEmbedding);
