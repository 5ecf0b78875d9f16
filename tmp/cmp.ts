import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { muon } from 'muon-tfjs';
for (const backend of ['cpu', 'wasm']) {
  await tf.setBackend(backend); await tf.ready();
  const shapes = [[64, 96], [96, 64], [3, 3, 8, 16], [128, 128]];
  const mk = () => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 0.1, 'float32', i), true, `${backend}${Math.random()}`));
  const a = mk(), b = mk();
  for (const v of b) v.assign(a[b.indexOf(v)]!);
  const opts = { weightDecay: 0.1, cautiousWeightDecay: true, correctedWeightDecay: true, lrAdjust: 'matchAdamW' as const };
  const fa = muon(opts), fb = muon({ ...opts, fused: false });
  for (let step = 0; step < 3; step++) {
    const grads = shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 100 * step + i));
    fa.applyGradients(a.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    fb.applyGradients(b.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
    tf.dispose(grads);
  }
  console.log(backend, fa.describeExecution(), fb.describeExecution());
  a.forEach((v, i) => { const d = tf.max(tf.abs(tf.sub(v, b[i]!))).dataSync()[0]; const m = tf.max(tf.abs(tf.sub(fa.getSlot(v.name,'momentum')!, fb.getSlot(b[i]!.name,'momentum')!))).dataSync()[0]; console.log(shapes[i], d, m); });
}
