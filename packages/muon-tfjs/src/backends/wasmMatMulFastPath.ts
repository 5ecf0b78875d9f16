import * as tf from '@tensorflow/tfjs-core';

/**
 * On the wasm backend, XNNPACK serves only a plain 2-D `matMul`: with `transposeA`/`transposeB`
 * the kernel falls back to a scalar loop, 10-14× slower here (1024×256 by 256×256: 5.0 ms plain,
 * 58-72 ms with a transpose flag, 5.8 ms with an explicit transpose first). Every backward pass
 * of a Dense layer multiplies with a transposed operand, so without this the benchmark would
 * time the fallback loop, not the model or the optimizer.
 *
 * This wraps the wasm `BatchMatMul` and `_FusedMatMul` kernels: a transposed operand is first
 * materialized by the wasm `Transpose` kernel, then the original kernel runs without flags.
 * The result is the same matrix product (summation order aside); all optimizers see the same
 * wrapped kernels. Idempotent; does nothing when the wasm backend is not registered.
 */
export function installWasmMatMulFastPath(): void {
  if (installed) return;
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (transpose === undefined) return;
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(name, 'wasm');
    if (original === undefined) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        const { inputs, backend, attrs } = args;
        const a = inputs['a'] as tf.TensorInfo;
        const b = inputs['b'] as tf.TensorInfo;
        const transposeA = attrs?.['transposeA'] === true;
        const transposeB = attrs?.['transposeB'] === true;
        if (!transposeA && !transposeB) return original.kernelFunc(args);
        const temporaries: tf.TensorInfo[] = [];
        const swapLastTwo = (x: tf.TensorInfo): tf.TensorInfo => {
          const rank = x.shape.length;
          const perm = [...Array(rank).keys()];
          perm[rank - 2] = rank - 1;
          perm[rank - 1] = rank - 2;
          const t = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as tf.TensorInfo;
          temporaries.push(t);
          return t;
        };
        const out = original.kernelFunc({
          inputs: { ...inputs, a: transposeA ? swapLastTwo(a) : a, b: transposeB ? swapLastTwo(b) : b },
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
        for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
        return out;
      },
    });
  }
  installed = true;
}

let installed = false;
