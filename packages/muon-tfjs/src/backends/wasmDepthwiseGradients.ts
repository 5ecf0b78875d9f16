import * as tf from '@tensorflow/tfjs-core';
import { float32View, type WasmHeapBackend } from './wasmHeap.js';

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/**
 * Registers `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput` for the
 * wasm backend, which tfjs 4.22 lacks (so `DepthwiseConv2D` and `SeparableConv2D` layers cannot
 * train on wasm without them). With the forward pass
 * y[b, h, w, c·M + m] = Σ_{i,j} x[b, h·sh + i·dh − top, w·sw + j·dw − left, c] · W[i, j, c, m]
 * (M = channel multiplier, x zero outside its bounds), the gradients are
 * dW[i, j, c, m] = Σ_{b,h,w} x[b, h·sh + i·dh − top, …, c] · dy[b, h, w, c·M + m] and
 * dx[b, p, q, c] = Σ over the (h, w, i, j) that read x[b, p, q, c] of W[i, j, c, m] · dy[b, h, w, c·M + m].
 * Both run as direct loops in JavaScript over the wasm heap, summing in float64, with the geometry
 * (padding, strides, dilations) from tfjs-core's `computeConv2DInfo`, as the forward kernel uses.
 * A depthwise layer has kh·kw·C·M weights, so these loops cost as much as its forward pass; no
 * XNNPACK operator computes them. Idempotent; does nothing without the wasm backend.
 */
export function installWasmDepthwiseGradients(): void {
  if (tf.getKernelsForBackend('wasm').length === 0) return;
  if (tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropFilter',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const wasm = backend as unknown as WasmHeapBackend;
        const x = inputs['x'] as tf.TensorInfo;
        const filterShape = attrs?.['filterShape'] as [number, number, number, number];
        const info = convInfo(x.shape as [number, number, number, number], filterShape, attrs);
        const dW = new Float64Array(filterShape.reduce((a, b) => a * b, 1));
        const xs = float32View(wasm, x, 'DepthwiseConv2dNativeBackpropFilter: x');
        const dy = float32View(wasm, inputs['dy'] as tf.TensorInfo, 'DepthwiseConv2dNativeBackpropFilter: dy');
        forEachTap(info, (xAt, dyAt, wAt) => {
          for (let c = 0; c < info.inChannels; c++) {
            const xv = xs[xAt + c] as number;
            for (let m = 0, k = c * info.multiplier; m < info.multiplier; m++, k++) dW[wAt + k] = (dW[wAt + k] as number) + xv * (dy[dyAt + k] as number);
          }
        });
        const out = wasm.makeOutput(filterShape, 'float32');
        float32View(wasm, out, 'DepthwiseConv2dNativeBackpropFilter: output').set(dW);
        return out;
      },
    });
  }
  if (tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm') === undefined) {
    tf.registerKernel({
      kernelName: 'DepthwiseConv2dNativeBackpropInput',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const wasm = backend as unknown as WasmHeapBackend;
        const filter = inputs['filter'] as tf.TensorInfo;
        const inputShape = attrs?.['inputShape'] as [number, number, number, number];
        const info = convInfo(inputShape, filter.shape as [number, number, number, number], attrs);
        const dx = new Float64Array(inputShape.reduce((a, b) => a * b, 1));
        const w = float32View(wasm, filter, 'DepthwiseConv2dNativeBackpropInput: filter');
        const dy = float32View(wasm, inputs['dy'] as tf.TensorInfo, 'DepthwiseConv2dNativeBackpropInput: dy');
        forEachTap(info, (xAt, dyAt, wAt) => {
          for (let c = 0; c < info.inChannels; c++) {
            let sum = 0;
            for (let m = 0, k = c * info.multiplier; m < info.multiplier; m++, k++) sum += (w[wAt + k] as number) * (dy[dyAt + k] as number);
            dx[xAt + c] = (dx[xAt + c] as number) + sum;
          }
        });
        const out = wasm.makeOutput(inputShape, 'float32');
        float32View(wasm, out, 'DepthwiseConv2dNativeBackpropInput: output').set(dx);
        return out;
      },
    });
  }
}

/** The forward geometry of the depthwise convolution, plus its channel multiplier. */
function convInfo(xShape: [number, number, number, number], filterShape: [number, number, number, number], attrs: tf.NamedAttrMap | undefined): Conv2DInfo & { multiplier: number } {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs?.['strides'] as number | [number, number],
    (attrs?.['dilations'] as number | [number, number] | undefined) ?? 1,
    attrs?.['pad'] as 'valid' | 'same' | number,
    attrs?.['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
    true,
  );
  return { ...info, multiplier: filterShape[3] };
}

/**
 * Calls `visit(xAt, dyAt, wAt)` for every (b, h, w, i, j) whose tap reads inside x: the flat
 * offsets of x[b, p, q, 0], dy[b, h, w, 0] and W[i, j, 0, 0] (NHWC, channels innermost).
 */
function forEachTap(info: Conv2DInfo & { multiplier: number }, visit: (xAt: number, dyAt: number, wAt: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  for (let b = 0; b < batchSize; b++) {
    for (let h = 0; h < outHeight; h++) {
      for (let w = 0; w < outWidth; w++) {
        const dyAt = ((b * outHeight + h) * outWidth + w) * outChannels;
        for (let i = 0; i < filterHeight; i++) {
          const p = h * info.strideHeight + i * info.dilationHeight - info.padInfo.top;
          if (p < 0 || p >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const q = w * info.strideWidth + j * info.dilationWidth - info.padInfo.left;
            if (q < 0 || q >= inWidth) continue;
            visit(((b * inHeight + p) * inWidth + q) * inChannels, dyAt, (i * filterWidth + j) * outChannels);
          }
        }
      }
    }
  }
}
