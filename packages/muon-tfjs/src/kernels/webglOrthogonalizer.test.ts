import { fileURLToPath } from 'node:url';
import { Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { composedPolynomial } from '../math/coefficients.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { matrixWithSingularValues, maxAbsDiff, relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { newtonSchulzReference } from '../diagnostics/newtonSchulzReference.js';
import { polarFactor } from '../diagnostics/polarFactor.js';
import { CHROMIUM_MISSING, evaluateInChromium } from '../testing/chromiumPage.js';
import type { PageMatrix, WebglKernelResult } from '../testing/webglOrthogonalizerPage.js';

// WebGL exists only in a browser: the kernel runs in Debian's headless Chromium, on SwiftShader
// (full float32 textures), through a bundled page.

/** Two 48×96 matrices (one batched program chain) and a 96×48 one (iterated on its transpose). */
const SHAPES = [[48, 96], [48, 96], [96, 48]] as const;

/** Singular values from 1e-2 to 3, geometric: the range the quintics are designed for, after normalization. */
function spread(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 * 1e-2 ** (1 - i / (count - 1)));
}

const inputs = SHAPES.map(([m, n], k) => ({ m, n, ...matrixWithSingularValues(m, n, spread(Math.min(m, n)), 100 + 7 * k) }));
const pageMatrices: PageMatrix[] = inputs.map(({ m, n, g }) => ({ rows: m, cols: n, values: Array.from(Float32Array.from(g.to1DArray())) }));

function runInChromium(coefficients: 'jordan' | 'polarExpress8' | 'turboMuon'): Promise<WebglKernelResult> {
  const page = fileURLToPath(new URL('../testing/webglOrthogonalizerPage.ts', import.meta.url));
  return evaluateInChromium(page, 'runWebglOrthogonalizer', `globalThis.runWebglOrthogonalizer(${JSON.stringify(pageMatrices)}, ${JSON.stringify(coefficients)})`);
}

describe.runIf(CHROMIUM_MISSING === undefined)('webglOrthogonalizer in Chromium (WebGL on SwiftShader)', () => {
  it('computes the map of newtonSchulz: within float32 round-off of the TF.js kernel and of the float64 U·p(S)·Vᵀ', async () => {
    const result = await runInChromium('jordan');
    expect(result.backend).toBe('webgl');
    expect(result.leaked).toBe(0);
    const schedule = resolveNewtonSchulz({ coefficients: 'jordan' });
    inputs.forEach(({ m, n, u, v }, k) => {
      const webgl = result.webgl[k] as number[];
      expect(webgl).toHaveLength(m * n);
      // The same float32 products summed in another order: entries of size ~1/√48 differ by 1e-6-ish.
      expect(maxAbsDiff(webgl, result.tfjs[k] as number[])).toBeLessThan(1e-5);
      const s = spread(Math.min(m, n));
      const frobenius = Math.hypot(...s);
      const expected = u.mmul(Matrix.diag(s.map((x) => composedPolynomial(schedule, x / frobenius)))).mmul(v.transpose());
      // Float32 round-off through five iterations, as the orthogonalizer contract allows the TF.js kernel.
      expect(relativeFrobenius(webgl, expected.to1DArray())).toBeLessThan(1e-4);
    });
  }, 120_000);

  it('converges to the float64 polar factor with a convergent schedule (polarExpress8)', async () => {
    const result = await runInChromium('polarExpress8');
    inputs.forEach(({ g }, k) => {
      const webgl = result.webgl[k] as number[];
      expect(maxAbsDiff(webgl, result.tfjs[k] as number[])).toBeLessThan(1e-5);
      // polarExpress8 maps normalized singular values ≥ 1e-2/‖s‖ to within ~1e-2 of 1.
      expect(relativeFrobenius(webgl, polarFactor({ rows: g.rows, cols: g.columns, data: Float64Array.from(g.to1DArray()) }).data)).toBeLessThan(2e-2);
    });
  }, 120_000);

  it('runs an AOL schedule (turboMuon) through the TF.js kernel: the float64 map of the AOL-rescaled input', async () => {
    const result = await runInChromium('turboMuon');
    const schedule = resolveNewtonSchulz({ coefficients: 'turboMuon' });
    inputs.forEach(({ m, n }, k) => {
      const webgl = result.webgl[k] as number[];
      const seen = { rows: m, cols: n, data: Float64Array.from(pageMatrices[k]?.values ?? []) };
      // The TF.js kernel, batched on webgl: the contract's float32 tolerance for four iterations.
      expect(relativeFrobenius(webgl, newtonSchulzReference(seen, schedule).data)).toBeLessThan(1e-4);
    });
  }, 120_000);
});

if (CHROMIUM_MISSING !== undefined) it.skip(`webglOrthogonalizer in Chromium: skipped, ${CHROMIUM_MISSING}`, () => undefined);
