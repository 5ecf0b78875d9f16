/**
 * muon-tfjs/diagnostics: exact float64 references and test matrices, for checking what the
 * optimizers compute. A separate entry point so that the main one does not load `ml-matrix`.
 */
export { polarFactor, singularValues, type Float64Matrix } from './diagnostics/polarFactor.js';
export { aolRescaled, newtonSchulzReference } from './diagnostics/newtonSchulzReference.js';
export {
  matrixWithSingularValues,
  maxAbsDiff,
  randomOrthonormal,
  relativeFrobenius,
  seededNormal,
  seededUniform,
  toFloat64Matrix,
} from './diagnostics/float64Matrices.js';
export { spectrumOf, type Spectrum, type SpectrumOptions, type SpectrumQuantiles } from './diagnostics/spectrumOf.js';
export { type GramSpectrumEngine } from './diagnostics/gramSingularValuesOn.js';
export {
  spectrumTracker,
  type NewtonSchulzOutputStats,
  type NormalizedSpectrumStats,
  type SpectrumRecord,
  type SpectrumTracker,
  type SpectrumTrackerOptions,
  type TrackableOptimizer,
} from './diagnostics/spectrumTracker.js';
