import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetMissingError } from './datasetMissingError.js';
import { checkImageDataset, type ImageDataset } from './imageDataset.js';
import { parseIdx } from './idx.js';

/** Where Debian's `dataset-fashion-mnist` package puts the IDX files. */
export const FASHION_MNIST_DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist';

/** True when the Fashion-MNIST IDX files are present (the optional `--full` data set). */
export function fashionMnistAvailable(root: string = FASHION_MNIST_DEBIAN_ROOT): boolean {
  return existsSync(join(root, 'train-images-idx3-ubyte.gz'));
}

function readSplit(root: string, prefix: 'train' | 't10k', expected: number, name: string): ImageDataset {
  const hint = 'Install it with `apt-get install dataset-fashion-mnist` (Debian, 30 MB, MIT).';
  const read = (file: string): Uint8Array => {
    const path = join(root, file);
    try {
      return new Uint8Array(gunzipSync(readFileSync(path)));
    } catch (e) {
      throw new DatasetMissingError('fashion-mnist', path, hint, e);
    }
  };
  const images = parseIdx(read(`${prefix}-images-idx3-ubyte.gz`), `${prefix} images`);
  const labels = parseIdx(read(`${prefix}-labels-idx1-ubyte.gz`), `${prefix} labels`);
  if (images.shape.join() !== `${expected},28,28` || labels.shape.join() !== `${expected}`) {
    throw new Error(`fashion-mnist ${prefix}: expected ${expected}×28×28 images and ${expected} labels, ` +
      `got ${images.shape.join('×')} and ${labels.shape.join('×')}`);
  }
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.data[i] as number) / 255;
  const dataset: ImageDataset = {
    name,
    images: pixels,
    labels: new Uint8Array(labels.data),
    count: expected,
    height: 28,
    width: 28,
    channels: 1,
    classes: 10,
    source: 'Debian dataset-fashion-mnist (Zalando Fashion-MNIST, 70 000 images, MIT)',
  };
  checkImageDataset(dataset);
  return dataset;
}

/**
 * Loads Fashion-MNIST with its official split: 60 000 training and 10 000 test images.
 *
 * @throws DatasetMissingError when the Debian package is not installed.
 */
export function loadFashionMnist(root: string = FASHION_MNIST_DEBIAN_ROOT): { train: ImageDataset; test: ImageDataset } {
  return {
    train: readSplit(root, 'train', 60_000, 'fashion-mnist'),
    test: readSplit(root, 't10k', 10_000, 'fashion-mnist'),
  };
}
