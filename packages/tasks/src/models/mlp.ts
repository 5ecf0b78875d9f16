import * as tfl from '@tensorflow/tfjs-layers';

/** Sizes of {@link buildMlp}. */
export interface MlpConfig {
  inputSize: number;
  hidden: readonly number[];
  classes: number;
}

/** The default MNIST MLP: 784 → 256 → 128 → 10, ReLU (235 k parameters). */
export const MLP_DEFAULT: MlpConfig = { inputSize: 784, hidden: [256, 128], classes: 10 };

/** The wide MNIST MLP: 784 → 512 → 512 → 10 (670 k parameters), where Newton–Schulz outweighs the forward and backward pass. */
export const MLP_WIDE: MlpConfig = { inputSize: 784, hidden: [512, 512], classes: 10 };

/**
 * A ReLU MLP classifier returning logits. Hidden Dense kernels are Muon's matrices; the last
 * Dense (the classifier head) and all biases go to AdamW in the hybrid.
 */
export function buildMlp(config: MlpConfig = MLP_DEFAULT): tfl.LayersModel {
  const model = tfl.sequential({ name: 'mlp' });
  config.hidden.forEach((units, i) => {
    model.add(tfl.layers.dense({
      units,
      activation: 'relu',
      name: `hidden${i + 1}`,
      ...(i === 0 ? { inputShape: [config.inputSize] } : {}),
    }));
  });
  model.add(tfl.layers.dense({ units: config.classes, name: 'head' }));
  return model;
}
