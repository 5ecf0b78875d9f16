import { type ImageDataset, checkImageDataset, createRandom } from 'muon-tfjs-tasks';
import type { ToyDataset } from './playgroundState.js';

/**
 * A 2-D classification problem of TensorFlow Playground (two spirals, a disc inside a ring, or
 * XOR quadrants), drawn from a seeded stream with a little Gaussian noise.
 *
 * Points are stored as 1×2 "images" with coordinates mapped from [−1, 1] to [0, 1], so that the
 * benchmark's image-classification task (splits, batches, cross-entropy, evaluation) trains on
 * them unchanged; {@link toyToPlane} maps back for drawing.
 *
 * @example
 * const d = toyDataset('xor', 400, 1); // d.count === 400, d.classes === 2
 */
export function toyDataset(kind: ToyDataset, count: number, seed: number): ImageDataset {
  const random = createRandom(seed);
  const images = new Float32Array(count * 2);
  const labels = new Uint8Array(count);
  const noise = 0.04;
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    let x: number;
    let y: number;
    if (kind === 'spirals') {
      // Two arms, half a turn apart, each winding 1.5 turns outward (radius 0.1 → 0.9).
      const t = random.next();
      const angle = 3 * Math.PI * t + label * Math.PI;
      const radius = 0.1 + 0.8 * t;
      x = radius * Math.cos(angle);
      y = radius * Math.sin(angle);
    } else if (kind === 'circles') {
      // Class 0: a disc of radius 0.4; class 1: a ring between 0.6 and 0.9.
      const angle = 2 * Math.PI * random.next();
      const radius = label === 0 ? 0.4 * Math.sqrt(random.next()) : 0.6 + 0.3 * random.next();
      x = radius * Math.cos(angle);
      y = radius * Math.sin(angle);
    } else {
      // Uniform in the square, away from the axes; class 1 where the signs differ.
      x = (0.05 + 0.9 * random.next()) * (random.next() < 0.5 ? -1 : 1);
      y = (0.05 + 0.9 * random.next()) * (random.next() < 0.5 ? -1 : 1);
      labels[i] = x * y < 0 ? 1 : 0;
    }
    if (kind !== 'xor') labels[i] = label;
    images[2 * i] = Math.min(Math.max((x + noise * random.normal() + 1) / 2, 0), 1);
    images[2 * i + 1] = Math.min(Math.max((y + noise * random.normal() + 1) / 2, 0), 1);
  }
  const dataset: ImageDataset = {
    name: kind,
    images,
    labels,
    count,
    height: 1,
    width: 2,
    channels: 1,
    classes: 2,
    source: `generated (${kind}, seed ${seed})`,
  };
  checkImageDataset(dataset);
  return dataset;
}

/** Maps a stored coordinate in [0, 1] back to the plane's [−1, 1]. */
export function toyToPlane(stored: number): number {
  return 2 * stored - 1;
}
