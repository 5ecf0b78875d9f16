import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Matrix } from 'ml-matrix';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { composedPolynomial } from '../math/coefficients.js';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { matrixWithSingularValues, maxAbsDiff, relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { polarFactor } from '../diagnostics/polarFactor.js';
import type { PageMatrix, WebglKernelResult } from '../testing/webglOrthogonalizerPage.js';

// WebGL exists only in a browser: the kernel runs in Debian's headless Chromium, on SwiftShader
// (a CPU implementation of the GPU; full float32 textures), through a bundled page.
const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

/** Two 48×96 matrices (one batched program chain) and a 96×48 one (iterated on its transpose). */
const SHAPES = [[48, 96], [48, 96], [96, 48]] as const;

/** Singular values from 1e-2 to 3, geometric: the range the quintics are designed for, after normalization. */
function spread(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 * 1e-2 ** (1 - i / (count - 1)));
}

const inputs = SHAPES.map(([m, n], k) => ({ m, n, ...matrixWithSingularValues(m, n, spread(Math.min(m, n)), 100 + 7 * k) }));
const pageMatrices: PageMatrix[] = inputs.map(({ m, n, g }) => ({ rows: m, cols: n, values: Array.from(Float32Array.from(g.to1DArray())) }));

async function runInChromium(coefficients: 'jordan' | 'polarExpress8'): Promise<WebglKernelResult> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('../testing/webglOrthogonalizerPage.ts', import.meta.url))],
    bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false, logLevel: 'warning',
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
  try {
    const page = await browser.newPage();
    await page.goto('about:blank');
    await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '', type: 'module' });
    await page.waitForFunction("'runWebglOrthogonalizer' in globalThis");
    return (await page.evaluate(`globalThis.runWebglOrthogonalizer(${JSON.stringify(pageMatrices)}, ${JSON.stringify(coefficients)})`)) as WebglKernelResult;
  } finally {
    await browser.close();
  }
}

describe.runIf(existsSync(CHROMIUM))('webglOrthogonalizer in Chromium (WebGL on SwiftShader)', () => {
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
});

if (!existsSync(CHROMIUM)) it.skip(`webglOrthogonalizer in Chromium: skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM)`, () => undefined);
