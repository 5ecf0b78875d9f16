import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ImageDataset } from 'muon-tfjs-tasks';

/** Grid cells per side where the model is evaluated (TensorFlow Playground uses 100). */
const DENSITY = 60;
/** TensorFlow Playground's diverging palette: orange for class 0, grey at 0.5, blue for class 1. */
const ORANGE = [245, 147, 34];
const GREY = [232, 234, 235];
const BLUE = [8, 119, 189];

function mix(p: number): number[] {
  const [from, to, t] = p < 0.5 ? [ORANGE, GREY, p * 2] : [GREY, BLUE, (p - 0.5) * 2];
  return from.map((f, i) => Math.round(f + ((to[i] as number) - f) * t));
}

/** The model's inputs for the grid: cell centres in the stored [0, 1]² coordinates, rows from the top. */
const GRID_INPUT = ((): Float32Array => {
  const xy = new Float32Array(DENSITY * DENSITY * 2);
  for (let row = 0; row < DENSITY; row++) {
    for (let col = 0; col < DENSITY; col++) {
      const k = 2 * (row * DENSITY + col);
      xy[k] = (col + 0.5) / DENSITY;
      xy[k + 1] = 1 - (row + 0.5) / DENSITY;
    }
  }
  return xy;
})();

/**
 * The toy model's predicted probability of class 1 at every grid cell, `[DENSITY²]`, left on the
 * device: the page reads every model's field with one asynchronous read (see {@link drawDecisionBoundary}).
 */
export function classOneProbabilities(model: tfl.LayersModel): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = model.apply(tf.tensor2d(GRID_INPUT, [DENSITY * DENSITY, 2]), { training: false }) as tf.Tensor2D;
    return tf.reshape(tf.slice(tf.softmax(logits), [0, 1], [-1, 1]), [-1]);
  });
}

/**
 * Paints a toy model's decision field on a canvas as TensorFlow Playground does: the predicted
 * probability `p` of class 1 on the DENSITY² grid (from {@link classOneProbabilities}), shaded
 * orange → grey → blue, with the data points on top (white-ringed dots in their class colour).
 */
export function drawDecisionBoundary(canvas: HTMLCanvasElement, p: ArrayLike<number>, data: ImageDataset): void {
  const field = new ImageData(DENSITY, DENSITY);
  for (let i = 0; i < DENSITY * DENSITY; i++) {
    const [r, g, b] = mix(p[i] as number);
    field.data.set([r as number, g as number, b as number, 255], 4 * i);
  }
  const context = canvas.getContext('2d');
  if (context === null) return;
  const cells = document.createElement('canvas');
  cells.width = DENSITY;
  cells.height = DENSITY;
  cells.getContext('2d')?.putImageData(field, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(cells, 0, 0, canvas.width, canvas.height);
  for (let i = 0; i < data.count; i++) {
    const x = (data.images[2 * i] as number) * canvas.width;
    const y = (1 - (data.images[2 * i + 1] as number)) * canvas.height;
    context.beginPath();
    context.arc(x, y, 2.2, 0, 2 * Math.PI);
    context.fillStyle = data.labels[i] === 1 ? '#0877bd' : '#f59322';
    context.fill();
    context.strokeStyle = 'white';
    context.lineWidth = 0.8;
    context.stroke();
  }
}
