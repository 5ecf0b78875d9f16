// README example: three groups in one optimizer. Hidden matrices → Muon, the embedding table →
// Lion, everything else → AdamW; trained with model.fit, saved with its optimizer, reloaded, and
// resumed exactly where it stopped.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { type HybridOptimizer, defaultRoute, hybrid, installWasmTrainingKernels } from 'muon-tfjs';

type Label = 'hidden_matrices' | 'embedding_table' | 'everything_else';

export interface ThreeWayHybridResult {
  readonly routing: ReturnType<HybridOptimizer['describeRouting']>;
  readonly lossBefore: number;
  readonly lossAfter: number;
  /** True when training resumed from the saved model matches uninterrupted training bit for bit. */
  readonly resumedExactly: boolean;
  /** The groups of the optimizer rebuilt by loadLayersModel. */
  readonly reloadedLabels: readonly string[];
}

export async function trainThreeWayHybrid(epochs = 20): Promise<ThreeWayHybridResult> {
  await tf.setBackend('wasm');
  installWasmTrainingKernels(); // the Embedding's gradient (UnsortedSegmentSum) on tfjs-backend-wasm 4.22

  // Sequences of 4 tokens out of 16; the class is the first token mod 4.
  const tokens = Array.from({ length: 256 * 4 }, (_, i) => (i * 7 + Math.floor(i / 4) * 5) % 16);
  const xs = tf.tensor2d(tokens, [256, 4]);
  const ys = tf.oneHot(tf.tensor1d(tokens.filter((_, i) => i % 4 === 0).map((t) => t % 4), 'int32'), 4);

  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: 16, outputDim: 8, inputLength: 4, embeddingsInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: 1 }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  const optimizer = hybrid<Label>(model, {
    groups: {
      hidden_matrices: { optimizer: 'muon', options: { learningRate: 0.02 } },
      embedding_table: { optimizer: 'lion', options: { learningRate: 3e-3 } },
      everything_else: { optimizer: 'adamw', options: { learningRate: 3e-3, weightDecay: 0 } },
    },
    // The label function decides every variable here: the embedding by its layer, the rest by the
    // default Muon/AdamW rule.
    label: (v) => (v.layerClass === 'Embedding' ? 'embedding_table' : defaultRoute(v).route === 'muon' ? 'hidden_matrices' : 'everything_else'),
  });
  console.table(optimizer.describeRouting());
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const lossBefore = (model.evaluate(xs, ys) as tf.Scalar).dataSync()[0] as number;
  const fit = { batchSize: 64, shuffle: false, verbose: 0 as const };
  await model.fit(xs, ys, { ...fit, epochs });

  // Save with the optimizer's state, train on, and compare with the reloaded copy trained alike.
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }), { includeOptimizer: true });
  await model.fit(xs, ys, { ...fit, epochs: 2 });
  const weights = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
  const uninterrupted = weights(model);
  const lossAfter = (model.evaluate(xs, ys) as tf.Scalar).dataSync()[0] as number;
  // Loaded in the same process, the copy's variables are renamed (`kernel` → `kernel_1`) while the
  // original lives; the saved state binds to them on the copy's first step, which pairs one-to-one
  // with the checkpoint's entries (base names, order, shapes).
  const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
  await reloaded.fit(xs, ys, { ...fit, epochs: 2 });
  const resumedExactly = JSON.stringify(weights(reloaded)) === JSON.stringify(uninterrupted);

  console.log(`loss ${lossBefore.toFixed(3)} → ${lossAfter.toFixed(3)}; resumed from the saved model exactly: ${resumedExactly}`);
  const reloadedLabels = (reloaded.optimizer as HybridOptimizer).labels;
  return { routing: optimizer.describeRouting(), lossBefore, lossAfter, resumedExactly, reloadedLabels };
}
