import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRandom } from './random.js';

/**
 * Re-initializes every weight of a model from one seed, so that initialization does not depend
 * on TF.js's unseeded initializers or on layer-name counters:
 * - biases and LayerNorm `beta` → 0, LayerNorm `gamma` → 1;
 * - weights whose name contains `embeddings` → N(0, 0.02²) (GPT-2's choice);
 * - other weights of rank ≥ 2 → Glorot uniform, fanIn = product of all but the last dimension
 *   (`[in, out]` Dense, `[kh, kw, in, out]` conv), fanOut = the last dimension.
 * Weights are visited in model order, so the same seed gives the same numbers. Rules match the
 * weight's original name (`layer/gamma`): tfjs-layers suffixes the names of every later copy of a
 * layer (`gamma_1`), which must not change its initialization.
 */
export function initializeWeights(model: tfl.LayersModel, seed: number): void {
  const random = createRandom(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const name = w.originalName;
    if (/gamma$/.test(name)) {
      data.fill(1);
    } else if (/(bias|beta)$/.test(name) || shape.length < 2) {
      data.fill(0);
    } else if (/embeddings/.test(name)) {
      for (let i = 0; i < size; i++) data[i] = 0.02 * random.normal();
    } else {
      const fanOut = shape[shape.length - 1] as number;
      const fanIn = size / fanOut;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) data[i] = (2 * random.next() - 1) * limit;
    }
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}
