import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../testing/backends.js';
import { adamw, lion, muon, normuon, sophia } from './optimizers.js';
import { backendFloatPrecision } from '../kernels/backendFloatPrecision.js';
import { type BackendFloats, unrepresentableStabilizers } from './backendFloats.js';
import { hybrid } from './HybridOptimizer.js';

const FLOAT16: BackendFloats = { name: 'webgl', floatPrecision: 16 };
const FLOAT32: BackendFloats = { name: 'cpu', floatPrecision: 32 };

describe('unrepresentableStabilizers', () => {
  it('keeps every positive constant at 32 bits, even below the backend epsilon', () => {
    expect(unrepresentableStabilizers([{ option: 'epsilon', value: 1e-10 }], FLOAT32)).toEqual([]);
  });

  // The threshold is tfjs's EPSILON_FLOAT16 = 1e-4 (tfjs-core backends/backend.ts).
  it('at 16 bits, lists exactly the constants below 1e-4', () => {
    const stabilizers = [
      { option: 'epsilon', value: 1e-8, group: 'adamw' },
      { option: 'eps', value: 1e-4, group: 'muon' }, // equal to the threshold: kept
      { option: 'epsilon', value: 1e-3 },
    ];
    expect(unrepresentableStabilizers(stabilizers, FLOAT16)).toEqual([{ option: 'epsilon', value: 1e-8, group: 'adamw' }]);
  });
});

/** float16's smallest normal number, 2⁻¹⁴. */
const FLOAT16_SMALLEST_NORMAL = 2 ** -14;

/**
 * A real backend that stores 16-bit floats is WebGL without float32 render targets, which Node
 * cannot run. This one is tfjs's cpu backend with every cpu kernel, except that `Abs` writes its
 * result as a GPU storing half floats with flush-to-zero does for tiny values (|x| < 2⁻¹⁴ → 0):
 * enough for the precision probe, which sends 1e-8 through `abs`. It exercises the adapter's
 * wiring (which backend is probed, when, and that nothing is written), not fp16 arithmetic.
 */
const FLOAT16_BACKEND = 'cpu-storing-float16';

describe('a step on a 16-bit backend with a constant it cannot store', () => {
  beforeAll(async () => {
    tf.registerBackend(FLOAT16_BACKEND, () => new MathBackendCPU());
    for (const kernel of tf.getKernelsForBackend('cpu')) {
      if (kernel.kernelName !== 'Abs') tf.registerKernel({ ...kernel, backendName: FLOAT16_BACKEND });
    }
    tf.registerKernel({
      kernelName: 'Abs',
      backendName: FLOAT16_BACKEND,
      kernelFunc: ({ inputs, backend }) => {
        const cpu = backend as MathBackendCPU;
        const x = inputs['x'] as tf.TensorInfo;
        const values = (cpu.readSync(x.dataId) as Float32Array).map((v) => (Math.abs(v) < FLOAT16_SMALLEST_NORMAL ? 0 : Math.abs(v)));
        return cpu.makeTensorInfo(x.shape, x.dtype, values);
      },
    });
    await tf.setBackend(FLOAT16_BACKEND);
    await tf.ready();
  });
  afterAll(async () => {
    await useBackend('cpu');
    for (const kernel of tf.getKernelsForBackend(FLOAT16_BACKEND)) tf.unregisterKernel(kernel.kernelName, FLOAT16_BACKEND);
    tf.removeBackend(FLOAT16_BACKEND);
  });

  /** Steps `optimizer` on a fresh 4×4 matrix; returns the error and whether anything changed. */
  let created = 0;
  function stepOnce(makeOptimizer: (w: tf.Variable) => tf.Optimizer): { error: unknown; changed: boolean; iterations: number } {
    created += 1;
    const w = tf.variable(tf.eye(4), true, `float16_check_${String(created)}`);
    const optimizer = makeOptimizer(w);
    const before = w.dataSync().slice();
    let error: unknown;
    try {
      optimizer.applyGradients({ [w.name]: tf.fill([4, 4], 0.5) });
    } catch (e) {
      error = e;
    }
    const changed = w.dataSync().some((x, i) => x !== before[i]);
    w.dispose();
    return { error, changed, iterations: (optimizer as unknown as { iterations: number }).iterations };
  }

  it('the probe finds 16 bits here and 32 on the cpu backend', async () => {
    expect(backendFloatPrecision()).toBe(16);
    await useBackend('cpu');
    expect(backendFloatPrecision()).toBe(32);
    await tf.setBackend(FLOAT16_BACKEND);
  });

  it('AdamW with its default epsilon 1e-8 is refused by name, before anything is written', () => {
    const { error, changed, iterations } = stepOnce(() => adamw());
    expect(String(error)).toMatch(/AdamW.*epsilon = 1e-8 cannot be stored by backend 'cpu-storing-float16'.*16-bit.*≥ 0\.0001/s);
    expect(changed).toBe(false);
    expect(iterations).toBe(0);
  });

  it("the hybrid names the group whose constant vanishes (NorMuon's epsilon 1e-10, Muon's eps 1e-7)", () => {
    const { error, changed } = stepOnce((w) => hybrid([w], { groups: { matrices: { optimizer: 'normuon' } }, label: () => 'matrices' }));
    expect(String(error)).toMatch(/eps = 1e-7 \(group 'matrices'\), epsilon = 1e-10 \(group 'matrices'\)/);
    expect(changed).toBe(false);
  });

  it('Muon, NorMuon and Sophia are checked too; constants at or above 1e-4 step normally', () => {
    expect(String(stepOnce(() => muon()).error)).toMatch(/Muon.*eps = 1e-7 cannot/);
    expect(String(stepOnce(() => normuon({ eps: 1e-4 })).error)).toMatch(/NorMuon.*: epsilon = 1e-10 cannot/);
    expect(String(stepOnce(() => sophia()).error)).toMatch(/Sophia.*epsilon = 1e-15 cannot/);
    for (const makeOptimizer of [() => adamw({ epsilon: 1e-4 }), () => muon({ eps: 1e-4 }), () => sophia({ epsilon: 0 }), () => lion()]) {
      const { error, changed } = stepOnce(makeOptimizer);
      expect(error).toBeUndefined();
      expect(changed).toBe(true);
    }
  });

  it('is checked again when the backend changes under a live optimizer', async () => {
    const optimizer = adamw();
    await useBackend('cpu');
    expect(stepOnce(() => optimizer).error).toBeUndefined();
    await tf.setBackend(FLOAT16_BACKEND);
    const { error, iterations } = stepOnce(() => optimizer);
    expect(String(error)).toMatch(/epsilon = 1e-8/);
    expect(iterations).toBe(1);
  });
});
