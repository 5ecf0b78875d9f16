import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING, evaluateInChromium } from '../testing/chromiumPage.js';
import { TRAINING_STEPS, type WebglTrainingResult } from '../testing/webglTrainingPage.js';

// Training on webgl, which exists only in a browser: headless Chromium on SwiftShader. The same
// promises as on webgpu in Node (deviceStepGuard.test.ts): no synchronous read in a step, weights
// as on cpu, a non-finite step refused on the device and reported without a stall.
describe.runIf(CHROMIUM_MISSING === undefined)('training on webgl in Chromium', () => {
  it('muonWithAdamW trains with no synchronous read in steps 3..N and matches cpu; a NaN step is refused on the device', async () => {
    const page = fileURLToPath(new URL('../testing/webglTrainingPage.ts', import.meta.url));
    const result = await evaluateInChromium<WebglTrainingResult>(page, 'runWebglTraining', 'globalThis.runWebglTraining()');
    expect(result.backend).toBe('webgl');
    expect(result.syncReadsAfterStep2).toBe(0);
    expect(result.losses).toHaveLength(TRAINING_STEPS);
    expect(result.losses.at(-1)).toBeLessThan(result.losses[0] as number);
    // Relative 1e-3, as on webgpu: GPU float32 sums in another order over 8 orthogonalized steps.
    result.webglWeights.forEach((w, k) => {
      const ref = result.cpuWeights[k] as number[];
      const scale = Math.max(...ref.map(Math.abs));
      w.forEach((x, i) => expect(Math.abs(x - (ref[i] as number)) / scale, `weight ${k} entry ${i}`).toBeLessThan(1e-3));
    });
    expect(result.refusal).toMatchObject({ name: 'NonFiniteStepError', step: 1, weightsUnchanged: true, iterations: 0 });
    expect(result.refusal.message).toMatch(/Non-finite \(NaN or Inf\) gradient for 'webgl_refused'/);
  }, 180_000);
});

if (CHROMIUM_MISSING !== undefined) it.skip(`training on webgl in Chromium: skipped, ${CHROMIUM_MISSING}`, () => undefined);
