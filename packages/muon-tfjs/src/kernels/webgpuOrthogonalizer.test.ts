import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { resolveNewtonSchulz } from '../math/newtonSchulzSchedule.js';
import { relativeFrobenius } from '../diagnostics/float64Matrices.js';
import { useBackend } from '../testing/backends.js';
import { WEBGPU_MISSING } from '../testing/webgpuBackend.js';
import { gramOrthogonalizer } from './gramOrthogonalizer.js';
import { countWebGpuDispatches } from './webgpuDispatches.js';
import { webgpuOrthogonalizer } from './webgpuOrthogonalizer.js';

describe.skipIf(WEBGPU_MISSING !== undefined)('smoke', () => {
  it('runs', async () => {
    for (const algorithm of ['plain', 'gram'] as const) {
      for (const [m, n] of [[48, 96], [96, 48], [70, 70], [130, 200]] as const) {
        await useBackend('cpu');
        const g = tf.randomNormal([m, n], 0, 1, 'float32', 7) as tf.Tensor2D;
        const values = g.dataSync();
        const schedule = resolveNewtonSchulz({ coefficients: 'jordan' });
        const [cpu] = gramOrthogonalizer({ algorithm })([g], schedule);
        const expected = await (cpu as tf.Tensor2D).data();
        await useBackend('webgpu');
        const input = tf.tensor2d(values, [m, n]);
        const counted = countWebGpuDispatches(() => webgpuOrthogonalizer({ algorithm })([input], schedule));
        const got = await (counted.result[0] as tf.Tensor2D).data();
        console.log(algorithm, m, n, relativeFrobenius(got, expected), counted.dispatches, [...counted.byProgram]);
      }
    }
  });
});
