import { describeOrthogonalizerContract } from '../testing/orthogonalizerContract.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';

/**
 * Tolerances (relative Frobenius error against the float64 map U·p(S)·Vᵀ and against
 * `newtonSchulz`). The plain iteration in fp32 measures ≤ 5.4e-6 (cpu and wasm, shapes ≤ 200):
 * 1e-5 as in newtonSchulz.test.ts. The Gram iteration updates R = XXᵀ as ZRZ between restarts, so
 * round-off in R is not corrected by the iteration and reaches the output: measured ≤ 1.6e-5 here
 * (2.2e-5 in the native kernel); 1e-4 keeps a 5× margin and stays 40× below the smallest
 * approximation error of the schedules (polarExpress8 aside, ≥ 4e-3), which these tests resolve.
 */
const PLAIN_TOL = 1e-5;
const GRAM_TOL = 1e-4;

describeOrthogonalizerContract('gramOrthogonalizer() (auto: Gram for rectangular, plain for square)', () => gramOrthogonalizer(), GRAM_TOL);
describeOrthogonalizerContract('gramOrthogonalizer({algorithm: gram, batched})', () => gramOrthogonalizer({ algorithm: 'gram', batchSameShapes: true }), GRAM_TOL);
describeOrthogonalizerContract('gramOrthogonalizer({algorithm: plain, unbatched})', () => gramOrthogonalizer({ algorithm: 'plain', batchSameShapes: false }), PLAIN_TOL);

