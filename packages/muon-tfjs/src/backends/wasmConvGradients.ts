import * as tf from '@tensorflow/tfjs-core';

/**
 * Registers a `Conv2DBackpropFilter` kernel for the wasm backend, which tfjs 4.22 lacks (so a
 * `tf.layers.conv2d`, `conv1d` or `conv2dTranspose` cannot be trained on wasm without it).
 *
 * The filter gradient is itself a convolution: with strides (sh, sw) and the zero-padded input xp,
 * dW[i, j, c, o] = Σ_{b,h,w} xp[b, h·sh + i, w·sw + j, c]·dy[b, h, w, o]. Reading the input
 * channels as the batch and the batch as the channels, it is the 'valid', stride-1 conv2d of
 * xpᵀ `[C, Hp, Wp, B]` with the "filter" dyᵀ `[Ho, Wo, B, O]` dilated by (sh, sw) (the forward
 * stride becomes the dilation), whose first kh × kw outputs are `[C, kh, kw, O]`, transposed back
 * to `[kh, kw, C, O]`. It runs on XNNPACK's Conv2D with the same FLOPs. The padding comes from
 * tfjs-core's `computeConv2DInfo`, as in the forward kernel; NHWC only (tfjs-layers transposes
 * channels-first inputs itself), and conv2d's gradient refuses dilations > 1 before reaching here.
 * Also replaces wasm's `Conv2DBackpropInput` for stride-1 'same' convolutions with odd kernels,
 * where it was 10× slower than a forward conv of the same size (78 ms vs 7.8 ms for
 * 128×14×14×16 → 32 here): then dx is the 'same' conv of dy with the kernel flipped in space and
 * its in/out axes swapped, run on XNNPACK's Conv2D. Other cases use the original kernel.
 * Idempotent; does nothing when the wasm backend is not registered.
 */
export function installWasmConvGradients(): void {
  installInputGradient();
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined) return;
  const pad = tf.getKernel('PadV2', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const conv2d = tf.getKernel('Conv2D', 'wasm');
  const slice = tf.getKernel('Slice', 'wasm');
  if (pad === undefined || transpose === undefined || conv2d === undefined || slice === undefined) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs['x'] as tf.TensorInfo;
      const dy = inputs['dy'] as tf.TensorInfo;
      const filterShape = attrs?.['filterShape'] as [number, number, number, number];
      if (attrs?.['dataFormat'] !== 'NHWC') {
        throw new Error(`Conv2DBackpropFilter (wasm, muon-tfjs): dataFormat must be NHWC, got ${String(attrs?.['dataFormat'])}`);
      }
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        attrs['strides'] as number | [number, number],
        1,
        attrs['pad'] as 'valid' | 'same' | number,
        attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
      );
      const { top, bottom, left, right } = info.padInfo;
      const [kh, kw, inChannels, outChannels] = filterShape;
      const temporaries: tf.TensorInfo[] = [];
      const run = (kernel: tf.KernelConfig, ins: tf.NamedTensorInfoMap, at: tf.NamedAttrMap): tf.TensorInfo => {
        const out = kernel.kernelFunc({ inputs: ins, backend, attrs: at }) as tf.TensorInfo;
        temporaries.push(out);
        return out;
      };
      const padded = top + bottom + left + right === 0
        ? x
        : run(pad, { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
      const xt = run(transpose, { x: padded }, { perm: [3, 1, 2, 0] });
      const dyt = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
      const dilations = [info.strideHeight, info.strideWidth];
      let r = run(conv2d, { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations });
      // Past the last tap the dilated conv reads only padding it does not need: keep kh × kw.
      if (r.shape[1] !== kh || r.shape[2] !== kw) r = run(slice, { x: r }, { begin: [0, 0, 0, 0], size: [inChannels, kh, kw, outChannels] });
      const out = transpose.kernelFunc({ inputs: { x: r }, backend, attrs: { perm: [1, 2, 0, 3] } }) as tf.TensorInfo;
      for (const t of temporaries) (backend as tf.KernelBackend).disposeData(t.dataId);
      return out;
    },
  });
}

let inputGradientInstalled = false;

function installInputGradient(): void {
  const original = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const reverse = tf.getKernel('Reverse', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const conv2d = tf.getKernel('Conv2D', 'wasm');
  if (inputGradientInstalled || original === undefined || reverse === undefined || transpose === undefined || conv2d === undefined) return;
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const dy = inputs['dy'] as tf.TensorInfo;
      const filter = inputs['filter'] as tf.TensorInfo;
      const strides = attrs?.['strides'] as number | [number, number];
      const [kh, kw] = filter.shape as [number, number, number, number];
      const stride1 = Array.isArray(strides) ? strides.every((s) => s === 1) : strides === 1;
      if (attrs?.['pad'] !== 'same' || attrs['dataFormat'] !== 'NHWC' || !stride1 || kh % 2 !== 1 || kw % 2 !== 1) {
        return original.kernelFunc(args);
      }
      const flipped = reverse.kernelFunc({ inputs: { x: filter }, backend, attrs: { dims: [0, 1] } }) as tf.TensorInfo;
      const swapped = transpose.kernelFunc({ inputs: { x: flipped }, backend, attrs: { perm: [0, 1, 3, 2] } }) as tf.TensorInfo;
      const out = conv2d.kernelFunc({
        inputs: { x: dy, filter: swapped },
        backend,
        attrs: { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] },
      });
      (backend as tf.KernelBackend).disposeData(flipped.dataId);
      (backend as tf.KernelBackend).disposeData(swapped.dataId);
      return out;
    },
  });
  inputGradientInstalled = true;
}
