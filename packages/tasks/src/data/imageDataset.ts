/** An image classification data set held in memory: N images of H×W×C pixels in [0, 1]. */
export interface ImageDataset {
  /** Short name used in results ("mnist", "fashion-mnist"). */
  readonly name: string;
  /** Pixels, N·H·W·C floats in [0, 1], image-major, row-major (NHWC). */
  readonly images: Float32Array;
  /** Class index per image, 0..classes-1. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  /** Where it came from, for the report. */
  readonly source: string;
}

/** Checks sizes and value ranges; throws an Error naming the data set and the first problem. */
export function checkImageDataset(d: ImageDataset): void {
  const pixels = d.height * d.width * d.channels;
  if (d.images.length !== d.count * pixels) {
    throw new Error(`${d.name}: expected ${d.count}×${pixels} pixels, got ${d.images.length} values`);
  }
  if (d.labels.length !== d.count) {
    throw new Error(`${d.name}: expected ${d.count} labels, got ${d.labels.length}`);
  }
  for (let i = 0; i < d.labels.length; i++) {
    const l = d.labels[i] as number;
    if (l >= d.classes) throw new Error(`${d.name}: label ${l} at index ${i} is not below ${d.classes}`);
  }
  for (let i = 0; i < d.images.length; i++) {
    const v = d.images[i] as number;
    if (!(v >= 0 && v <= 1)) throw new Error(`${d.name}: pixel ${i} is ${v}, outside [0, 1]`);
  }
}
