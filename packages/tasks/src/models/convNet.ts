import * as tfl from '@tensorflow/tfjs-layers';

/** Sizes of {@link buildConvNet}. */
export interface ConvNetConfig {
  height: number;
  width: number;
  channels: number;
  filters: readonly number[];
  dense: number;
  classes: number;
}

/** The default: 3×3 conv 16 → pool → 3×3 conv 32 → pool → dense 64 → 10 (106 k parameters). */
export const CONVNET_DEFAULT: ConvNetConfig = { height: 28, width: 28, channels: 1, filters: [16, 32], dense: 64, classes: 10 };

/**
 * A small ConvNet classifier returning logits: [3×3 conv + ReLU + 2×2 max-pool] per entry of
 * `filters`, then a hidden Dense layer and the classifier head. The Conv2D kernels
 * `[kh, kw, in, out]` are Muon matrices of shape `[kh·kw·in, out]`. (On wasm, training a Conv2D
 * needs the filter-gradient kernel that the benchmark's backend setup registers.)
 */
export function buildConvNet(config: ConvNetConfig = CONVNET_DEFAULT): tfl.LayersModel {
  const input = tfl.input({ shape: [config.height, config.width, config.channels], name: 'image' });
  let x = input;
  config.filters.forEach((filters, i) => {
    x = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: `conv${i + 1}` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }).apply(x) as tfl.SymbolicTensor;
  });
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: config.dense, activation: 'relu', name: 'hidden' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: config.classes, name: 'head' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'convnet' });
}
